// The audit trail as the API and the server see it: the rows of calls that change nothing or failed
// (success rows of changes are written by the services, in the change's transaction), the reading of
// it (one account's, or every account's for the platform admin), and its retention.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { findAccountByName } from '../store/repositories/account-repository.js';
import { insertAuditEvents, listAuditEvents, pruneAuditEvents, type AuditEvent, type AuditFilter, type AuditRow, type Match } from '../store/repositories/audit-repository.js';
import { badParameter, forbidden } from '../errors.js';
import type { Call } from './iam/call.js';
import { BackgroundPruner } from './background-pruner.js';

const PRUNE_BATCH = 1000;
/** Rows per page of an NDJSON export: the memory it holds at once. */
const EXPORT_PAGE = 1000;
export const MAX_PAGE = 1000;

export interface AuditQuery {
  /** The platform admin only: another account by name, or '*' for every account. */
  account?: string;
  from?: number;
  to?: number;
  user?: string;
  action?: string;
  resource?: string;
  outcome?: string;
  marker?: string;
  limit?: number;
}

/** An event as the API answers it. */
export function auditObject(e: AuditEvent) {
  return {
    id: String(e.id),
    time: Number(e.time),
    account_id: e.account_id,
    user_id: e.user_id,
    user_name: e.user_name,
    access_key: e.access_key,
    source_ip: e.source_ip,
    user_agent: e.user_agent,
    request_id: e.request_id,
    action: e.action,
    resource: e.resource,
    status: Number(e.status),
    error_code: e.error_code,
  };
}
export type AuditObject = ReturnType<typeof auditObject>;

/** `abc` exactly, or `ab*`: every value starting with `ab`. */
function match(value: string | undefined): Match | undefined {
  if (value === undefined || value === '') return undefined;
  return value.endsWith('*') ? { prefix: value.slice(0, -1) } : { exact: value };
}

function outcomeOf(value: string | undefined): AuditFilter['outcome'] {
  if (value === undefined || value === '') return undefined;
  if (value === 'success' || value === 'failure') return value;
  if (/^[1-5]\d\d$/.test(value)) return Number(value);
  throw badParameter("outcome: success, failure or an HTTP status (403)");
}

export class AuditService {
  private readonly pruner: BackgroundPruner;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { retentionDays: number; reads: boolean; log?: (msg: string, err?: unknown) => void },
  ) {
    this.pruner = new BackgroundPruner({
      retentionDays: options.retentionDays,
      batchSize: PRUNE_BATCH,
      batch: (before) => pruneAuditEvents(db, before, PRUNE_BATCH),
      what: 'the audit trail',
      log: options.log,
    });
  }

  /** Whether successful reads are recorded too (--audit-reads). */
  get recordsReads(): boolean {
    return this.options.reads;
  }

  /** Rows outside a change's transaction: failed calls, and reads. */
  record(rows: AuditRow[]): Promise<void> {
    return insertAuditEvents(this.db, rows);
  }

  /** The filter a query asks for, scoped to what the caller may read. */
  async filterOf(call: Call, isPlatformAdmin: boolean, q: AuditQuery): Promise<AuditFilter> {
    let accountId: string | undefined = call.accountId;
    if (q.account !== undefined && q.account !== '') {
      if (!isPlatformAdmin) throw forbidden('Only the admin account may read the audit trail of another account.');
      if (q.account === '*') accountId = undefined;
      else {
        const a = await findAccountByName(this.db, q.account);
        if (!a) throw badParameter(`account: no account '${q.account.slice(0, 64)}'`);
        accountId = a.id;
      }
    }
    let beforeId: number | undefined;
    if (q.marker !== undefined && q.marker !== '') {
      if (!/^\d{1,15}$/.test(q.marker)) throw badParameter('marker: the next_marker of the previous page');
      beforeId = Number(q.marker);
    }
    if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw badParameter('from must not be after to');
    return {
      accountId,
      from: q.from,
      to: q.to,
      user: q.user === '' ? undefined : q.user,
      action: match(q.action),
      resource: match(q.resource),
      outcome: outcomeOf(q.outcome),
      beforeId,
      limit: Math.min(q.limit ?? 100, MAX_PAGE),
    };
  }

  /** One page, newest first; `next_marker` names the next one while there may be more. */
  async page(filter: AuditFilter): Promise<{ events: AuditObject[]; next_marker: string | null }> {
    const rows = await listAuditEvents(this.db, filter);
    const events = rows.map(auditObject);
    return { events, next_marker: rows.length === filter.limit && rows.length > 0 ? events[events.length - 1].id : null };
  }

  /** Every matching row, newest first, a page at a time (the memory of one page, whatever the total). */
  async *all(filter: Omit<AuditFilter, 'limit'>): AsyncGenerator<AuditObject> {
    let beforeId = filter.beforeId;
    for (;;) {
      const rows = await listAuditEvents(this.db, { ...filter, beforeId, limit: EXPORT_PAGE });
      for (const r of rows) yield auditObject(r);
      if (rows.length < EXPORT_PAGE) return;
      beforeId = Number(rows[rows.length - 1].id);
    }
  }

  /** Deletes rows older than the retention, in batches (none when it is 0: kept forever). */
  prune(now = Date.now()): Promise<number> {
    return this.pruner.prune(now);
  }

  /** Prunes now and then hourly. */
  start(): void {
    this.pruner.start();
  }

  stop(): Promise<void> {
    return this.pruner.stop();
  }
}
