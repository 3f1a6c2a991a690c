// The audit trail: append-only rows, written in the transaction of the change they record; read newest
// first by id (keyset paging), and pruned by age in bounded batches.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuditEventTable, Database } from '../database.js';
import { isPostgres } from '../dialect-of.js';

export type AuditRow = Insertable<AuditEventTable>;
export type AuditEvent = Selectable<AuditEventTable>;

export async function insertAuditEvents(db: Kysely<Database>, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('audit_events').values(rows).execute();
}

/** A text filter: the exact value, or every value starting with `prefix`. */
export type Match = { exact: string } | { prefix: string };

export interface AuditFilter {
  /** undefined: every account (the platform admin's `account=*`). */
  accountId?: string;
  from?: number;
  to?: number;
  user?: string;
  action?: Match;
  resource?: Match;
  /** success: status < 400; failure: status ≥ 400; a number: that status. */
  outcome?: 'success' | 'failure' | number;
  /** Rows with an id below this one (the previous page's last). */
  beforeId?: number;
  limit: number;
}

/** The rows matching, newest (highest id) first. */
export async function listAuditEvents(db: Kysely<Database>, f: AuditFilter): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll();
  if (f.accountId !== undefined) q = q.where('account_id', '=', f.accountId);
  if (f.from !== undefined) q = q.where('time', '>=', f.from);
  if (f.to !== undefined) q = q.where('time', '<', f.to);
  if (f.user !== undefined) q = q.where('user_name', '=', f.user);
  for (const [column, m] of [['action', f.action], ['resource', f.resource]] as const) {
    if (m === undefined) continue;
    // substr, not LIKE: no wildcards to escape, and case-sensitive on both stores (SQLite's LIKE is not).
    q = 'exact' in m ? q.where(column, '=', m.exact) : q.where((eb) => eb(eb.fn('substr', [eb.ref(column), eb.val(1), eb.val(m.prefix.length)]), '=', m.prefix));
  }
  if (f.outcome === 'success') q = q.where('status', '<', 400);
  else if (f.outcome === 'failure') q = q.where('status', '>=', 400);
  else if (f.outcome !== undefined) q = q.where('status', '=', f.outcome);
  if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}

/**
 * Deletes up to `batch` rows older than `before`; answers how many. Several processes pruning one
 * PostgreSQL store at once skip the rows another is deleting instead of waiting on them.
 */
export async function pruneAuditEvents(db: Kysely<Database>, before: number, batch: number): Promise<number> {
  const r = await db
    .deleteFrom('audit_events')
    .where('id', 'in', (eb) => {
      const old = eb.selectFrom('audit_events').select('id').where('time', '<', before).orderBy('id').limit(batch);
      return isPostgres(db) ? old.forUpdate().skipLocked() : old;
    })
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
