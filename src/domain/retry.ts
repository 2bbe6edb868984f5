/**
 * Retry policy: when the next attempt of a delivery happens, if at all. Pure functions; the
 * dispatcher supplies the clock and the random source.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Delay before each attempt, counted from the previous one (the first from publish). */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
];

/** ±20 %: spreads the retries of a burst that failed together so they do not return together. */
export const JITTER = 0.2;

/** A receiver cannot push the next attempt further than this with `Retry-After`. */
export const RETRY_AFTER_CAP_MS = 24 * 3_600_000;

/**
 * Parses `0`, `250ms`, `5s`, `5m`, `2h`, `1d`; a bare number means seconds.
 *
 * @example parseDuration('5m') // 300000
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 5s, 5m, 2h, 1d)`);
  const value = Number(match[1]);
  const unit = UNITS[match[2] ?? 's'] ?? 1000;
  return Math.round(value * unit);
}

/**
 * Parses a comma list such as `0,5s,5m,2h` into delays in milliseconds.
 *
 * @example parseSchedule('0,5s,5m') // [0, 5000, 300000]
 */
export function parseSchedule(text: string): number[] {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0) throw new Error('the retry schedule needs at least one entry');
  if (parts.length > 100) throw new Error('the retry schedule allows at most 100 attempts');
  return parts.map(parseDuration);
}

/** Applies ±JITTER to a delay; `random` returns a number in [0, 1). */
export function withJitter(delayMs: number, random: () => number): number {
  if (delayMs === 0) return 0;
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * Parses a `Retry-After` header (delay-seconds or an HTTP date) into milliseconds from `now`.
 * Returns null when absent or unparseable, so a malformed header falls back to the schedule.
 */
export function parseRetryAfter(header: string | undefined, now: number): number | null {
  if (header === undefined) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * Delay before the next attempt after `attemptsMade` attempts failed, or null when the schedule
 * is exhausted. `Retry-After` can only postpone the next attempt (never bring it forward, which
 * would burn through the schedule in seconds) and never beyond RETRY_AFTER_CAP_MS.
 */
export function nextRetryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterMs: number | null,
  random: () => number,
): number | null {
  const base = schedule[attemptsMade];
  if (base === undefined) return null;
  const scheduled = withJitter(base, random);
  if (retryAfterMs === null) return scheduled;
  return Math.max(scheduled, Math.min(retryAfterMs, RETRY_AFTER_CAP_MS));
}
