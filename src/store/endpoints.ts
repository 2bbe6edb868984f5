import { newId } from '../domain/ids.ts';
import { newSigningSecret } from '../domain/signature.ts';
import { newSigningKeyPair } from '../domain/signature-v1a.ts';
import type { Endpoint, EndpointAuth, Environment, Ordering, SignatureScheme } from '../domain/types.ts';
import { notFound } from '../errors.ts';
import type { FormatName, HttpMethod, PayloadMode } from '../formats/types.ts';
import { bool, type Db, type Queryable } from './db.ts';
import type { Page } from './partners.ts';
import { requirePartner } from './partners.ts';
import { endpointAad, type Sealer } from './sealed.ts';

export interface EndpointRow {
  id: string;
  partner_id: string;
  kind: 'endpoint' | 'resource';
  url: string;
  environment: Environment;
  event_types: string | null;
  store_ids: string | null;
  ordering: Ordering;
  format: FormatName;
  method: HttpMethod;
  payload: PayloadMode;
  format_options: string | null;
  signature: SignatureScheme;
  auth: string | null;
  description: string | null;
  enabled: number | boolean;
  disabled_reason: string | null;
  secret: string;
  signing_key: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  'id, partner_id, kind, url, environment, event_types, store_ids, ordering, format, method, payload, format_options, ' +
  'signature, auth, description, enabled, disabled_reason, secret, signing_key, created_at, updated_at';

/** The endpoint columns the dispatcher needs (store/queue.ts). */
export const DELIVERY_COLUMNS =
  'id, url, format, method, payload, format_options, signature, auth, secret, signing_key, enabled, deleted_at';

const jsonList = (text: string | null): string[] | null =>
  text === null ? null : (JSON.parse(text) as string[]);

/** Credentials are stored as one sealed JSON document; `none` leaves the column empty. */
export function openAuth(sealer: Sealer, id: string, sealed: string | null): EndpointAuth {
  return sealed === null
    ? { type: 'none' }
    : (JSON.parse(sealer.open(sealed, endpointAad(id, 'auth'))) as EndpointAuth);
}

const sealAuth = (sealer: Sealer, id: string, auth: EndpointAuth): string | null =>
  auth.type === 'none' ? null : sealer.seal(JSON.stringify(auth), endpointAad(id, 'auth'));

const toEndpoint = (sealer: Sealer, r: EndpointRow): Endpoint => ({
  id: r.id,
  partnerId: r.partner_id,
  kind: r.kind,
  url: r.url,
  environment: r.environment,
  eventTypes: jsonList(r.event_types),
  storeIds: jsonList(r.store_ids),
  ordering: r.ordering,
  format: r.format,
  method: r.method,
  payload: r.payload,
  formatOptions: r.format_options === null ? null : (JSON.parse(r.format_options) as Record<string, unknown>),
  signature: r.signature,
  auth: openAuth(sealer, r.id, r.auth),
  description: r.description,
  enabled: bool(r.enabled),
  disabledReason: r.disabled_reason,
  secret: sealer.open(r.secret, endpointAad(r.id, 'secret')),
  signingKey: sealer.open(r.signing_key, endpointAad(r.id, 'signing_key')),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type NewEndpoint = Pick<
  Endpoint,
  | 'partnerId'
  | 'url'
  | 'environment'
  | 'eventTypes'
  | 'storeIds'
  | 'ordering'
  | 'format'
  | 'method'
  | 'payload'
  | 'formatOptions'
  | 'signature'
  | 'auth'
  | 'description'
>;

/** Defaults for what a caller does not choose: the Standard Webhooks contract, no credentials. */
export const STANDARD_DELIVERY = {
  ordering: 'subject',
  format: 'standard',
  method: 'POST',
  payload: 'full',
  formatOptions: null,
  signature: 'v1',
  auth: { type: 'none' },
} as const satisfies Partial<NewEndpoint>;

async function findLive(q: Queryable, sealer: Sealer, id: string): Promise<Endpoint> {
  const row = await q.get<EndpointRow>(
    `SELECT ${COLUMNS} FROM endpoints WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  if (!row) throw notFound('endpoint', id);
  return toEndpoint(sealer, row);
}

async function insert(q: Queryable, sealer: Sealer, e: Endpoint): Promise<void> {
  await q.run(
    `INSERT INTO endpoints (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
    [
      e.id,
      e.partnerId,
      e.kind,
      e.url,
      e.environment,
      e.eventTypes && JSON.stringify(e.eventTypes),
      e.storeIds && JSON.stringify(e.storeIds),
      e.ordering,
      e.format,
      e.method,
      e.payload,
      e.formatOptions && JSON.stringify(e.formatOptions),
      e.signature,
      sealAuth(sealer, e.id, e.auth),
      e.description,
      e.enabled,
      e.disabledReason,
      sealer.seal(e.secret, endpointAad(e.id, 'secret')),
      sealer.seal(e.signingKey, endpointAad(e.id, 'signing_key')),
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
  sealer: Sealer,
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
    ...STANDARD_DELIVERY,
    description: 'webhook_url of a proposal or simulation',
    enabled: true,
    disabledReason: null,
    secret,
    signingKey: newSigningKeyPair().secret,
    createdAt: now,
    updatedAt: now,
  };
  await insert(tx, sealer, endpoint);
  return endpoint.id;
}

export class Endpoints {
  readonly #db: Db;
  readonly #sealer: Sealer;

  constructor(db: Db, sealer: Sealer) {
    this.#db = db;
    this.#sealer = sealer;
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
      signingKey: newSigningKeyPair().secret,
      createdAt: now,
      updatedAt: now,
    };
    return this.#db.transaction(async (tx) => {
      await requirePartner(tx, input.partnerId);
      await check?.(tx);
      await insert(tx, this.#sealer, endpoint);
      return endpoint;
    });
  }

  get(id: string): Promise<Endpoint> {
    return findLive(this.#db, this.#sealer, id);
  }

  async listByPartner(partnerId: string, kind: Endpoint['kind'], page: Page): Promise<Endpoint[]> {
    await requirePartner(this.#db, partnerId);
    const rows = await this.#db.all<EndpointRow>(
      `SELECT ${COLUMNS} FROM endpoints
       WHERE partner_id = $1 AND kind = $2 AND deleted_at IS NULL AND id > $3 ORDER BY id LIMIT $4`,
      [partnerId, kind, page.after, page.limit],
    );
    return rows.map((r) => toEndpoint(this.#sealer, r));
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
      const next = { ...(await change(await findLive(tx, this.#sealer, id), tx)), updatedAt: now };
      await tx.run(
        `UPDATE endpoints SET url = $2, environment = $3, event_types = $4, store_ids = $5, ordering = $6,
           format = $7, method = $8, payload = $9, format_options = $10, signature = $11, auth = $12,
           description = $13, enabled = $14, disabled_reason = $15, updated_at = $16
         WHERE id = $1`,
        [
          id,
          next.url,
          next.environment,
          next.eventTypes && JSON.stringify(next.eventTypes),
          next.storeIds && JSON.stringify(next.storeIds),
          next.ordering,
          next.format,
          next.method,
          next.payload,
          next.formatOptions && JSON.stringify(next.formatOptions),
          next.signature,
          sealAuth(this.#sealer, id, next.auth),
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
