/**
 * `npm test`: finds out whether PostgreSQL is reachable, says so, and runs every test file with
 * Node's test runner. Without PostgreSQL the SQLite run still passes and the skipped
 * PostgreSQL run is reported; in CI (CI=true) a missing PostgreSQL fails the run.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import pg from 'pg';

const url = process.env.ARAUTO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const required = process.env.CI === 'true' || process.env.ARAUTO_TEST_REQUIRE_POSTGRES === 'true';

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const problem = await reachable();
if (problem === null) {
  process.stdout.write(
    `PostgreSQL: ${url} — running every storage and end-to-end test on SQLite and PostgreSQL.\n`,
  );
} else if (required) {
  process.stderr.write(`PostgreSQL is required here (CI) but ${url} is not reachable: ${problem}\n`);
  process.exit(1);
} else {
  process.stdout.write(
    `PostgreSQL not reachable at ${url} (${problem}): SKIPPED the PostgreSQL run; testing SQLite only.\n` +
      'Set ARAUTO_TEST_DATABASE_URL to point at a PostgreSQL server to include it.\n',
  );
}

const files = process.argv.length > 2 ? process.argv.slice(2) : globSync('test/**/*.test.ts').sort();
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=3', '--test-timeout=120000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, ARAUTO_TEST_PG_URL: problem === null ? url : '' } },
);
if (problem !== null) process.stdout.write('Reminder: the PostgreSQL run was SKIPPED (see above).\n');
process.exit(result.status ?? 1);
