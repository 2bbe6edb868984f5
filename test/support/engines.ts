import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The database engines a test file runs against. Every storage and end-to-end test loops over
 * these: SQLite always, PostgreSQL when test/run.ts found it (ARAUTO_TEST_PG_URL).
 */
export interface TestEngine {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty database: a new SQLite file or a new PostgreSQL schema. */
  freshDatabaseUrl(): Promise<string>;
  /** Drops what freshDatabaseUrl created. */
  cleanup(): Promise<void>;
}

const pgUrl = process.env.ARAUTO_TEST_PG_URL ?? '';

function sqliteEngine(): TestEngine {
  const files: string[] = [];
  return {
    name: 'sqlite',
    async freshDatabaseUrl() {
      const file = join(tmpdir(), `arauto-test-${randomBytes(6).toString('hex')}.db`);
      files.push(file);
      return `sqlite:${file}`;
    },
    async cleanup() {
      for (const file of files.splice(0)) {
        for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
      }
    },
  };
}

function postgresEngine(): TestEngine {
  const schemas: string[] = [];
  return {
    name: 'postgres',
    async freshDatabaseUrl() {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      const url = new URL(pgUrl);
      url.searchParams.set('schema', schema);
      return url.toString();
    },
    async cleanup() {
      const drop = schemas.splice(0);
      if (drop.length === 0) return;
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        for (const schema of drop) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export function testEngines(): TestEngine[] {
  return pgUrl ? [sqliteEngine(), postgresEngine()] : [sqliteEngine()];
}
