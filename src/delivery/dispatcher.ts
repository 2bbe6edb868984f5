import type { Logger } from 'pino';
import { standardBody } from '../domain/payload.ts';
import { nextRetryDelay, parseRetryAfter } from '../domain/retry.ts';
import { sign, signingKey } from '../domain/signature.ts';
import type { Attempt } from '../domain/types.ts';
import type { ClaimedDelivery, DeliveryResult, Lease } from '../store/index.ts';
import type { Sender, SendOutcome } from './http.ts';

/** The part of the store the dispatcher uses; see DeliveryQueue. */
export interface Queue {
  claim(
    now: number,
    limit: number,
    leaseMs: number,
    skipEndpoints: readonly string[],
  ): Promise<ClaimedDelivery[]>;
  complete(results: readonly DeliveryResult[], now: number): Promise<void>;
  release(leases: readonly Lease[], now: number): Promise<void>;
}

export interface DispatcherOptions {
  queue: Queue;
  sender: Sender;
  logger: Logger;
  retrySchedule: readonly number[];
  /** How long a claimed delivery stays ours; must exceed the attempt timeout. */
  leaseMs: number;
  batchSize: number;
  maxInFlight: number;
  /** Requests in flight to one origin (scheme + host + port) at most. */
  perOriginConcurrency: number;
  /** Idle poll for deliveries made due by time (retries) or by other processes. */
  pollIntervalMs: number;
  userAgent: string;
  random?: () => number;
  now?: () => number;
}

/** Retrying a failed database call more often than this costs nothing and shortens recovery. */
const MAX_BACKOFF_MS = 5_000;

/** Attempt results that are not HTTP exchanges (the endpoint is gone): recorded, never sent. */
function closedEndpointAttempt(d: ClaimedDelivery, now: number): Attempt {
  const deleted = d.endpoint.deleted;
  return {
    number: d.attemptCount + 1,
    at: now,
    statusCode: null,
    durationMs: 0,
    error: deleted ? 'endpoint_deleted' : 'endpoint_disabled',
    errorMessage: deleted ? 'The endpoint was deleted.' : 'The endpoint is disabled.',
    responseBody: null,
  };
}

/**
 * Claim → sign → send → record. One loop claims due deliveries in batches and starts their
 * requests; results are written in batches by a single flusher. Background work never throws:
 * database failures are logged and retried with backoff, and results wait in memory meanwhile.
 */
export class Dispatcher {
  readonly #o: Required<DispatcherOptions>;
  readonly #abort = new AbortController();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #perOrigin = new Map<string, { count: number; endpoints: Map<string, number> }>();
  readonly #keys = new Map<string, Buffer>();
  #results: DeliveryResult[] = [];
  #flushing: Promise<void> | null = null;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;

