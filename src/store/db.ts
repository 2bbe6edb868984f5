/**
 * The narrow SQL interface every repository is written against. SQL uses `$1, $2…` placeholders
 * on both engines; the SQLite driver rewrites them to `?1, ?2…`. Array parameters become
 * PostgreSQL arrays or, on SQLite, JSON text — `inList()` writes the matching SQL.
 */
export type Engine = 'sqlite' | 'postgres';

export type Scalar = string | number | boolean | null;
export type Param = Scalar | readonly Scalar[];

export interface Queryable {
  readonly engine: Engine;
  all<T>(sql: string, params?: readonly Param[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /** Runs a parameterless script of several statements (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Like transaction(), for many small concurrent writes (publishes). On SQLite the calls made
   * within one event-loop turn share a single commit, each in its own savepoint so that one
   * failing rolls back alone; every caller hears back only after that commit. PostgreSQL runs
   * each in its own transaction on the pool, where concurrency already overlaps commits.
   */
  groupedTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` whenever another process signals `channel`; PostgreSQL only (LISTEN).
   * Returns a function that stops listening. SQLite has a single writer, so it returns null.
   */
  listen(channel: string, onNotify: () => void): Promise<(() => Promise<void>) | null>;
  close(): Promise<void>;
}

/** `x IN list` for an array parameter `$n`. */
export function inList(engine: Engine, n: number): string {
  return engine === 'postgres' ? `= ANY($${n})` : `IN (SELECT value FROM json_each($${n}))`;
}

/** `x NOT IN list` for an array parameter `$n` (true for an empty list). */
export function notInList(engine: Engine, n: number): string {
  return engine === 'postgres' ? `<> ALL($${n})` : `NOT IN (SELECT value FROM json_each($${n}))`;
}

/** SQLite has no boolean type and returns 0/1; PostgreSQL returns booleans. */
export const bool = (value: unknown): boolean => value === true || value === 1;

export interface DatabaseLocation {
  engine: Engine;
  /** File path or `:memory:` for SQLite; connection string for PostgreSQL. */
  target: string;
  /** PostgreSQL schema (from `?schema=`); lets several deployments or test runs share a database. */
  schema: string | null;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads `ARAUTO_DATABASE_URL`: `sqlite:<path>`, `sqlite::memory:`, `postgres://…` or
 * `postgresql://…` (with an optional `schema=` query parameter).
 *
 * @example parseDatabaseUrl('sqlite:./data/arauto.db') // { engine: 'sqlite', target: './data/arauto.db', schema: null }
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (target === '')
      throw new Error('ARAUTO_DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/arauto.db');
    return { engine: 'sqlite', target, schema: null };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema');
    if (schema !== null && !SCHEMA_NAME.test(schema)) {
      throw new Error(`ARAUTO_DATABASE_URL: schema ${JSON.stringify(schema)} must match ${SCHEMA_NAME}`);
    }
    parsed.searchParams.delete('schema');
    return { engine: 'postgres', target: parsed.toString(), schema };
  }
  throw new Error('ARAUTO_DATABASE_URL must start with sqlite: or postgres://');
}
