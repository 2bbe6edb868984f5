import type { Db, Queryable } from './db.ts';

/**
 * Forward-only schema changes, one entry per version, with the DDL of each engine side by side
 * so that a change to one is seen to need its twin. Never edit a released entry: add one.
 * Times are epoch milliseconds (bigint) on both engines, which keeps every other query shared.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core delivery engine',
    sqlite: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE partners (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        cnpj TEXT NOT NULL UNIQUE,
        contact_name TEXT NOT NULL,
        contact_email TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE endpoints (
        id TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL REFERENCES partners (id),
        url TEXT NOT NULL,
        environment TEXT NOT NULL,
        event_types TEXT,
        description TEXT,
        enabled INTEGER NOT NULL,
        disabled_reason TEXT,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE INDEX endpoints_by_partner ON endpoints (partner_id, environment) WHERE deleted_at IS NULL;
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        partner_id TEXT NOT NULL REFERENCES partners (id),
        environment TEXT NOT NULL,
        type TEXT NOT NULL,
        subject TEXT,
        data TEXT NOT NULL,
        idempotency_key TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX events_by_partner ON events (partner_id, environment, seq);
      CREATE TABLE idempotency_keys (
        partner_id TEXT NOT NULL,
        key TEXT NOT NULL,
        event_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (partner_id, key)
      );
      CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events (id),
        endpoint_id TEXT NOT NULL REFERENCES endpoints (id),
        status TEXT NOT NULL,
        attempt_count INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        leased_until INTEGER,
        lease_token INTEGER NOT NULL DEFAULT 0,
        manual_retry INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_by_event ON deliveries (event_id);
      CREATE TABLE attempts (
        delivery_id TEXT NOT NULL REFERENCES deliveries (id),
        number INTEGER NOT NULL,
        at INTEGER NOT NULL,
        status_code INTEGER,
        duration_ms INTEGER NOT NULL,
        error TEXT,
        error_message TEXT,
        response_body TEXT,
        PRIMARY KEY (delivery_id, number)
      );
    `,
    postgres: `
      CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE partners (
        id text PRIMARY KEY,
        name text NOT NULL,
        cnpj text NOT NULL UNIQUE,
        contact_name text NOT NULL,
        contact_email text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE TABLE endpoints (
        id text PRIMARY KEY,
        partner_id text NOT NULL REFERENCES partners (id),
        url text NOT NULL,
        environment text NOT NULL,
        event_types text,
        description text,
        enabled boolean NOT NULL,
        disabled_reason text,
        secret text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        deleted_at bigint
      );
      CREATE INDEX endpoints_by_partner ON endpoints (partner_id, environment) WHERE deleted_at IS NULL;
      CREATE TABLE events (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        partner_id text NOT NULL REFERENCES partners (id),
        environment text NOT NULL,
        type text NOT NULL,
        subject text,
        data text NOT NULL,
        idempotency_key text,
        created_at bigint NOT NULL
      );
      CREATE INDEX events_by_partner ON events (partner_id, environment, seq);
      CREATE TABLE idempotency_keys (
        partner_id text NOT NULL,
        key text NOT NULL,
        event_id text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (partner_id, key)
      );
      CREATE TABLE deliveries (
        id text PRIMARY KEY,
        event_id text NOT NULL REFERENCES events (id),
        endpoint_id text NOT NULL REFERENCES endpoints (id),
        status text NOT NULL,
        attempt_count integer NOT NULL DEFAULT 0,
        next_attempt_at bigint,
        leased_until bigint,
        lease_token integer NOT NULL DEFAULT 0,
        manual_retry boolean NOT NULL DEFAULT false,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_by_event ON deliveries (event_id);
      CREATE TABLE attempts (
        delivery_id text NOT NULL REFERENCES deliveries (id),
        number integer NOT NULL,
        at bigint NOT NULL,
        status_code integer,
        duration_ms integer NOT NULL,
        error text,
        error_message text,
        response_body text,
        PRIMARY KEY (delivery_id, number)
      );
    `,
  },
  {
    version: 2,
    name: 'credit pipeline: proposals, simulations, stores, per-resource URLs, ordering, feed',
    sqlite: `
      ALTER TABLE endpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'endpoint';
      ALTER TABLE endpoints ADD COLUMN store_ids TEXT;
      ALTER TABLE endpoints ADD COLUMN ordering TEXT NOT NULL DEFAULT 'subject';
      CREATE UNIQUE INDEX endpoints_resource_url ON endpoints (partner_id, environment, url)
        WHERE kind = 'resource' AND deleted_at IS NULL;
      ALTER TABLE events ADD COLUMN store_id TEXT;
      CREATE INDEX events_by_subject ON events (subject, seq);
      ALTER TABLE deliveries ADD COLUMN subject TEXT;
      ALTER TABLE deliveries ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE deliveries ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX deliveries_line ON deliveries (endpoint_id, subject, seq) WHERE status = 'pending';
      CREATE TABLE stores (
        partner_id TEXT NOT NULL REFERENCES partners (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        cnpj TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (partner_id, id)
      );
      CREATE TABLE partner_secrets (
        partner_id TEXT NOT NULL REFERENCES partners (id),
        environment TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (partner_id, environment)
      );
      CREATE TABLE proposals (
        id TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL REFERENCES partners (id),
        environment TEXT NOT NULL,
        external_id TEXT,
        store_id TEXT,
        webhook_url TEXT,
        status TEXT NOT NULL,
        previous_status TEXT,
        reason TEXT,
        description TEXT,
        status_changed_at INTEGER NOT NULL,
        data TEXT NOT NULL,
        approval TEXT,
        approved_at INTEGER,
        payment TEXT,
        payment_approved_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX proposals_by_partner ON proposals (partner_id, environment, id);
      CREATE TABLE simulations (
        id TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL REFERENCES partners (id),
        environment TEXT NOT NULL,
        store_id TEXT,
        webhook_url TEXT,
        created_at INTEGER NOT NULL
      );
    `,
    postgres: `
      ALTER TABLE endpoints ADD COLUMN kind text NOT NULL DEFAULT 'endpoint';
      ALTER TABLE endpoints ADD COLUMN store_ids text;
      ALTER TABLE endpoints ADD COLUMN ordering text NOT NULL DEFAULT 'subject';
      CREATE UNIQUE INDEX endpoints_resource_url ON endpoints (partner_id, environment, url)
        WHERE kind = 'resource' AND deleted_at IS NULL;
      ALTER TABLE events ADD COLUMN store_id text;
      -- The catch-up feed pages by (txid, seq) below the oldest running transaction, so an event
      -- whose transaction commits late is never skipped by a cursor that has moved past its seq.
      ALTER TABLE events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
      CREATE INDEX events_by_subject ON events (subject, seq);
      CREATE INDEX events_feed ON events (partner_id, environment, txid, seq);
      ALTER TABLE deliveries ADD COLUMN subject text;
      ALTER TABLE deliveries ADD COLUMN seq bigint NOT NULL DEFAULT 0;
      ALTER TABLE deliveries ADD COLUMN ordered boolean NOT NULL DEFAULT false;
      CREATE INDEX deliveries_line ON deliveries (endpoint_id, subject, seq) WHERE status = 'pending';
      CREATE TABLE stores (
        partner_id text NOT NULL REFERENCES partners (id),
        id text NOT NULL,
        name text NOT NULL,
        cnpj text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (partner_id, id)
      );
      CREATE TABLE partner_secrets (
        partner_id text NOT NULL REFERENCES partners (id),
        environment text NOT NULL,
        secret text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (partner_id, environment)
      );
      CREATE TABLE proposals (
        id text PRIMARY KEY,
        partner_id text NOT NULL REFERENCES partners (id),
        environment text NOT NULL,
        external_id text,
        store_id text,
        webhook_url text,
        status text NOT NULL,
        previous_status text,
        reason text,
        description text,
        status_changed_at bigint NOT NULL,
        data text NOT NULL,
        approval text,
        approved_at bigint,
        payment text,
        payment_approved_at bigint,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE INDEX proposals_by_partner ON proposals (partner_id, environment, id);
      CREATE TABLE simulations (
        id text PRIMARY KEY,
        partner_id text NOT NULL REFERENCES partners (id),
        environment text NOT NULL,
        store_id text,
        webhook_url text,
        created_at bigint NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'platform formats and outbound authentication per endpoint',
    sqlite: `
      ALTER TABLE endpoints ADD COLUMN format TEXT NOT NULL DEFAULT 'standard';
      ALTER TABLE endpoints ADD COLUMN method TEXT NOT NULL DEFAULT 'POST';
      ALTER TABLE endpoints ADD COLUMN payload TEXT NOT NULL DEFAULT 'full';
      ALTER TABLE endpoints ADD COLUMN signature TEXT NOT NULL DEFAULT 'v1';
      ALTER TABLE endpoints ADD COLUMN format_options TEXT;
      ALTER TABLE endpoints ADD COLUMN auth TEXT;
      ALTER TABLE endpoints ADD COLUMN signing_key TEXT;
    `,
    postgres: `
      ALTER TABLE endpoints ADD COLUMN format text NOT NULL DEFAULT 'standard';
      ALTER TABLE endpoints ADD COLUMN method text NOT NULL DEFAULT 'POST';
      ALTER TABLE endpoints ADD COLUMN payload text NOT NULL DEFAULT 'full';
      ALTER TABLE endpoints ADD COLUMN signature text NOT NULL DEFAULT 'v1';
      ALTER TABLE endpoints ADD COLUMN format_options text;
      ALTER TABLE endpoints ADD COLUMN auth text;
      ALTER TABLE endpoints ADD COLUMN signing_key text;
    `,
  },
];

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`;

/**
 * Applies every migration not yet recorded, in one transaction, and returns the versions it
 * applied. Several processes starting together on PostgreSQL serialise on an advisory lock.
 */
export async function migrate(db: Db, schema: string | null = null): Promise<number[]> {
  return db.transaction(async (tx: Queryable) => {
    if (tx.engine === 'postgres') {
      await tx.exec(`SELECT pg_advisory_xact_lock(hashtext('arauto_migrations'))`);
      if (schema) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
    await tx.exec(LEDGER);
    const rows = await tx.all<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await tx.exec(tx.engine === 'postgres' ? migration.postgres : migration.sqlite);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      done.push(migration.version);
    }
    return done;
  });
}
