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
