import type { AppError } from '../errors.ts';
import type { Param, Queryable } from './db.ts';

/** True when a statement failed on a UNIQUE or PRIMARY KEY constraint, on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errcode, message } = error as { code?: unknown; errcode?: unknown; message?: unknown };
  // PostgreSQL: SQLSTATE 23505. SQLite: SQLITE_CONSTRAINT_UNIQUE (2067) / _PRIMARYKEY (1555).
  return (
    code === '23505' ||
    errcode === 2067 ||
    errcode === 1555 ||
    /UNIQUE constraint failed/.test(String(message))
  );
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

/**
 * True when the database could not be reached or is going away — the client may retry later,
 * unlike a bug. SQLite's BUSY (another process holds the write lock past busy_timeout) counts.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errcode, message } = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (errcode === 5 || errcode === 6) return true; // SQLITE_BUSY, SQLITE_LOCKED
  return /Connection terminated|connection timeout|Cannot use a pool after calling end|database is locked/i.test(
    String(message),
  );
}

/**
 * Inserts a row whose id (or other unique key) the caller chose; a clash becomes the 409 that
 * `conflict` describes instead of a database error.
 */
export async function insertOrConflict(
  q: Queryable,
  sql: string,
  params: readonly Param[],
  conflict: () => AppError,
): Promise<void> {
  try {
    await q.run(sql, params);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}