  constructor(options: DispatcherOptions) {
    this.#o = { random: Math.random, now: Date.now, ...options };
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Something became due (a publish, a manual retry, a NOTIFY): claim without waiting. */
  notify(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Stops claiming, lets in-flight attempts finish for up to `graceMs`, then cancels the rest
   * and gives their leases back so another dispatcher (or the next start) sends them at once.
   */
  async stop(graceMs: number): Promise<void> {
    this.#running = false;
    this.notify();
    await this.#loop;
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(this.#inFlight.values()), grace]);
      clearTimeout(timer);
      this.#abort.abort();
      await Promise.all(this.#inFlight.values());
    }
    await this.#flush();
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (this.#running) {
      const free = this.#o.maxInFlight - this.#inFlight.size;
      const limit = Math.min(this.#o.batchSize, free);
      let claimed = 0;
      if (limit > 0) {
        try {
          const batch = await this.#o.queue.claim(
            this.#o.now(),
            limit,
            this.#o.leaseMs,
            this.#saturatedEndpoints(),
          );
          claimed = batch.length;
          backoff = 0;
          this.#dispatch(batch);
        } catch (error) {
          backoff = Math.min(Math.max(backoff * 2, 250), MAX_BACKOFF_MS);
          this.#o.logger.error({ err: error, retryInMs: backoff }, 'claiming deliveries failed');
          await this.#sleep(backoff);
          continue;
        }
      }
      // A full batch means more may be due: go again at once. Otherwise wait for a wake-up
      // (publish, free slot, NOTIFY) or the poll tick, which finds retries that came due.
      if (claimed === limit && limit > 0) continue;
      await this.#sleep(this.#o.pollIntervalMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken || !this.#running) {
      this.#woken = false;
      // Yield one turn so a burst of publishes is claimed as one batch.
      return new Promise((resolve) => setImmediate(resolve));
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        this.#woken = false;
        setImmediate(done);
      };
    });
  }

  #saturatedEndpoints(): string[] {
    const skip: string[] = [];
    for (const origin of this.#perOrigin.values()) {
      if (origin.count >= this.#o.perOriginConcurrency) skip.push(...origin.endpoints.keys());
    }
    return skip;
  }

  #dispatch(batch: readonly ClaimedDelivery[]): void {
    const bodies = new Map<string, string>(); // fan-out: one rendering per event
    const overflow: Lease[] = [];
    const now = this.#o.now();
    for (const d of batch) {
      if (d.endpoint.deleted || !d.endpoint.enabled) {
        this.#record({
          id: d.id,
          leaseToken: d.leaseToken,
          status: 'failed',
          nextAttemptAt: null,
          attempt: closedEndpointAttempt(d, now),
          disableEndpoint: null,
        });
        continue;
      }
      const origin = originOf(d.endpoint.url);
      const slot = this.#perOrigin.get(origin) ?? { count: 0, endpoints: new Map() };
      if (slot.count >= this.#o.perOriginConcurrency) {
        overflow.push({ id: d.id, leaseToken: d.leaseToken });
        continue;
      }
      slot.count++;
      slot.endpoints.set(d.endpoint.id, (slot.endpoints.get(d.endpoint.id) ?? 0) + 1);
      this.#perOrigin.set(origin, slot);

