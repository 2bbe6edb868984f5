import type { Logger } from 'pino';
import { type Db, type Engine, parseDatabaseUrl } from './db.ts';
import { Deliveries } from './deliveries.ts';
import { Endpoints } from './endpoints.ts';
import { Events } from './events.ts';
import { migrate } from './migrations.ts';
import { Partners } from './partners.ts';
import { PgDb } from './postgres.ts';
import { Proposals } from './proposals.ts';
import { DeliveryQueue } from './queue.ts';
import { Simulations, Stores } from './resources.ts';
import { sealer } from './sealed.ts';
import { Settings } from './settings.ts';
import { SqliteDb } from './sqlite.ts';
import { Waker } from './waker.ts';

export { isDatabaseUnavailable } from './errors.ts';
export type { Cursor, FeedPage, NewEvent } from './events.ts';
export type { NewProposal, StatusChange } from './proposals.ts';
export type {
  ClaimedDelivery,
  DeliveryQueue,
  DeliveryResult,
  DeliveryTarget,
  EndpointFilter,
  Lease,
} from './queue.ts';
export { requireStores } from './resources.ts';

/** Everything that reads or writes the database. The rest of Arauto never sees SQL. */
export interface Store {
  readonly engine: Engine;
  readonly partners: Partners;
  readonly endpoints: Endpoints;
  readonly events: Events;
  readonly deliveries: Deliveries;
  readonly stores: Stores;
  readonly simulations: Simulations;
  readonly proposals: Proposals;
  readonly queue: DeliveryQueue;
  readonly settings: Settings;
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Calls `onWakeup` when another process has made deliveries due (PostgreSQL only). */
  onWakeup(onWakeup: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl: string;
  poolSize: number;
  logger: Logger;
  /** Encrypts secrets and credentials at rest (AES-256-GCM); null only for `arauto migrate`. */
  masterKey: Buffer | null;
}

export function openStore(options: StoreOptions): Store {
  const location = parseDatabaseUrl(options.databaseUrl);
  const db: Db =
    location.engine === 'sqlite'
      ? new SqliteDb(location.target)
      : new PgDb({
          connectionString: location.target,
          schema: location.schema,
          poolSize: options.poolSize,
          onError: (error, context) => options.logger.error({ err: error }, context),
        });
  // One channel per schema, so deployments sharing a database do not wake each other.
  const channel = `arauto_wakeup${location.schema ? `_${location.schema}` : ''}`;
  const waker = new Waker(db, channel, (error) =>
    options.logger.warn({ err: error }, 'NOTIFY failed; dispatchers will poll'),
  );
  const events = new Events(db, waker);
  const seal = sealer(options.masterKey);
  return {
    engine: db.engine,
    partners: new Partners(db),
    endpoints: new Endpoints(db, seal),
    events,
    deliveries: new Deliveries(db, waker),
    stores: new Stores(db, seal),
    simulations: new Simulations(db, seal),
    proposals: new Proposals(db, waker, seal),
    queue: new DeliveryQueue(db, seal),
    settings: new Settings(db),
    migrate: () => migrate(db, location.schema),
    ping: async () => {
      await db.get('SELECT 1 AS one');
    },
    onWakeup: async (onWakeup) => (await db.listen(channel, onWakeup)) ?? (async () => {}),
    close: () => {
      waker.close();
      return db.close();
    },
  };
}
