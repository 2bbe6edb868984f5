import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import { type Api, buildApi, sha256 } from './api/server.ts';
import { type Config, ConfigError } from './config.ts';
import { Courier } from './delivery/courier.ts';
import { Dispatcher } from './delivery/dispatcher.ts';
import { HttpSender } from './delivery/http.ts';
import { newMasterKey, parseMasterKey } from './domain/secret-box.ts';
import { parseDatabaseUrl } from './store/db.ts';
import { openStore, type Store } from './store/index.ts';

/** The composition root: the one place that builds objects and wires them together. */

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface Roles {
  api: boolean;
  dispatcher: boolean;
}

export interface Arauto {
  store: Store;
  api: Api | null;
  dispatcher: Dispatcher | null;
  /** Base URL the API listens on, e.g. http://127.0.0.1:8080. */
  url: string | null;
  /** Set when this start generated the operator token: show it once, it is not stored. */
  generatedAdminToken: string | null;
  logger: Logger;
  /** Stops the API, lets the dispatcher finish or release in-flight attempts, closes the database. */
  close(): Promise<void>;
}

const TOKEN_SETTING = 'admin_token_sha256';

/**
 * The operator token's hash: from ARAUTO_ADMIN_TOKEN, or generated on the first start and kept
 * (hashed) in the database so later starts and other processes accept the same token.
 */
async function adminTokenHash(
  store: Store,
  config: Config,
): Promise<{ hash: Buffer; generated: string | null }> {
  if (config.adminToken !== null) return { hash: sha256(config.adminToken), generated: null };
  const stored = await store.settings.get(TOKEN_SETTING);
  if (stored !== null) return { hash: Buffer.from(stored, 'hex'), generated: null };
  const token = `arauto_${randomBytes(32).toString('base64url')}`;
  const hash = sha256(token).toString('hex');
  const winner = await store.settings.setIfAbsent(TOKEN_SETTING, hash);
  // Another process starting at the same moment may have stored its own token first.
  return { hash: Buffer.from(winner, 'hex'), generated: winner === hash ? token : null };
}

/**
 * The key that encrypts secrets at rest. PostgreSQL deployments run several processes, possibly
 * on several machines, so the operator must provide it; the embedded default keeps a generated
 * key beside its database file (mode 0600), where a backup of `./data` picks it up.
 */
export function resolveMasterKey(config: Config, log: Logger): Buffer {
  if (config.masterKey) return config.masterKey;
  const location = parseDatabaseUrl(config.databaseUrl);
  if (location.engine === 'postgres') {
    throw new ConfigError(
      'ARAUTO_MASTER_KEY is required with PostgreSQL: set it to 32 random bytes in base64 ' +
        '(e.g. `openssl rand -base64 32`), the same on every process.',
    );
  }
  if (location.target === ':memory:') return randomBytes(32);
  const file = `${location.target}.key`;
  try {
    return parseMasterKey(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`${file}: ${(error as Error).message}`);
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${newMasterKey()}\n`, { mode: 0o600, flag: 'wx' });
    log.warn({ file }, 'generated the master key that encrypts secrets; back it up with the database');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process won the race
  }
  return parseMasterKey(readFileSync(file, 'utf8'));
}

export async function startArauto(config: Config, roles: Roles, logger?: Logger): Promise<Arauto> {
  const log = logger ?? pino({ level: config.logLevel, base: { service: 'arauto' } });
  const store = openStore({
    databaseUrl: config.databaseUrl,
    poolSize: config.databasePoolSize,
    logger: log,
    masterKey: resolveMasterKey(config, log),
  });
  const closers: Array<() => Promise<void>> = [];
  try {
    const applied = await store.migrate();
    if (applied.length > 0) log.info({ versions: applied }, 'applied database migrations');
    if (config.allowPrivateNetworks) {
      log.warn(
        'ARAUTO_ALLOW_PRIVATE_NETWORKS is on: webhooks may reach loopback, private and cloud-metadata addresses. ' +
          'Use it for local development only.',
      );
    }

    // One outbound client per process: the dispatcher's deliveries and the API's test sends.
    const sender = new HttpSender({
      timeoutMs: config.deliveryTimeoutMs,
      allowPrivateNetworks: config.allowPrivateNetworks,
      connectionsPerOrigin: config.perOriginConcurrency,
      tlsCa: config.tlsCa,
    });
    closers.push(() => sender.close());
    const courier = new Courier({
      sender,
      userAgent: `Arauto/${VERSION}`,
      timeoutMs: config.deliveryTimeoutMs,
    });

    let dispatcher: Dispatcher | null = null;
    if (roles.dispatcher) {
      const running = new Dispatcher({
        queue: store.queue,
        courier,
        logger: log.child({ component: 'dispatcher' }),
        retrySchedule: config.retrySchedule,
        leaseMs: config.leaseMs,
        batchSize: config.claimBatchSize,
        maxInFlight: config.maxInFlight,
        perOriginConcurrency: config.perOriginConcurrency,
        pollIntervalMs: config.pollIntervalMs,
      });
      dispatcher = running;
      closers.push(() => running.stop(config.shutdownGraceMs));
      running.start();
      closers.push(await store.onWakeup(() => running.notify()));
      log.info({ engine: store.engine, maxInFlight: config.maxInFlight }, 'dispatcher started');
    }

    let api: Api | null = null;
    let url: string | null = null;
    let generatedAdminToken: string | null = null;
    if (roles.api) {
      const token = await adminTokenHash(store, config);
      generatedAdminToken = token.generated;
      const app = buildApi({
        store,
        logger: log,
        adminTokenHash: token.hash,
        maxBodyBytes: config.maxBodyBytes,
        allowPrivateNetworks: config.allowPrivateNetworks,
        firstAttemptDelayMs: config.retrySchedule[0] ?? 0,
        onDue: () => dispatcher?.notify(),
        transitions: config.transitions,
        testSend: (event, target) =>
          courier.deliver(
            event,
            target,
            { deliveryId: 'test', attempt: 1 },
            AbortSignal.timeout(config.deliveryTimeoutMs + 5000),
          ),
      });
      api = app;
      closers.push(() => app.close());
      await app.listen({ port: config.port, host: config.host });
      const address = app.server.address();
      if (address && typeof address === 'object') {
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        url = `http://${host}:${address.port}`;
      }
      log.info({ url, engine: store.engine, dispatcher: roles.dispatcher }, 'Arauto API listening');
    }

    let closing: Promise<void> | null = null;
    return {
      store,
      api,
      dispatcher,
      url,
      generatedAdminToken,
      logger: log,
      close: () => {
        closing ??= (async () => {
          // Last built, first stopped: the API stops taking events before the dispatcher drains.
          for (const close of closers.reverse()) await close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
}
