import { newId } from '../domain/ids.ts';
import { newSigningSecret } from '../domain/signature.ts';
import type { Endpoint, Environment, Ordering } from '../domain/types.ts';
import { notFound } from '../errors.ts';
import { bool, type Db, type Queryable } from './db.ts';
import type { Page } from './partners.ts';
import { requirePartner } from './partners.ts';

interface EndpointRow {
  id: string;
  partner_id: string;
  kind: 'endpoint' | 'resource';
  url: string;
  environment: Environment;
  event_types: string | null;
  store_ids: string | null;
  ordering: Ordering;
  description: string | null;
  enabled: number | boolean;
  disabled_reason: string | null;
  secret: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  'id, partner_id, kind, url, environment, event_types, store_ids, ordering, description, enabled, disabled_reason, secret, created_at, updated_at';

const jsonList = (text: string | null): string[] | null =>
  text === null ? null : (JSON.parse(text) as string[]);

const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id,
  partnerId: r.partner_id,
  kind: r.kind,
  url: r.url,
  environment: r.environment,
  eventTypes: jsonList(r.event_types),
  storeIds: jsonList(r.store_ids),
  ordering: r.ordering,
  description: r.description,
  enabled: bool(r.enabled),
  disabledReason: r.disabled_reason,
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface NewEndpoint {
  partnerId: string;
  url: string;
  environment: Environment;
  eventTypes: string[] | null;
  storeIds: string[] | null;
  ordering: Ordering;
  description: string | null;
}

async function findLive(q: Queryable, id: string): Promise<Endpoint> {
  const row = await q.get<EndpointRow>(
    `SELECT ${COLUMNS} FROM endpoints WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  if (!row) throw notFound('endpoint', id);
  return toEndpoint(row);
}

async function insert(q: Queryable, e: Endpoint): Promise<void> {
  await q.run(
    `INSERT INTO endpoints (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      e.id,
      e.partnerId,
      e.kind,
      e.url,
      e.environment,
      e.eventTypes && JSON.stringify(e.eventTypes),
      e.storeIds && JSON.stringify(e.storeIds),
      e.ordering,
      e.description,
      e.enabled,
      e.disabledReason,
      e.secret,
      e.createdAt,
      e.updatedAt,
    ],
  );
}

/**
 * The hidden endpoint behind a `webhook_url` given on a proposal or simulation: one per partner,
 * environment and URL, shared by every resource that names that URL, signed with the partner's
 * secret for that environment. Returns its id.
 */
export async function ensureResourceEndpoint(
  tx: Queryable,
  partnerId: string,
  environment: Environment,
  url: string,
  secret: string,
  now: number,
): Promise<string> {
  const existing = await tx.get<{ id: string }>(
    `SELECT id FROM endpoints
     WHERE partner_id = $1 AND environment = $2 AND url = $3 AND kind = 'resource' AND deleted_at IS NULL`,
    [partnerId, environment, url],
  );
  if (existing) return existing.id;
  const endpoint: Endpoint = {
    id: newId('ep'),
    partnerId,
    kind: 'resource',
    url,
    environment,
    eventTypes: null,
    storeIds: null,
    ordering: 'subject',
    description: 'webhook_url of a proposal or simulation',
    enabled: true,
    disabledReason: null,
    secret,
    createdAt: now,
    updatedAt: now,
  };
  await insert(tx, endpoint);
  return endpoint.id;
}

export class Endpoints {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** `check` runs inside the transaction, after the partner is known to exist (store ids, …). */
  create(input: NewEndpoint, now: number, check?: (tx: Queryable) => Promise<void>): Promise<Endpoint> {
    const endpoint: Endpoint = {
      id: newId('ep'),
      kind: 'endpoint',
      ...input,
      enabled: true,
      disabledReason: null,
      secret: newSigningSecret(),
      createdAt: now,
      updatedAt: now,
    };
    return this.#db.transaction(async (tx) => {
      await requirePartner(tx, input.partnerId);
      await check?.(tx);
      await insert(tx, endpoint);
      return endpoint;
    });
  }

  get(id: string): Promise<Endpoint> {
    return findLive(this.#db, id);
  }

  async listByPartner(partnerId: string, kind: Endpoint['kind'], page: Page): Promise<Endpoint[]> {
    await requirePartner(this.#db, partnerId);
    const rows = await this.#db.all<EndpointRow>(
      `SELECT ${COLUMNS} FROM endpoints
       WHERE partner_id = $1 AND kind = $2 AND deleted_at IS NULL AND id > $3 ORDER BY id LIMIT $4`,
      [partnerId, kind, page.after, page.limit],
    );
    return rows.map(toEndpoint);
  }

  /**
   * Reads the endpoint, lets `change` compute (and validate) its next state, and writes it, in
   * one transaction; `change` throwing leaves the endpoint untouched.
   */
  update(
    id: string,
    change: (current: Endpoint, tx: Queryable) => Promise<Endpoint> | Endpoint,
    now: number,
  ): Promise<Endpoint> {
    return this.#db.transaction(async (tx) => {
      const next = { ...(await change(await findLive(tx, id), tx)), updatedAt: now };
      await tx.run(
        `UPDATE endpoints SET url = $2, environment = $3, event_types = $4, store_ids = $5, ordering = $6,
           description = $7, enabled = $8, disabled_reason = $9, updated_at = $10
         WHERE id = $1`,
        [
          id,
          next.url,
          next.environment,
          next.eventTypes && JSON.stringify(next.eventTypes),
          next.storeIds && JSON.stringify(next.storeIds),
          next.ordering,
          next.description,
          next.enabled,
          next.disabledReason,
          now,
        ],
      );
      return next;
    });
  }

  /**
   * Soft delete: delivery history keeps pointing at the row. Deliveries still pending are
   * closed by the dispatcher as `endpoint_deleted` when they come due.
   */
  async delete(id: string, now: number): Promise<void> {
    const changed = await this.#db.run(
      'UPDATE endpoints SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL',
      [id, now],
    );
    if (changed === 0) throw notFound('endpoint', id);
  }
}
