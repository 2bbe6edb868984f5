#!/usr/bin/env node
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from './config.ts';
import { type Roles, startArauto, VERSION } from './main.ts';
import { openStore } from './store/index.ts';

const USAGE = `Arauto ${VERSION} — webhooks for credit pipelines

Usage:
  arauto serve [--api-only | --dispatcher-only]   run the API and the dispatcher (default: both)
  arauto migrate                                  apply pending database migrations and exit
  arauto help

Configuration comes from the environment (PORT, ARAUTO_DATABASE_URL, ARAUTO_ADMIN_TOKEN, …);
see docs/configuration.md.`;

/** SIGTERM must end the process within 10 s even if something hangs. */
const HARD_STOP_MS = 9_500;

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { 'api-only': { type: 'boolean' }, 'dispatcher-only': { type: 'boolean' } },
  });
  if (values['api-only'] && values['dispatcher-only'])
    throw new ConfigError('choose one of --api-only and --dispatcher-only');
  const roles: Roles = { api: !values['dispatcher-only'], dispatcher: !values['api-only'] };
  const arauto = await startArauto(loadConfig(), roles);
  if (arauto.generatedAdminToken) {
    process.stderr.write(
      `\nGenerated the operator token. It is shown only this once; keep it somewhere safe:\n\n  ${arauto.generatedAdminToken}\n\n` +
        'Use it as "Authorization: Bearer <token>". To choose your own, set ARAUTO_ADMIN_TOKEN.\n\n',
    );
  }
  const shutdown = (signal: string) => {
    arauto.logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      arauto.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, HARD_STOP_MS).unref();
    arauto.close().then(
      () => process.exit(0),
      (error: unknown) => {
        arauto.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function migrateOnly(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  // Migrations never read secrets: no master key needed (nor generated) to run them.
  const store = openStore({ databaseUrl: config.databaseUrl, poolSize: 1, logger, masterKey: null });
  try {
    const applied = await store.migrate();
    process.stdout.write(
      applied.length ? `Applied migrations ${applied.join(', ')}.\n` : 'The database is up to date.\n',
    );
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'migrate':
      return migrateOnly();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      process.stderr.write(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `arauto: ${error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))}\n`,
  );
  process.exit(1);
});
