import { matchesEventType } from '../domain/event-types.ts';
import { newId } from '../domain/ids.ts';
import type { Environment, EventRecord, Ordering } from '../domain/types.ts';
import { AppError, notFound } from '../errors.ts';
import { type FormatName, type HttpMethod, type PayloadMode, renderRequest } from '../formats/index.ts';
import { bool, type Db, inList, type Queryable } from './db.ts';
import type { Waker } from './waker.ts';

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
}

interface Target {
  id: string;
  url: string;
  ordering: Ordering;
  /** Its line for the event's subject had a pending delivery when the candidates were read. */
  busy: boolean;
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

interface CandidateRow {
  id: string | null;
  kind: 'endpoint' | 'resource' | null;
  url: string;
  ordering: Ordering;
  event_types: string | null;
  store_ids: string | null;
  format: FormatName;
  method: HttpMethod;
  payload: PayloadMode;
  format_options: string | null;
  /** The endpoint's line for this event's subject has a pending delivery. */
  busy: number | boolean | null;
  resource_store_id: string | null;
}

const CANDIDATE_COLUMNS = `e.id, e.kind, e.url, e.ordering, e.event_types, e.store_ids, e.format, e.method, e.payload,
  e.format_options`;

/**
 * One query for everything an event's fan-out reads: the partner's enabled endpoints in its
 * environment, and — when the subject names a proposal or simulation — that resource's store
 * and the hidden endpoint behind its `webhook_url`. There is always one row (the resource part
 * may be null, the endpoint part too).
 */
function candidatesSql(resource: 'proposals' | 'simulations' | null): string {
  const join =
    resource === null
      ? `(SELECT NULL AS store_id, NULL AS webhook_url) AS r`
      : `(SELECT 1 AS one) AS base
         LEFT JOIN (SELECT store_id, webhook_url FROM ${resource}
                    WHERE id = $4 AND partner_id = $1 AND environment = $2) AS r ON true`;
  // $3 is the subject: NULL matches no line, so an event without one is never busy.
  return `SELECT ${CANDIDATE_COLUMNS}, r.store_id AS resource_store_id,
      EXISTS (SELECT 1 FROM deliveries d
              WHERE d.endpoint_id = e.id AND d.subject = $3 AND d.status = 'pending') AS busy
    FROM ${join}
    LEFT JOIN endpoints e ON e.partner_id = $1 AND e.environment = $2 AND e.enabled AND e.deleted_at IS NULL
      AND (e.kind = 'endpoint' OR (e.kind = 'resource' AND e.url = r.webhook_url))
    ORDER BY e.id`;
}

const CANDIDATES_SQL = {
  none: candidatesSql(null),
  proposal: candidatesSql('proposals'),
  simulation: candidatesSql('simulations'),
};

async function candidates(tx: Queryable, input: NewEvent): Promise<CandidateRow[]> {
  const match = input.subject ? /^(proposal|simulation)\/(.+)$/.exec(input.subject) : null;
  if (!match)
    return tx.all<CandidateRow>(CANDIDATES_SQL.none, [input.partnerId, input.environment, input.subject]);
  const sql = match[1] === 'proposal' ? CANDIDATES_SQL.proposal : CANDIDATES_SQL.simulation;
  return tx.all<CandidateRow>(sql, [input.partnerId, input.environment, input.subject, match[2] ?? '']);
}

/**
 * Who receives an event: the partner's endpoints whose event types, stores and format suit it,
 * plus the `webhook_url` of the proposal or simulation it is about. A URL registered in several
 * places receives the event once (registered endpoints win, oldest first, so their secret signs).
 */
function targets(rows: readonly CandidateRow[], event: EventRecord): Target[] {
  const byUrl = new Map<string, Target>();
  for (const row of rows) {
    if (row.id === null || row.kind !== 'endpoint') continue;
    if (!matchesEventType(row.event_types === null ? null : JSON.parse(row.event_types), event.type))
      continue;
    const stores = row.store_ids === null ? null : (JSON.parse(row.store_ids) as string[]);
    if (stores !== null && (event.storeId === null || !stores.includes(event.storeId))) continue;
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
    if (!byUrl.has(row.url))
      byUrl.set(row.url, { id: row.id, url: row.url, ordering: row.ordering, busy: bool(row.busy) });
  }
  const resource = rows.find((r) => r.kind === 'resource');
  if (resource?.id && !byUrl.has(resource.url)) {
    byUrl.set(resource.url, {
      id: resource.id,
      url: resource.url,
      ordering: resource.ordering,
      busy: bool(resource.busy),
    });
  }
  return [...byUrl.values()];
}

/** The endpoints among `endpointIds` whose line for `subject` has a pending delivery. */
async function busyLines(
  tx: Queryable,
  endpointIds: readonly string[],
  subject: string,
): Promise<Set<string>> {
  const rows = await tx.all<{ endpoint_id: string }>(
    `SELECT DISTINCT endpoint_id FROM deliveries
     WHERE endpoint_id ${inList(tx.engine, 1)} AND subject = $2 AND status = 'pending'`,
    [endpointIds, subject],
  );
  return new Set(rows.map((r) => r.endpoint_id));
}

const INSERT_DELIVERY = `INSERT INTO deliveries
    (id, event_id, endpoint_id, status, next_attempt_at, subject, seq, ordered, created_at, updated_at)
  VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $8)`;

const INSERT_EVENT = `INSERT INTO events (${COLUMNS})
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM partners WHERE id = $2)
  RETURNING seq`;

// The event and its fan-out in one statement, hence atomic even outside a transaction; no row
// back means the partner does not exist (and nothing was written).
const INSERT_EVENT_AND_DELIVERIES_PG = `WITH ev AS (${INSERT_EVENT}),
  dl AS (
    INSERT INTO deliveries
      (id, event_id, endpoint_id, status, next_attempt_at, subject, seq, ordered, created_at, updated_at)
    SELECT d.id, $1, d.endpoint_id, 'pending', d.next_attempt_at, $5, ev.seq, d.ordered, $9, $9
    FROM ev, unnest($10::text[], $11::text[], $12::bigint[], $13::boolean[]) AS d(id, endpoint_id, next_attempt_at, ordered))
  SELECT seq FROM ev`;

/** Publishing outside a transaction must not take line locks: it asks for one instead. */
const NEEDS_TRANSACTION = Symbol('needs a transaction');

/**
 * Stores the event and one delivery per target inside `tx`: once the caller commits, every
 * delivery exists, and a crash before then leaves nothing. With ordering by subject, a
 * delivery whose line (endpoint, subject) already has a pending one is stored waiting
 * (`next_attempt_at` null) and released when the one before it is final.
 */
export async function publishIn(tx: Queryable, input: NewEvent, options: PublishOptions): Promise<Published> {
  const published = await publishWith(tx, input, options, true);
  if (published === NEEDS_TRANSACTION)
    throw new Error('publishIn runs in a transaction and never asks for one');
  return published;
}

/**
 * The publish itself. `inTransaction` false (PostgreSQL, no idempotency key) runs it as plain
 * statements — one read, one atomic write — and gives up with NEEDS_TRANSACTION when a line is
 * busy, since deciding that a delivery waits needs the line's lock.
 */
async function publishWith(
  tx: Queryable,
  input: NewEvent,
  options: PublishOptions,
  inTransaction: boolean,
): Promise<Published | typeof NEEDS_TRANSACTION> {
  const { now } = options;
  const eventId = newId('evt');
  if (input.idempotencyKey !== null) {
    // An unknown partner claims nothing in the end: the insert below fails and rolls it back.
    const earlier = await claimIdempotencyKey(tx, input.partnerId, input.idempotencyKey, eventId, now);
    if (earlier) return { event: earlier, created: false, deliveries: 0, due: 0 };
  }
  const rows = await candidates(tx, input);
  const storeId = input.storeId ?? rows[0]?.resource_store_id ?? null;
  const event: EventRecord = { id: eventId, ...input, storeId, createdAt: now };
  const found = targets(rows, event);
  const subject = event.subject;
  const inLine = subject === null ? [] : found.filter((t) => t.ordering === 'subject');
  let waiting = new Set(inLine.filter((t) => t.busy).map((t) => t.id));
  if (subject !== null && waiting.size > 0 && tx.engine === 'postgres') {
    if (!inTransaction) return NEEDS_TRANSACTION;
    // A line with nothing pending takes no lock: whatever completes concurrently has nothing to
    // release for us. A busy line is locked and looked at again, so that a completion
    // committing meanwhile cannot finish its last pending delivery without seeing ours.
    await lockLines(
      tx,
      [...waiting].map((endpointId) => ({ endpointId, subject })),
    );
    waiting = await busyLines(tx, [...waiting], subject);
  }
  const dueAt = now + options.firstAttemptDelayMs;
  const planned = found.map((t) => ({
    id: newId('dlv'),
    endpointId: t.id,
    nextAttemptAt: waiting.has(t.id) ? null : dueAt,
    ordered: inLine.includes(t),
  }));
  const eventParams = [
    event.id,
    event.partnerId,
    event.environment,
    event.type,
    event.subject,
    storeId,
    event.data,
    event.idempotencyKey,
    now,
  ];
  if (tx.engine === 'postgres') {
    const inserted = await tx.get(INSERT_EVENT_AND_DELIVERIES_PG, [
      ...eventParams,
      planned.map((p) => p.id),
      planned.map((p) => p.endpointId),
      planned.map((p) => p.nextAttemptAt),
      planned.map((p) => p.ordered),
    ]);
    if (!inserted) throw notFound('partner', input.partnerId);
  } else {
    const inserted = await tx.get<{ seq: number }>(INSERT_EVENT, eventParams);
    if (!inserted) throw notFound('partner', input.partnerId);
    // SQLite runs in-process: a cached single-row statement per delivery costs microseconds.
    for (const p of planned) {
      await tx.run(INSERT_DELIVERY, [
        p.id,
        event.id,
        p.endpointId,
        p.nextAttemptAt,
        subject,
        Number(inserted.seq),
        p.ordered,
        now,
      ]);
    }
  }
  const due = planned.filter((p) => p.nextAttemptAt !== null).length;
  return { event, created: true, deliveries: planned.length, due };
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
  readonly #waker: Waker;

  constructor(db: Db, waker: Waker) {
    this.#db = db;
    this.#waker = waker;
  }

  /** Publishes in its own transaction (on SQLite, sharing a commit with concurrent publishes). */
  async publish(input: NewEvent, now: number, firstAttemptDelayMs: number): Promise<Published> {
    const options = { now, firstAttemptDelayMs };
    // On PostgreSQL most publishes need no transaction: a read and one atomic write, two round
    // trips instead of seven. Idempotency keys and busy lines take the transactional path.
    let published =
      this.#db.engine === 'postgres' && input.idempotencyKey === null
        ? await publishWith(this.#db, input, options, false)
        : NEEDS_TRANSACTION;
    if (published === NEEDS_TRANSACTION) {
      published = await this.#db.groupedTransaction((tx) => publishIn(tx, input, options));
    }
    if (published.due > 0) this.#waker.wake();
    return published;
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
