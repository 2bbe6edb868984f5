import type { Logger } from 'pino';
import { nextRetryDelay, parseRetryAfter } from '../domain/retry.ts';
import type { Attempt, DeliveryOutcome } from '../domain/types.ts';
import type { ClaimedDelivery, DeliveryResult, EndpointFilter, Lease } from '../store/index.ts';
import type { Courier } from './courier.ts';

/** The part of the store the dispatcher uses; see DeliveryQueue. */
export interface Queue {
  claim(now: number, limit: number, leaseMs: number, endpoints: EndpointFilter): Promise<ClaimedDelivery[]>;
  /** Returns how many waiting deliveries the results released (ordering by subject). */
  complete(results: readonly DeliveryResult[], now: number): Promise<number>;
  release(leases: readonly Lease[], now: number): Promise<void>;
}

export interface DispatcherOptions {
  queue: Queue;
  courier: Courier;
  logger: Logger;
  retrySchedule: readonly number[];
  /**
   * How long a claimed delivery stays ours. It may wait up to one attempt timeout for a slot at
   * its origin and then take one more to send, so the lease must exceed two timeouts.
   */
  leaseMs: number;
  batchSize: number;
  /** Deliveries held at once (sending or waiting for their origin), across all origins. */
  maxInFlight: number;
  /** Requests in flight to one origin (scheme + host + port) at most. */
  perOriginConcurrency: number;
  /** Idle poll for deliveries made due by time (retries) or by other processes. */
  pollIntervalMs: number;
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

/** A claimed delivery this process holds: being sent, or waiting for a free slot at its origin. */
interface Held {
  delivery: ClaimedDelivery;
  origin: Origin;
}

/** Deliveries held per origin (scheme + host + port): partners share nothing but a cap each. */
interface Origin {
  key: string;
  active: number;
  waiting: Held[];
  /** Endpoints seen at this origin: what its refill claims ask for. */
  seen: Set<string>;
  /** Due work for this origin may have been left in the database while it was busy. */
  backlog: boolean;
}

/**
 * Claim → hold per origin → courier (render, sign, send) → record. One loop claims due
 * deliveries in batches; each origin sends at most `perOriginConcurrency` at once and holds at
 * most twice that, so a slow partner neither
 * starves the others nor keeps a delivery waiting longer than one attempt's timeout (which is
 * why the lease must exceed two timeouts). Results are written in batches by a single flusher.
 * Background work never throws: database failures are logged and retried with backoff, and
 * results wait in memory meanwhile.
 */
export class Dispatcher {
  readonly #o: Required<DispatcherOptions>;
  readonly #abort = new AbortController();
  readonly #active = new Map<string, Promise<void>>();
  readonly #origins = new Map<string, Origin>();
  readonly #refills = new Set<Origin>();
  /** Free room worth a claim: refilling one slot at a time would cost a query per delivery. */
  readonly #refill: number;
  #held = 0;
  #results: DeliveryResult[] = [];
  #flushing: Promise<void> | null = null;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  /**
   * A sweep (claim across all endpoints) is wanted: something was published or came due, or
   * room opened up. Refills alone do not ask for one — with a backlog at a busy origin, a sweep
   * must scan past that backlog to find nothing, so sweeping after every refill would cost
   * O(backlog) per batch (measured: 4.5 ms per empty sweep over 30 000 due rows).
   */
  #sweepWanted = true;

  constructor(options: DispatcherOptions) {
    this.#o = { random: Math.random, now: Date.now, ...options };
    this.#refill = Math.max(1, Math.min(options.batchSize, Math.ceil(options.maxInFlight / 4)));
  }

