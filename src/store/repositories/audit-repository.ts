// The audit trail: append-only rows, written in the transaction of the change they record.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuditEventTable, Database } from '../database.js';

export type AuditRow = Insertable<AuditEventTable>;
export type AuditEvent = Selectable<AuditEventTable>;

export async function insertAuditEvents(db: Kysely<Database>, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('audit_events').values(rows).execute();
}
