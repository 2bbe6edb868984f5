import { newId } from '../domain/ids.ts';
import { newSigningSecret } from '../domain/signature.ts';
import type { Endpoint, Environment } from '../domain/types.ts';
import { notFound } from '../errors.ts';
import { bool, type Db, type Queryable } from './db.ts';
import type { Page } from './partners.ts';

interface EndpointRow {
  id: string;
  partner_id: string;
  url: string;
  environment: Environment;
  event_types: string | null;
  description: string | null;
  enabled: number | boolean;
  disabled_reason: string | null;
  secret: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  'id, partner_id, url, environment, event_types, description, enabled, disabled_reason, secret, created_at, updated_at';

const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id,
  partnerId: r.partner_id,
  url: r.url,
  environment: r.environment,
  eventTypes: r.event_types === null ? null : (JSON.parse(r.event_types) as string[]),
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
  description: string | null;
}

async function requirePartner(q: Queryable, partnerId: string): Promise<void> {
  const found = await q.get('SELECT 1 AS one FROM partners WHERE id = $1', [partnerId]);
  if (!found) throw notFound('partner', partnerId);
}

async function findLive(q: Queryable, id: string): Promise<Endpoint> {
  const row = await q.get<EndpointRow>(
    `SELECT ${COLUMNS} FROM endpoints WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  if (!row) throw notFound('endpoint', id);
  return toEndpoint(row);
}

export class Endpoints {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  create(input: NewEndpoint, now: number): Promise<Endpoint> {
    const endpoint: Endpoint = {
      id: newId('ep'),
      ...input,
      enabled: true,
      disabledReason: null,
      secret: newSigningSecret(),
      createdAt: now,
      updatedAt: now,
    };
    return this.#db.transaction(async (tx) => {
      await requirePartner(tx, input.partnerId);
      await tx.run(
        `INSERT INTO endpoints (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          endpoint.id,
          endpoint.partnerId,
          endpoint.url,
          endpoint.environment,
          endpoint.eventTypes && JSON.stringify(endpoint.eventTypes),
          endpoint.description,
          true,
          null,
          endpoint.secret,
          now,
          now,
        ],
      );
      return endpoint;
    });
  }

  get(id: string): Promise<Endpoint> {
    return findLive(this.#db, id);
  }

  async listByPartner(partnerId: string, page: Page): Promise<Endpoint[]> {
    await requirePartner(this.#db, partnerId);
    const rows = await this.#db.all<EndpointRow>(
      `SELECT ${COLUMNS} FROM endpoints
       WHERE partner_id = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3`,
      [partnerId, page.after, page.limit],
    );
    return rows.map(toEndpoint);
  }

  /**
   * Reads the endpoint, lets `change` compute (and validate) its next state, and writes it, in
   * one transaction; `change` throwing leaves the endpoint untouched.
   */
  update(id: string, change: (current: Endpoint) => Endpoint, now: number): Promise<Endpoint> {
    return this.#db.transaction(async (tx) => {
      const next = { ...change(await findLive(tx, id)), updatedAt: now };
      await tx.run(
        `UPDATE endpoints SET url = $2, environment = $3, event_types = $4, description = $5, enabled = $6,
           disabled_reason = $7, updated_at = $8
         WHERE id = $1`,
        [
          id,
          next.url,
          next.environment,
          next.eventTypes && JSON.stringify(next.eventTypes),
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
