// Database errors after which the whole transaction was rolled back and may simply run again:
// PostgreSQL's deadlock and serialization failures (several processes on one database). SQLite
// has one writer and raises neither.
const RETRYABLE = new Set(['40P01', '40001']);

export function isRetryableConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && RETRYABLE.has(String((err as { code?: unknown }).code));
}
