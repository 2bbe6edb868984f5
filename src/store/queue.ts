import type { Attempt, Endpoint, EndpointAuth, EventRecord } from '../domain/types.ts';
import { bool, type Db, type Engine, inList, notInList, type Queryable } from './db.ts';
import { DELIVERY_COLUMNS, type EndpointRow } from './endpoints.ts';
import { lockLines } from './events.ts';
import { endpointAad, type Sealer } from './sealed.ts';

/** A delivery a dispatcher holds a lease on, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  /** Proves the lease is still ours when the result is written. */
  leaseToken: number;
  attemptCount: number;
  /** The next failure is final (an operator's one-off retry). */
  manualRetry: boolean;
  /** In a delivery line (endpoint, subject): its final result releases the next one. */
  ordered: boolean;
  event: Pick<EventRecord, 'id' | 'partnerId' | 'environment' | 'type' | 'subject' | 'data' | 'createdAt'>;
  endpoint: DeliveryTarget;
}

/** An endpoint as the dispatcher needs it: where, how, and the (decrypted) secrets to sign and authenticate. */
export type DeliveryTarget = Pick<
  Endpoint,
  | 'id'
  | 'url'
  | 'format'
  | 'method'
  | 'payload'
  | 'formatOptions'
  | 'signature'
  | 'auth'
  | 'secret'
  | 'signingKey'
  | 'enabled'
> & { deleted: boolean };

type TargetRow = Pick<
  EndpointRow,
  | 'id'
  | 'url'
  | 'format'
  | 'method'
  | 'payload'
  | 'format_options'
  | 'signature'
  | 'auth'
  | 'secret'
  | 'signing_key'
  | 'enabled'
> & { deleted_at: number | null };

export interface DeliveryResult {
  id: string;
  leaseToken: number;
  status: 'pending' | 'succeeded' | 'failed';
  /** When the next attempt is due; null once the delivery is final. */
  nextAttemptAt: number | null;
  attempt: Attempt;
  /** The receiver answered 410 Gone: disable its endpoint. */
  disableEndpoint: string | null;
  /** A final result in a delivery line: release the next waiting delivery of that line. */
  releaseLine: { endpointId: string; subject: string } | null;
}

export interface Lease {
  id: string;
  leaseToken: number;
}

interface ClaimRow {
  id: string;
  event_id: string;
  endpoint_id: string;
  attempt_count: number;
  lease_token: number;
  manual_retry: number | boolean;
  ordered: number | boolean;
}

/** Which endpoints a claim considers: all but some (the usual sweep), or only some (a refill). */
export type EndpointFilter = { skip: readonly string[] } | { only: readonly string[] };

function claimSql(engine: Engine, filter: 'skip' | 'only'): string {
  const endpoints = filter === 'skip' ? notInList(engine, 3) : inList(engine, 3);
  const due = `SELECT id FROM deliveries
      WHERE status = 'pending' AND next_attempt_at <= $2 AND endpoint_id ${endpoints}
      ORDER BY next_attempt_at LIMIT $4`;
  return engine === 'postgres'
    ? // SKIP LOCKED: concurrent dispatchers each take different rows instead of queueing on locks.
      `WITH due AS (${due} FOR UPDATE SKIP LOCKED)
      UPDATE deliveries d SET next_attempt_at = $1, leased_until = $1, lease_token = d.lease_token + 1
      FROM due WHERE d.id = due.id
      RETURNING d.id, d.event_id, d.endpoint_id, d.attempt_count, d.lease_token, d.manual_retry, d.ordered`
    : // One statement is atomic in SQLite, and there is one writer at a time.
      `UPDATE deliveries SET next_attempt_at = $1, leased_until = $1, lease_token = lease_token + 1
      WHERE id IN (${due})
      RETURNING id, event_id, endpoint_id, attempt_count, lease_token, manual_retry, ordered`;
}

const CLAIM_SQL = {
  sqlite: { skip: claimSql('sqlite', 'skip'), only: claimSql('sqlite', 'only') },
  postgres: { skip: claimSql('postgres', 'skip'), only: claimSql('postgres', 'only') },
};

