import { matchesEventType } from '../domain/event-types.ts';
import { newId } from '../domain/ids.ts';
import type { Environment, EventRecord, Ordering } from '../domain/types.ts';
import { AppError, notFound } from '../errors.ts';
import { type FormatName, type HttpMethod, type PayloadMode, renderRequest } from '../formats/index.ts';
import type { Db, Queryable } from './db.ts';

interface EventRow {
  id: string;
  partner_id: string;
  environment: Environment;
  type: string;
  subject: string | null;
  store_id: string | null;
  data: string;
  idempotency_key: string | null;
  created_at: number;
}

const COLUMNS = 'id, partner_id, environment, type, subject, store_id, data, idempotency_key, created_at';
const JOINED_COLUMNS = COLUMNS.split(', ')
  .map((c) => `e.${c}`)
  .join(', ');

export const toEvent = (r: EventRow): EventRecord => ({
  id: r.id,
  partnerId: r.partner_id,
  environment: r.environment,
  type: r.type,
  subject: r.subject,
  storeId: r.store_id,
  data: r.data,
  idempotencyKey: r.idempotency_key,
  createdAt: r.created_at,
});

/** How long an idempotency key returns the event it first created. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** Advisory-lock class for delivery lines (endpoint, subject) on PostgreSQL. */
const LINE_LOCK = 7741;

/** An event to publish; a null `storeId` is taken from the proposal or simulation the subject names. */
export type NewEvent = Pick<
  EventRecord,
  'partnerId' | 'environment' | 'type' | 'subject' | 'storeId' | 'data' | 'idempotencyKey'
>;

export interface Published {
  event: EventRecord;
  /** false when the idempotency key matched an earlier event: nothing was written. */
  created: boolean;
  /** Deliveries created; `due` of them can go at once, the rest wait for an earlier one. */
  deliveries: number;
  due: number;
}

export interface PublishOptions {
  now: number;
  firstAttemptDelayMs: number;
  wakeupChannel: string;
}

interface Target {
  id: string;
  url: string;
  ordering: Ordering;
}

/**
 * Serialises publishes and completions on the same delivery lines (PostgreSQL; SQLite has one
 * writer). Without it a completion could look for the next waiting delivery just before a
 * concurrent publish commits one, and that delivery would wait forever. Keys are taken in
 * sorted order so that two transactions never wait for each other's locks.
 */
export async function lockLines(
  tx: Queryable,
  lines: ReadonlyArray<{ endpointId: string; subject: string }>,
) {
  if (tx.engine !== 'postgres' || lines.length === 0) return;
  await tx.all(
    `SELECT pg_advisory_xact_lock(${LINE_LOCK}, k) FROM (
       SELECT DISTINCT hashtext(x) AS k FROM unnest($1::text[]) AS x) AS keys ORDER BY k`,
    [lines.map((l) => `${l.endpointId} ${l.subject}`)],
  );
}

/** The proposal or simulation a subject names, when it is one. */
async function subjectResource(
  tx: Queryable,
  input: NewEvent,
): Promise<{ store_id: string | null; webhook_url: string | null } | undefined> {
  const match = input.subject ? /^(proposal|simulation)\/(.+)$/.exec(input.subject) : null;
  if (!match) return undefined;
  const table = match[1] === 'proposal' ? 'proposals' : 'simulations';
  return tx.get(
    `SELECT store_id, webhook_url FROM ${table} WHERE id = $1 AND partner_id = $2 AND environment = $3`,
    [match[2] ?? '', input.partnerId, input.environment],
  );
}

/**
 * Who receives an event: the partner's enabled endpoints in its environment whose event types
 * and stores match, plus the `webhook_url` of the proposal or simulation it is about. A URL
 * registered in several places receives the event once (registered endpoints win, oldest
 * first, so their secret signs it).
 */
