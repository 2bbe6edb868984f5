import { matchesEventType } from '../domain/event-types.ts';
import { newId } from '../domain/ids.ts';
import type { Environment, EventRecord } from '../domain/types.ts';
import { notFound } from '../errors.ts';
import type { Db, Queryable } from './db.ts';

interface EventRow {
  id: string;
  partner_id: string;
  environment: Environment;
  type: string;
  subject: string | null;
  data: string;
  idempotency_key: string | null;
  created_at: number;
}

const COLUMNS = 'id, partner_id, environment, type, subject, data, idempotency_key, created_at';
const JOINED_COLUMNS = COLUMNS.split(', ')
  .map((c) => `e.${c}`)
  .join(', ');

export const toEvent = (r: EventRow): EventRecord => ({
  id: r.id,
  partnerId: r.partner_id,
  environment: r.environment,
  type: r.type,
  subject: r.subject,
  data: r.data,
  idempotencyKey: r.idempotency_key,
  createdAt: r.created_at,
});

/** How long an idempotency key returns the event it first created. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface NewEvent {
  partnerId: string;
  environment: Environment;
  type: string;
  subject: string | null;
  /** Compact JSON text. */
  data: string;
  idempotencyKey: string | null;
}

export interface Published {
  event: EventRecord;
  /** false when the idempotency key matched an earlier event: nothing was written. */
  created: boolean;
  deliveries: number;
}

export class Events {
  readonly #db: Db;
  readonly #wakeupChannel: string;

  constructor(db: Db, wakeupChannel: string) {
    this.#db = db;
    this.#wakeupChannel = wakeupChannel;
  }

  /**
   * Stores the event and one pending delivery per matching endpoint in a single transaction:
   * once the lender has its 202, every delivery exists, and a crash before then leaves nothing.
   */
  publish(input: NewEvent, now: number, firstAttemptDelayMs: number): Promise<Published> {
    return this.#db.groupedTransaction(async (tx) => {
      const partner = await tx.get('SELECT 1 AS one FROM partners WHERE id = $1', [input.partnerId]);
      if (!partner) throw notFound('partner', input.partnerId);

      const event: EventRecord = { id: newId('evt'), ...input, createdAt: now };
      if (input.idempotencyKey !== null) {
        const earlier = await claimIdempotencyKey(tx, input.partnerId, input.idempotencyKey, event.id, now);
        if (earlier) return { event: earlier, created: false, deliveries: 0 };
      }
      await tx.run(`INSERT INTO events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        event.id,
        event.partnerId,
        event.environment,
        event.type,
        event.subject,
        event.data,
        event.idempotencyKey,
        now,
      ]);

      const candidates = await tx.all<{ id: string; event_types: string | null }>(
        `SELECT id, event_types FROM endpoints
         WHERE partner_id = $1 AND environment = $2 AND enabled AND deleted_at IS NULL`,
        [input.partnerId, input.environment],
      );
      const endpointIds = candidates
        .filter((e) =>
          matchesEventType(e.event_types === null ? null : JSON.parse(e.event_types), event.type),
        )
        .map((e) => e.id);
      await insertDeliveries(tx, event.id, endpointIds, now + firstAttemptDelayMs, now);
      if (endpointIds.length > 0 && tx.engine === 'postgres') {
        // Delivered to LISTENing dispatchers on commit, so they need not wait for their poll.
        await tx.get('SELECT pg_notify($1, $2)', [this.#wakeupChannel, '']);
      }
      return { event, created: true, deliveries: endpointIds.length };
    });
  }

  async get(id: string): Promise<EventRecord> {
    const row = await this.#db.get<EventRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [id]);
    if (!row) throw notFound('event', id);
    return toEvent(row);
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

async function insertDeliveries(
  tx: Queryable,
  eventId: string,
  endpointIds: readonly string[],
  dueAt: number,
  now: number,
): Promise<void> {
  if (endpointIds.length === 0) return;
  if (tx.engine === 'postgres') {
    const ids = endpointIds.map(() => newId('dlv'));
    await tx.run(
      `INSERT INTO deliveries (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
       SELECT d.id, $3, d.endpoint_id, 'pending', $4, $5, $5 FROM unnest($1::text[], $2::text[]) AS d(id, endpoint_id)`,
      [ids, endpointIds, eventId, dueAt, now],
    );
    return;
  }
  // SQLite runs in-process: a cached single-row statement per delivery costs microseconds.
  for (const endpointId of endpointIds) {
    await tx.run(
      `INSERT INTO deliveries (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, 'pending', $4, $5, $5)`,
      [newId('dlv'), eventId, endpointId, dueAt, now],
    );
  }
}
