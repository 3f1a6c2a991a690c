// A write refused because a unique index already holds the value: PostgreSQL's 23505, SQLite's
// UNIQUE or PRIMARY KEY constraint. Services map it to their own "already exists" answer.
const CODES = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && CODES.has(String((err as { code?: unknown }).code));
}