const COMPLETE_PG = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::integer[], $6::bigint[],
      $7::integer[], $8::integer[], $9::text[], $10::text[], $11::text[])
      AS r(id, lease_token, status, next_attempt_at, number, at, status_code, duration_ms, error, error_message,
        response_body)
  ), updated AS (
    UPDATE deliveries d SET status = r.status, attempt_count = r.number, next_attempt_at = r.next_attempt_at,
      leased_until = NULL, manual_retry = false, updated_at = $12
    FROM r WHERE d.id = r.id AND d.lease_token = r.lease_token
    RETURNING d.id
  )
  INSERT INTO attempts (delivery_id, number, at, status_code, duration_ms, error, error_message, response_body)
  SELECT r.id, r.number, r.at, r.status_code, r.duration_ms, r.error, r.error_message, r.response_body
  FROM r JOIN updated u ON u.id = r.id
  ON CONFLICT DO NOTHING`;

const COMPLETE_ONE = `UPDATE deliveries SET status = $3, attempt_count = $4, next_attempt_at = $5, leased_until = NULL,
    manual_retry = false, updated_at = $6
  WHERE id = $1 AND lease_token = $2`;

const INSERT_ATTEMPT = `INSERT INTO attempts
    (delivery_id, number, at, status_code, duration_ms, error, error_message, response_body)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`;

/** releaseNext for many lines at once (PostgreSQL). */
const RELEASE_NEXT_PG = `UPDATE deliveries d SET next_attempt_at = $3, updated_at = $3
  FROM (
    SELECT DISTINCT w.id
    FROM unnest($1::text[], $2::text[]) AS l(endpoint_id, subject)
    JOIN LATERAL (
      SELECT id FROM deliveries
      WHERE endpoint_id = l.endpoint_id AND subject = l.subject AND status = 'pending' AND next_attempt_at IS NULL
      ORDER BY seq LIMIT 1) AS w ON true
    WHERE NOT EXISTS (
      SELECT 1 FROM deliveries p
      WHERE p.endpoint_id = l.endpoint_id AND p.subject = l.subject AND p.status = 'pending'
        AND p.next_attempt_at IS NOT NULL)
  ) AS n
  WHERE d.id = n.id`;

/**
 * Makes the oldest waiting delivery of a line due, unless the line still has a pending one
 * that is not waiting (a manual retry of an earlier delivery holds the line again).
 */
async function releaseNext(tx: Queryable, endpointId: string, subject: string, now: number): Promise<number> {
  return tx.run(
    `UPDATE deliveries SET next_attempt_at = $3, updated_at = $3
     WHERE id = (
       SELECT id FROM deliveries
       WHERE endpoint_id = $1 AND subject = $2 AND status = 'pending' AND next_attempt_at IS NULL
       ORDER BY seq LIMIT 1)
     AND NOT EXISTS (
       SELECT 1 FROM deliveries
       WHERE endpoint_id = $1 AND subject = $2 AND status = 'pending' AND next_attempt_at IS NOT NULL)`,
    [endpointId, subject, now],
  );
}

/**
 * The dispatcher's side of the deliveries table: lease due deliveries, write results, give
 * leases back. Each call is one transaction whatever the batch size.
 */
export class DeliveryQueue {
  readonly #db: Db;
  readonly #sealer: Sealer;
  /** Opened secrets by sealed text: a claim would otherwise decrypt three values per delivery. */
  readonly #opened = new Map<string, string>();

  constructor(db: Db, sealer: Sealer) {
    this.#db = db;
    this.#sealer = sealer;
  }

  #open(sealed: string, aad: string): string {
    let plain = this.#opened.get(sealed);
    if (plain === undefined) {
      if (this.#opened.size > 10_000) this.#opened.clear();
      plain = this.#sealer.open(sealed, aad);
      this.#opened.set(sealed, plain);
    }
    return plain;
  }

  #target(r: TargetRow): DeliveryTarget {
    return {
      id: r.id,
      url: r.url,
      format: r.format,
      method: r.method,
      payload: r.payload,
      formatOptions:
        r.format_options === null ? null : (JSON.parse(r.format_options) as Record<string, unknown>),
      signature: r.signature,
      auth:
        r.auth === null
          ? { type: 'none' }
          : (JSON.parse(this.#open(r.auth, endpointAad(r.id, 'auth'))) as EndpointAuth),
      secret: this.#open(r.secret, endpointAad(r.id, 'secret')),
      signingKey: this.#open(r.signing_key, endpointAad(r.id, 'signing_key')),
      enabled: bool(r.enabled),
      deleted: r.deleted_at !== null,
    };
  }

  /**
   * Leases up to `limit` due deliveries until `now + leaseMs`. A dispatcher that dies holding
   * a lease loses it when it expires: the delivery is simply due again.
   */
  async claim(
    now: number,
    limit: number,
    leaseMs: number,
    filter: EndpointFilter,
  ): Promise<ClaimedDelivery[]> {
    const [sql, ids] =
      'only' in filter
        ? [CLAIM_SQL[this.#db.engine].only, filter.only]
        : [CLAIM_SQL[this.#db.engine].skip, filter.skip];
    const rows = await this.#db.all<ClaimRow>(sql, [now + leaseMs, now, ids, limit]);
    if (rows.length === 0) return [];

    const eventIds = [...new Set(rows.map((r) => r.event_id))];
    const endpointIds = [...new Set(rows.map((r) => r.endpoint_id))];
    const [events, endpoints] = await Promise.all([
      this.#db.all<{
        id: string;
        partner_id: string;
        environment: EventRecord['environment'];
        type: string;
        subject: string | null;
        data: string;
        created_at: number;
      }>(
        `SELECT id, partner_id, environment, type, subject, data, created_at FROM events
         WHERE id ${inList(this.#db.engine, 1)}`,
        [eventIds],
      ),
      this.#db.all<TargetRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM endpoints WHERE id ${inList(this.#db.engine, 1)}`,
        [endpointIds],
      ),
    ]);
    const eventById = new Map(
      events.map((e) => [
        e.id,
        {
          id: e.id,
          partnerId: e.partner_id,
          environment: e.environment,
          type: e.type,
          subject: e.subject,
          data: e.data,
          createdAt: e.created_at,
        },
      ]),
    );
    const endpointById = new Map(endpoints.map((e) => [e.id, this.#target(e)]));
    return rows.flatMap((r) => {
      const event = eventById.get(r.event_id);
      const endpoint = endpointById.get(r.endpoint_id);
      if (!event || !endpoint) return []; // foreign keys make this unreachable
      return [
        {
          id: r.id,
          leaseToken: r.lease_token,
          attemptCount: r.attempt_count,
          manualRetry: bool(r.manual_retry),
          ordered: bool(r.ordered),
          event,
          endpoint,
        },
      ];
    });
  }

  /**
   * Records attempts and moves deliveries on. A result whose lease was lost (it expired and
   * another dispatcher took the delivery) is dropped: that dispatcher's result counts.
   */
  async complete(results: readonly DeliveryResult[], now: number): Promise<number> {
    if (results.length === 0) return 0;
    const gone = [...new Set(results.flatMap((r) => (r.disableEndpoint ? [r.disableEndpoint] : [])))];
    const lines = results.flatMap((r) => (r.releaseLine ? [r.releaseLine] : []));
    return this.#db.transaction(async (tx) => {
      await lockLines(tx, lines);
      if (tx.engine === 'postgres') {
        const column = <T>(pick: (r: DeliveryResult) => T): T[] => results.map(pick);
        await tx.run(COMPLETE_PG, [
          column((r) => r.id),
          column((r) => r.leaseToken),
          column((r) => r.status),
          column((r) => r.nextAttemptAt),
          column((r) => r.attempt.number),
          column((r) => r.attempt.at),
          column((r) => r.attempt.statusCode),
          column((r) => r.attempt.durationMs),
          column((r) => r.attempt.error),
          column((r) => r.attempt.errorMessage),
          column((r) => r.attempt.responseBody),
          now,
        ]);
      } else {
        for (const r of results) {
          const a = r.attempt;
          const changed = await tx.run(COMPLETE_ONE, [
            r.id,
            r.leaseToken,
            r.status,
            a.number,
            r.nextAttemptAt,
            now,
          ]);
          if (changed === 0) continue;
          await tx.run(INSERT_ATTEMPT, [
            r.id,
            a.number,
            a.at,
            a.statusCode,
            a.durationMs,
            a.error,
            a.errorMessage,
            a.responseBody,
          ]);
        }
      }
      if (gone.length > 0) {
        await tx.run(
          `UPDATE endpoints SET enabled = false, disabled_reason = 'gone', updated_at = $2
           WHERE id ${inList(tx.engine, 1)} AND enabled`,
          [gone, now],
        );
      }
      if (lines.length === 0) return 0;
      if (tx.engine === 'postgres') {
        // One statement for the whole batch: a round trip per line would dominate the write.
        return tx.run(RELEASE_NEXT_PG, [lines.map((l) => l.endpointId), lines.map((l) => l.subject), now]);
      }
      let released = 0;
      for (const line of lines) released += await releaseNext(tx, line.endpointId, line.subject, now);
      return released;
    });
  }

  /** Gives leases back without counting an attempt (shutdown, or a saturated endpoint). */
  async release(leases: readonly Lease[], now: number): Promise<void> {
    if (leases.length === 0) return;
    if (this.#db.engine === 'postgres') {
      await this.#db.run(
        `UPDATE deliveries d SET next_attempt_at = $3, leased_until = NULL
         FROM unnest($1::text[], $2::integer[]) AS r(id, lease_token)
         WHERE d.id = r.id AND d.lease_token = r.lease_token AND d.status = 'pending'`,
        [leases.map((l) => l.id), leases.map((l) => l.leaseToken), now],
      );
      return;
    }
    await this.#db.transaction(async (tx) => {
      for (const l of leases) {
        await tx.run(
          `UPDATE deliveries SET next_attempt_at = $3, leased_until = NULL
           WHERE id = $1 AND lease_token = $2 AND status = 'pending'`,
          [l.id, l.leaseToken, now],
        );
      }
    });
  }
}