async function targets(
  tx: Queryable,
  event: EventRecord,
  storeId: string | null,
  resourceUrl: string | null,
) {
  const rows = await tx.all<
    Target & {
      event_types: string | null;
      store_ids: string | null;
      format: FormatName;
      method: HttpMethod;
      payload: PayloadMode;
      format_options: string | null;
    }
  >(
    `SELECT id, url, ordering, event_types, store_ids, format, method, payload, format_options FROM endpoints
     WHERE partner_id = $1 AND environment = $2 AND kind = 'endpoint' AND enabled AND deleted_at IS NULL
     ORDER BY id`,
    [event.partnerId, event.environment],
  );
  const byUrl = new Map<string, Target>();
  for (const row of rows) {
    if (!matchesEventType(row.event_types === null ? null : JSON.parse(row.event_types), event.type))
      continue;
    const stores = row.store_ids === null ? null : (JSON.parse(row.store_ids) as string[]);
    if (stores !== null && (storeId === null || !stores.includes(storeId))) continue;
    // A platform format may not express every event (BMP has no code for pre_approved, no
    // customer events): such an endpoint is not a target, rather than a delivery that must fail.
    if (
      row.format !== 'standard' &&
      !renderRequest(event, {
        url: row.url,
        method: row.method,
        format: row.format,
        payload: row.payload,
        formatOptions: row.format_options === null ? null : JSON.parse(row.format_options),
      }).ok
    ) {
      continue;
    }
    if (!byUrl.has(row.url)) byUrl.set(row.url, { id: row.id, url: row.url, ordering: row.ordering });
  }
  if (resourceUrl !== null && !byUrl.has(resourceUrl)) {
    const resource = await tx.get<Target>(
      `SELECT id, url, ordering FROM endpoints
       WHERE partner_id = $1 AND environment = $2 AND url = $3 AND kind = 'resource' AND enabled AND deleted_at IS NULL`,
      [event.partnerId, event.environment, resourceUrl],
    );
    if (resource) byUrl.set(resource.url, resource);
  }
  return [...byUrl.values()];
}

/**
 * Stores the event and one delivery per target inside `tx`: once the caller commits, every
 * delivery exists, and a crash before then leaves nothing. With ordering by subject, a
 * delivery whose line (endpoint, subject) already has a pending one is stored waiting
 * (`next_attempt_at` null) and released when the one before it is final.
 */
export async function publishIn(tx: Queryable, input: NewEvent, options: PublishOptions): Promise<Published> {
  const { now } = options;
  const partner = await tx.get('SELECT 1 AS one FROM partners WHERE id = $1', [input.partnerId]);
  if (!partner) throw notFound('partner', input.partnerId);

  const eventId = newId('evt');
  if (input.idempotencyKey !== null) {
    const earlier = await claimIdempotencyKey(tx, input.partnerId, input.idempotencyKey, eventId, now);
    if (earlier) return { event: earlier, created: false, deliveries: 0, due: 0 };
  }
  const resource = await subjectResource(tx, input);
  const storeId = input.storeId ?? resource?.store_id ?? null;
  const event: EventRecord = { id: eventId, ...input, storeId, createdAt: now };
  const inserted = await tx.get<{ seq: number }>(
    `INSERT INTO events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`,
    [
      event.id,
      event.partnerId,
      event.environment,
      event.type,
      event.subject,
      event.storeId,
      event.data,
      event.idempotencyKey,
      now,
    ],
  );
  const seq = Number(inserted?.seq ?? 0);

  const found = await targets(tx, event, storeId, resource?.webhook_url ?? null);
  const subject = event.subject;
  const ordered = subject === null ? [] : found.filter((t) => t.ordering === 'subject');
  if (subject !== null)
    await lockLines(
      tx,
      ordered.map((t) => ({ endpointId: t.id, subject })),
    );
  let due = 0;
  for (const target of found) {
    const inLine = subject !== null && target.ordering === 'subject';
    const waiting =
      inLine &&
      (await tx.get(
        `SELECT 1 AS one FROM deliveries WHERE endpoint_id = $1 AND subject = $2 AND status = 'pending' LIMIT 1`,
        [target.id, subject],
      )) !== undefined;
    if (!waiting) due++;
    await tx.run(
      `INSERT INTO deliveries
         (id, event_id, endpoint_id, status, next_attempt_at, subject, seq, ordered, created_at, updated_at)
       VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $8)`,
      [
        newId('dlv'),
        event.id,
        target.id,
        waiting ? null : now + options.firstAttemptDelayMs,
        subject,
        seq,
        inLine,
        now,
      ],
    );
  }
  if (due > 0 && tx.engine === 'postgres') {
    // Delivered to LISTENing dispatchers on commit, so they need not wait for their poll.
    await tx.get('SELECT pg_notify($1, $2)', [options.wakeupChannel, '']);
  }
  return { event, created: true, deliveries: found.length, due };
}

/** An opaque, stable position in a partner's event feed. */
export type Cursor = string;

const encodeCursor = (parts: readonly (string | number)[]): Cursor =>
  Buffer.from(parts.join(':')).toString('base64url');

