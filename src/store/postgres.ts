import pg from 'pg';
import type { Db, Param, Queryable } from './db.ts';

const INT8 = 20;

// bigint columns hold epoch milliseconds and counters, far below 2^53: numbers, not strings.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PgOptions {
  connectionString: string;
  schema: string | null;
  poolSize: number;
  /** Where background connection failures go; they must never crash the process. */
  onError: (error: Error, context: string) => void;
}

/**
 * PostgreSQL through a pg pool. Each distinct SQL text becomes a named prepared statement, so
 * the hot queries are planned once per connection.
 */
export class PgDb implements Db {
  readonly engine = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #names = new Map<string, string>();
  readonly #options: PgOptions;
  readonly #pooled: Queryable;

  constructor(options: PgOptions) {
    this.#options = options;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize,
      types,
      options: options.schema ? `-c search_path=${options.schema}` : undefined,
      application_name: 'arauto',
      // Without these a silently dead server (no RST) would hang queries forever.
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // An idle client that loses its connection emits here; without a listener the process dies.
    this.#pool.on('error', (error) => options.onError(error, 'idle PostgreSQL connection failed'));
    this.#pooled = this.#queryable(this.#pool);
  }

  get schema(): string | null {
    return this.#options.schema;
  }

  #query(sql: string, params: readonly Param[]): pg.QueryConfig {
    let name = this.#names.get(sql);
    if (!name) {
      name = `arauto_${this.#names.size}`;
      this.#names.set(sql, name);
    }
    return { name, text: sql, values: params as unknown[] };
  }

  #queryable(client: pg.Pool | pg.PoolClient): Queryable {
    return {
      engine: 'postgres',
      all: async <T>(sql: string, params: readonly Param[] = []) =>
        (await client.query(this.#query(sql, params))).rows as T[],
      get: async <T>(sql: string, params: readonly Param[] = []) =>
        (await client.query(this.#query(sql, params))).rows[0] as T | undefined,
      run: async (sql: string, params: readonly Param[] = []) =>
        (await client.query(this.#query(sql, params))).rowCount ?? 0,
      exec: async (sql: string) => {
        await client.query(sql);
      },
    };
  }

  all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.#pooled.all<T>(sql, params);
  }

  get<T>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return this.#pooled.get<T>(sql, params);
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.#pooled.run(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#pooled.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no pool listener: a connection lost between two statements would
    // otherwise be an uncaught 'error' event and take the process down.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(this.#queryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      // A client whose connection failed is in an unknown state: destroy it instead of reusing it.
      client.off('error', onError);
      client.release(broken);
    }
  }

  groupedTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    let client: pg.Client | null = null;
    let stopped = false;
    let retryTimer: NodeJS.Timeout | undefined;

    const connect = async (): Promise<void> => {
      if (stopped) return;
      const next = new pg.Client({ connectionString: this.#options.connectionString, types });
      next.on('notification', () => onNotify());
      next.on('error', (error) => {
        this.#options.onError(error, 'LISTEN connection failed; reconnecting');
        void next.end().catch(() => {});
        schedule();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
        client = next;
        // Anything published while we were disconnected is found by the regular poll; wake
        // up once now so it is not left waiting for the next tick.
        onNotify();
      } catch (error) {
        this.#options.onError(error as Error, 'LISTEN connection failed; reconnecting');
        void next.end().catch(() => {});
        schedule();
      }
    };
    const schedule = (): void => {
      client = null;
      if (stopped || retryTimer) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void connect();
      }, 1000);
      retryTimer.unref();
    };

    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retryTimer);
      const current: pg.Client | null = client;
      client = null;
      if (current) await current.end().catch(() => {});
    };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
