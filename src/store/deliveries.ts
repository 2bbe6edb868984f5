import type { Attempt, AttemptError, Delivery, DeliveryStatus } from '../domain/types.ts';
import { AppError, notFound } from '../errors.ts';
import { bool, type Db, inList, type Queryable } from './db.ts';
import type { Waker } from './waker.ts';

interface DeliveryRow {
  id: string;
  event_id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

interface AttemptRow {
  delivery_id: string;
  number: number;
  at: number;
  status_code: number | null;
  duration_ms: number;
  error: AttemptError | null;
  error_message: string | null;
  response_body: string | null;
}

const COLUMNS = 'id, event_id, endpoint_id, status, attempt_count, next_attempt_at, created_at, updated_at';

const toAttempt = (r: AttemptRow): Attempt => ({
  number: r.number,
  at: r.at,
  statusCode: r.status_code,
  durationMs: r.duration_ms,
  error: r.error,
  errorMessage: r.error_message,
  responseBody: r.response_body,
});

async function withAttempts(q: Queryable, rows: DeliveryRow[]): Promise<Delivery[]> {
  if (rows.length === 0) return [];
  const attempts = await q.all<AttemptRow>(
    `SELECT delivery_id, number, at, status_code, duration_ms, error, error_message, response_body
     FROM attempts WHERE delivery_id ${inList(q.engine, 1)} ORDER BY delivery_id, number`,
    [rows.map((r) => r.id)],
  );
  const byDelivery = Map.groupBy(attempts, (a) => a.delivery_id);
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    status: r.status,
    attemptCount: r.attempt_count,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    attempts: (byDelivery.get(r.id) ?? []).map(toAttempt),
  }));
}

/** The delivery log as the API shows it, and the operator's manual retry. */
export class Deliveries {
  readonly #db: Db;
  readonly #waker: Waker;

  constructor(db: Db, waker: Waker) {
    this.#db = db;
    this.#waker = waker;
  }

  async listByEvent(eventId: string): Promise<Delivery[]> {
    const event = await this.#db.get('SELECT 1 AS one FROM events WHERE id = $1', [eventId]);
    if (!event) throw notFound('event', eventId);
    const rows = await this.#db.all<DeliveryRow>(
      `SELECT ${COLUMNS} FROM deliveries WHERE event_id = $1 ORDER BY id`,
      [eventId],
    );
    return withAttempts(this.#db, rows);
  }

  async get(id: string): Promise<Delivery> {
    const row = await this.#db.get<DeliveryRow>(`SELECT ${COLUMNS} FROM deliveries WHERE id = $1`, [id]);
    if (!row) throw notFound('delivery', id);
    const [delivery] = await withAttempts(this.#db, [row]);
    if (!delivery) throw notFound('delivery', id);
    return delivery;
  }

  /**
   * Schedules an attempt now. A pending delivery is brought forward and keeps its schedule; a
   * failed or succeeded one gets exactly one more attempt (`manual_retry`), after which it is
   * final again — a manual retry never restarts days of automatic retries.
   */
  async retry(id: string, now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const row = await tx.get<{
        status: DeliveryStatus;
        leased_until: number | null;
        next_attempt_at: number | null;
        enabled: unknown;
        deleted_at: number | null;
      }>(
        `SELECT d.status, d.leased_until, d.next_attempt_at, e.enabled, e.deleted_at
         FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id WHERE d.id = $1`,
        [id],
      );
      if (!row) throw notFound('delivery', id);
      if (row.deleted_at !== null) {
        throw new AppError(409, 'endpoint_deleted', 'The endpoint of this delivery was deleted.');
      }
      if (!bool(row.enabled)) {
        throw new AppError(
          409,
          'endpoint_disabled',
          'The endpoint of this delivery is disabled; enable it first.',
        );
      }
      if (row.status === 'pending' && row.next_attempt_at === null) {
        throw new AppError(
          409,
          'delivery_waiting',
          'This delivery waits for an earlier one to the same endpoint and subject; it goes when that one is final.',
        );
      }
      if (row.status === 'pending' && row.leased_until !== null && row.leased_until > now) {
        throw new AppError(409, 'delivery_in_flight', 'An attempt of this delivery is in flight right now.');
      }
      await tx.run(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2,
           manual_retry = (status <> 'pending')
         WHERE id = $1`,
        [id, now],
      );
    });
    this.#waker.wake();
  }
}