      let body = bodies.get(d.event.id);
      if (body === undefined) {
        body = standardBody(d.event);
        bodies.set(d.event.id, body);
      }
      const attempt = this.#attempt(d, body).finally(() => {
        this.#inFlight.delete(d.id);
        this.#freeSlot(origin, d.endpoint.id);
      });
      this.#inFlight.set(d.id, attempt);
    }
    if (overflow.length > 0) {
      this.#o.queue.release(overflow, now).catch((error: unknown) => {
        // The leases expire on their own; this only delays those deliveries.
        this.#o.logger.warn({ err: error }, 'releasing over-limit deliveries failed');
      });
    }
  }

  #freeSlot(origin: string, endpointId: string): void {
    const slot = this.#perOrigin.get(origin);
    if (!slot) return;
    const wasSaturated = slot.count >= this.#o.perOriginConcurrency;
    slot.count--;
    const perEndpoint = (slot.endpoints.get(endpointId) ?? 1) - 1;
    if (perEndpoint === 0) slot.endpoints.delete(endpointId);
    else slot.endpoints.set(endpointId, perEndpoint);
    if (slot.count === 0) this.#perOrigin.delete(origin);
    // A freed slot may unblock work the last claim had to leave behind.
    if (wasSaturated || this.#inFlight.size === this.#o.maxInFlight - 1) this.notify();
  }

  #key(secret: string): Buffer {
    let key = this.#keys.get(secret);
    if (!key) {
      if (this.#keys.size > 10_000) this.#keys.clear();
      key = signingKey(secret);
      this.#keys.set(secret, key);
    }
    return key;
  }

  async #attempt(d: ClaimedDelivery, body: string): Promise<void> {
    const number = d.attemptCount + 1;
    const startedAt = this.#o.now();
    const timestamp = Math.floor(startedAt / 1000);
    const outcome = await this.#o.sender.send(
      {
        url: d.endpoint.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': this.#o.userAgent,
          'webhook-id': d.event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(this.#key(d.endpoint.secret), d.event.id, timestamp, body),
          'arauto-delivery-id': d.id,
          'arauto-attempt': String(number),
        },
        body,
      },
      this.#abort.signal,
    );
    if (outcome.kind === 'aborted') {
      this.#o.queue
        .release([{ id: d.id, leaseToken: d.leaseToken }], this.#o.now())
        .catch((error: unknown) => {
          this.#o.logger.warn(
            { err: error, delivery: d.id },
            'releasing a cancelled delivery failed; its lease will expire',
          );
        });
      return;
    }
    this.#record(this.#decide(d, outcome, startedAt));
  }

  /** What an attempt's outcome means for its delivery. */
  #decide(
    d: ClaimedDelivery,
    outcome: Exclude<SendOutcome, { kind: 'aborted' }>,
    at: number,
  ): DeliveryResult {
    const attempt = toAttempt(outcome, d.attemptCount + 1, at);
    const base = { id: d.id, leaseToken: d.leaseToken, attempt, disableEndpoint: null };
    if (attempt.error === null) return { ...base, status: 'succeeded', nextAttemptAt: null };
    // 410 Gone is the receiver saying the endpoint no longer exists (Standard Webhooks).
    if (attempt.statusCode === 410) {
      return { ...base, status: 'failed', nextAttemptAt: null, disableEndpoint: d.endpoint.id };
    }
    if (d.manualRetry) return { ...base, status: 'failed', nextAttemptAt: null };
    const now = this.#o.now();
    const throttled =
      outcome.kind === 'response' && (outcome.statusCode === 429 || outcome.statusCode === 503);
    const retryAfter = throttled ? parseRetryAfter(outcome.retryAfter, now) : null;
    const delay = nextRetryDelay(this.#o.retrySchedule, attempt.number, retryAfter, this.#o.random);
    if (delay === null) return { ...base, status: 'failed', nextAttemptAt: null };
    return { ...base, status: 'pending', nextAttemptAt: now + delay };
  }

  #record(result: DeliveryResult): void {
    this.#results.push(result);
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
  }

  /**
   * Writes every buffered result, batching whatever arrives while a write is in progress. On a
   * database failure the results stay buffered and the write is retried; if the process dies
   * first, the leases expire and the deliveries are attempted again (at least once, never lost).
   */
  async #flush(): Promise<void> {
    let backoff = 0;
    while (this.#results.length > 0) {
      const batch = this.#results;
      this.#results = [];
      try {
        await this.#o.queue.complete(batch, this.#o.now());
        backoff = 0;
      } catch (error) {
        this.#results = batch.concat(this.#results);
        backoff = Math.min(Math.max(backoff * 2, 250), MAX_BACKOFF_MS);
        this.#o.logger.error(
          { err: error, results: batch.length, retryInMs: backoff },
          'recording attempts failed',
        );
        if (!this.#running) {
          // Shutting down without a database: these attempts happened but cannot be recorded.
          // Their leases expire and they are attempted again — at least once, never lost.
          this.#o.logger.warn({ results: this.#results.length }, 'stopping with unrecorded attempt results');
          this.#results = [];
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }
}

/** The attempt log entry for an exchange: 2xx succeeds, 3xx is never followed, the rest fail. */
function toAttempt(outcome: Exclude<SendOutcome, { kind: 'aborted' }>, number: number, at: number): Attempt {
  if (outcome.kind === 'error') {
    return {
      number,
      at,
      statusCode: null,
      durationMs: outcome.durationMs,
      error: outcome.error,
      errorMessage: outcome.message,
      responseBody: null,
    };
  }
  const status = outcome.statusCode;
  const ok = status >= 200 && status < 300;
  return {
    number,
    at,
    statusCode: status,
    durationMs: outcome.durationMs,
    error: ok ? null : status >= 300 && status < 400 ? 'redirect' : 'http_status',
    errorMessage: ok ? null : `HTTP ${status}`,
    responseBody: outcome.responseBody,
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