/** [transaction id, seq]; SQLite cursors carry only the seq. */
function decodeCursor(cursor: Cursor | null, engine: Queryable['engine']): [string, number] {
  if (cursor === null || cursor === '') return ['0', 0];
  const parts = Buffer.from(cursor, 'base64url').toString().split(':');
  const expected = engine === 'postgres' ? 2 : 1;
  if (parts.length !== expected || !parts.every((p) => /^\d{1,19}$/.test(p))) {
    throw new AppError(422, 'invalid_cursor', 'The cursor is not one this feed returned.', [
      { path: '/after', message: 'is not a cursor of this feed' },
    ]);
  }
  return engine === 'postgres' ? [parts[0] ?? '0', Number(parts[1])] : ['0', Number(parts[0])];
}

export interface FeedPage {
  events: EventRecord[];
  /** Pass it as `after` to continue; unchanged when there was nothing new. */
  nextCursor: Cursor;
}

export class Events {
  readonly #db: Db;
  readonly #wakeupChannel: string;

  constructor(db: Db, wakeupChannel: string) {
    this.#db = db;
    this.#wakeupChannel = wakeupChannel;
  }

  /** Publishes in its own transaction (on SQLite, sharing a commit with concurrent publishes). */
  publish(input: NewEvent, now: number, firstAttemptDelayMs: number): Promise<Published> {
    return this.#db.groupedTransaction((tx) =>
      publishIn(tx, input, { now, firstAttemptDelayMs, wakeupChannel: this.#wakeupChannel }),
    );
  }

  /** The options publishIn needs, for callers publishing inside their own transaction. */
  publishOptions(now: number, firstAttemptDelayMs: number): PublishOptions {
    return { now, firstAttemptDelayMs, wakeupChannel: this.#wakeupChannel };
  }

  async get(id: string): Promise<EventRecord> {
    const row = await this.#db.get<EventRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [id]);
    if (!row) throw notFound('event', id);
    return toEvent(row);
  }

  /** Every event about one subject, oldest first (a proposal's history). */
  async bySubject(subject: string, limit: number): Promise<EventRecord[]> {
    const rows = await this.#db.all<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE subject = $1 ORDER BY seq LIMIT $2`,
      [subject, limit],
    );
    return rows.map(toEvent);
  }

  /**
   * A partner's events in one environment, oldest first, after `cursor`. On SQLite commits are
   * serial, so `seq` order is commit order. On PostgreSQL a transaction can take a lower `seq`
   * and commit after a higher one; the feed therefore pages by (transaction id, seq) and stops
   * below the oldest transaction still running, so nothing can appear behind a cursor.
   */
  async feed(
    partnerId: string,
    environment: Environment,
    cursor: Cursor | null,
    limit: number,
  ): Promise<FeedPage> {
    const [txid, seq] = decodeCursor(cursor, this.#db.engine);
    if (this.#db.engine === 'postgres') {
      const rows = await this.#db.all<EventRow & { txid: string; seq: number }>(
        `SELECT ${COLUMNS}, txid::text AS txid, seq FROM events
         WHERE partner_id = $1 AND environment = $2 AND (txid, seq) > ($3::text::xid8, $4)
           AND txid < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY txid, seq LIMIT $5`,
        [partnerId, environment, txid, seq, limit],
      );
      const last = rows.at(-1);
      return {
        events: rows.map(toEvent),
        nextCursor: last ? encodeCursor([last.txid, last.seq]) : (cursor ?? encodeCursor(['0', 0])),
      };
    }
    const rows = await this.#db.all<EventRow & { seq: number }>(
      `SELECT ${COLUMNS}, seq FROM events WHERE partner_id = $1 AND environment = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [partnerId, environment, seq, limit],
    );
    const last = rows.at(-1);
    return {
      events: rows.map(toEvent),
      nextCursor: last ? encodeCursor([last.seq]) : (cursor ?? encodeCursor([0])),
    };
  }
}

/**
 * Records `key` as taken by `eventId` unless a live (unexpired) record exists, in which case it
 * returns the event that record points at. The upsert is atomic on both engines, so two
 * concurrent publishes with one key cannot both create an event.
 */
async function claimIdempotencyKey(
  tx: Queryable,
  partnerId: string,
  key: string,
  eventId: string,
  now: number,
): Promise<EventRecord | null> {
  const claimed = await tx.get(
    `INSERT INTO idempotency_keys (partner_id, key, event_id, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (partner_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
     WHERE idempotency_keys.expires_at <= $5
     RETURNING event_id`,
    [partnerId, key, eventId, now + IDEMPOTENCY_WINDOW_MS, now],
  );
  if (claimed) return null;
  const row = await tx.get<EventRow>(
    `SELECT ${JOINED_COLUMNS} FROM idempotency_keys k JOIN events e ON e.id = k.event_id
     WHERE k.partner_id = $1 AND k.key = $2`,
    [partnerId, key],
  );
  if (!row) throw new Error(`idempotency key ${key} points at a missing event`);
  return toEvent(row);
}