  /** Attempts being sent right now. */
  get inFlight(): number {
    return this.#active.size;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Something became due (a publish, a manual retry, a NOTIFY): claim without waiting. */
  notify(): void {
    this.#sweepWanted = true;
    this.#rouse();
  }

  #rouse(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Stops claiming, gives back what was not yet sent, lets attempts in flight finish for up to
   * `graceMs`, then cancels the rest and gives their leases back too, so another dispatcher (or
   * the next start) sends them at once rather than after the lease expires.
   */
  async stop(graceMs: number): Promise<void> {
    this.#running = false;
    this.notify();
    await this.#loop;
    const waiting = [...this.#origins.values()].flatMap((o) => o.waiting.splice(0));
    for (const h of waiting) this.#unhold(h, false);
    await this.#release(waiting.map((h) => h.delivery));
    if (this.#active.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(this.#active.values()), grace]);
      clearTimeout(timer);
      this.#abort.abort();
      await Promise.all(this.#active.values());
    }
    await this.#flushing;
    await this.#flush();
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (this.#running) {
      try {
        await this.#refillOrigins();
        const free = this.#o.maxInFlight - this.#held;
        if (this.#sweepWanted && free >= this.#refill) {
          this.#sweepWanted = false;
          const limit = Math.min(this.#o.batchSize, free);
          const batch = await this.#o.queue.claim(this.#o.now(), limit, this.#o.leaseMs, {
            skip: this.#busyEndpoints(),
          });
          this.#dispatch(batch);
          // A full batch means more may be due: sweep again at once.
          if (batch.length === limit) this.#sweepWanted = true;
        }
        backoff = 0;
      } catch (error) {
        backoff = Math.min(Math.max(backoff * 2, 250), MAX_BACKOFF_MS);
        this.#o.logger.error({ err: error, retryInMs: backoff }, 'claiming deliveries failed');
        this.#sweepWanted = true;
        await this.#sleep(backoff);
        continue;
      }
      if ((this.#sweepWanted && this.#o.maxInFlight - this.#held >= this.#refill) || this.#refills.size > 0)
        continue;
      // Wait for a wake-up (publish, NOTIFY, room, a refill) or the poll tick, whose sweep
      // finds retries that came due.
      if (await this.#sleep(this.#o.pollIntervalMs)) this.#sweepWanted = true;
    }
  }

  /**
   * Claims more for origins that have room again after being busy while work for them was
   * skipped: a claim for their endpoints only, sized to their room, so a partner with a
   * backlog is fed in batches and no claim brings more than it can hold.
   */
  async #refillOrigins(): Promise<void> {
    for (const origin of this.#refills) {
      this.#refills.delete(origin);
      const room = Math.min(
        2 * this.#o.perOriginConcurrency - this.#heldAt(origin),
        this.#o.maxInFlight - this.#held,
      );
      if (room <= 0 || origin.seen.size === 0) continue;
      const batch = await this.#o.queue.claim(this.#o.now(), room, this.#o.leaseMs, {
        only: [...origin.seen],
      });
      if (batch.length < room) origin.backlog = false;
      this.#dispatch(batch);
    }
  }

  /** Resolves true when `ms` passed, false when woken earlier. */
  #sleep(ms: number): Promise<boolean> {
    if (this.#woken || !this.#running) {
      this.#woken = false;
      // Yield one turn so a burst of publishes is claimed as one batch.
      return new Promise((resolve) => setImmediate(() => resolve(false)));
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(true);
      }, ms);
      this.#wake = () => {
        this.#wake = null;
        this.#woken = false;
        clearTimeout(timer);
        setImmediate(() => resolve(false));
      };
    });
  }

  #heldAt(origin: Origin): number {
    return origin.active + origin.waiting.length;
  }

  /** Every send slot taken: the usual claim leaves this origin to #refillOrigins. */
  #busy(origin: Origin): boolean {
    return this.#heldAt(origin) >= this.#o.perOriginConcurrency;
  }

  #busyEndpoints(): string[] {
    const skip: string[] = [];
    for (const origin of this.#origins.values()) {
      if (!this.#busy(origin)) continue;
      origin.backlog = true; // we are about to skip work that may be due for it
      skip.push(...origin.seen);
    }
    return skip;
  }

  #dispatch(batch: readonly ClaimedDelivery[]): void {
    const overflow: ClaimedDelivery[] = [];
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
          releaseLine: lineOf(d),
        });
        continue;
      }
      const key = originOf(d.endpoint.url);
      let origin = this.#origins.get(key);
      if (!origin) {
        origin = { key, active: 0, waiting: [], seen: new Set(), backlog: false };
        this.#origins.set(key, origin);
      }
      origin.seen.add(d.endpoint.id);
      // Holding at most two rounds bounds a delivery's wait to one timeout (see leaseMs). Only a
      // sweep can bring more than that; the excess goes back, and the origin is refilled later.
      if (this.#heldAt(origin) >= 2 * this.#o.perOriginConcurrency) {
        origin.backlog = true;
        overflow.push(d);
        continue;
      }
      const held: Held = { delivery: d, origin };
      this.#held++;
      if (origin.active < this.#o.perOriginConcurrency) this.#start(held);
      else origin.waiting.push(held);
    }
    void this.#release(overflow);
  }

  #start(held: Held): void {
    held.origin.active++;
    const id = held.delivery.id;
    const attempt = this.#attempt(held.delivery).finally(() => {
      this.#active.delete(id);
      this.#unhold(held, true);
      const next = held.origin.waiting.shift();
      if (next) this.#start(next);
    });
    this.#active.set(id, attempt);
  }

  /** Forgets a delivery this process no longer holds, and wakes the loop if that makes room. */
  #unhold(held: Held, wasActive: boolean): void {
    const { origin } = held;
    const wasBusy = this.#busy(origin);
    if (wasActive) origin.active--;
    this.#held--;
    if (this.#heldAt(origin) === 0 && !origin.backlog) this.#origins.delete(origin.key);
    if (wasBusy && !this.#busy(origin) && origin.backlog && this.#running) {
      this.#refills.add(origin);
      this.#rouse();
    } else if (this.#o.maxInFlight - this.#held === this.#refill) {
      this.notify();
    }
  }

  /** Gives leases back without an attempt; failures only delay (the leases expire anyway). */
  async #release(deliveries: readonly ClaimedDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const leases = deliveries.map((d) => ({ id: d.id, leaseToken: d.leaseToken }));
    await this.#o.queue.release(leases, this.#o.now()).catch((error: unknown) => {
      this.#o.logger.warn(
        { err: error, deliveries: leases.length },
        'releasing leases failed; they will expire',
      );
    });
  }

  async #attempt(d: ClaimedDelivery): Promise<void> {
    const startedAt = this.#o.now();
    const outcome = await this.#o.courier.deliver(
      d.event,
      d.endpoint,
      { deliveryId: d.id, attempt: d.attemptCount + 1 },
      this.#abort.signal,
    );
    if (outcome.kind === 'aborted') return this.#release([d]);
    this.#record(this.#decide(d, outcome, startedAt));
  }

  /** What an attempt's outcome means for its delivery. */
  #decide(
    d: ClaimedDelivery,
    outcome: Exclude<DeliveryOutcome, { kind: 'aborted' }>,
    at: number,
  ): DeliveryResult {
    const attempt = toAttempt(outcome, d.attemptCount + 1, at);
    const base = { id: d.id, leaseToken: d.leaseToken, attempt, disableEndpoint: null, releaseLine: null };
    // A final result lets the next delivery of its line go.
    const final = { ...base, nextAttemptAt: null, releaseLine: lineOf(d) };
    if (attempt.error === null) return { ...final, status: 'succeeded' };
    // 410 Gone is the receiver saying the endpoint no longer exists (Standard Webhooks).
    if (attempt.statusCode === 410) return { ...final, status: 'failed', disableEndpoint: d.endpoint.id };
    // Retrying cannot help an event the endpoint's format cannot express, nor a manual retry.
    if (attempt.error === 'unrenderable' || d.manualRetry) return { ...final, status: 'failed' };
    const now = this.#o.now();
    const throttled =
      outcome.kind === 'response' && (outcome.statusCode === 429 || outcome.statusCode === 503);
    const retryAfter = throttled ? parseRetryAfter(outcome.retryAfter, now) : null;
    const delay = nextRetryDelay(this.#o.retrySchedule, attempt.number, retryAfter, this.#o.random);
    if (delay === null) return { ...final, status: 'failed' };
    return { ...base, status: 'pending', nextAttemptAt: now + delay };
  }

  #record(result: DeliveryResult): void {
    this.#results.push(result);
    // Wait out the current event-loop turn: the responses that arrived in it share one write.
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#flush())
      .finally(() => {
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
        const released = await this.#o.queue.complete(batch, this.#o.now());
        if (released > 0) this.notify();
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

const lineOf = (d: ClaimedDelivery): DeliveryResult['releaseLine'] =>
  d.ordered && d.event.subject !== null ? { endpointId: d.endpoint.id, subject: d.event.subject } : null;

/** The attempt log entry for an exchange: 2xx succeeds, 3xx is never followed, the rest fail. */
function toAttempt(
  outcome: Exclude<DeliveryOutcome, { kind: 'aborted' }>,
  number: number,
  at: number,
): Attempt {
  if (outcome.kind === 'unrenderable') {
    return {
      number,
      at,
      statusCode: null,
      durationMs: 0,
      error: 'unrenderable',
      errorMessage: outcome.reason,
      responseBody: null,
    };
  }
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
