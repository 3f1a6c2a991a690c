// Tasks and their per-URL records.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect-of.js';
import { prepared } from '../postgres/prepared-statements.js';
import { insertNodeResults } from './node-repository.js';
import { recordOutcomesInOneStatement } from './task-outcomes-postgres.js';
import { insertTasksInOneStatement } from './task-intake-postgres.js';
import { addUsages, type UsageDelta } from './quota-repository.js';
import { yieldToEventLoop } from '../event-loop-yield.js';
import type { Database } from '../database.js';
import { DAY_MS } from '../migrations.js';
import { TASK_COLUMNS, countCells, newTaskCounts, taskCountersSet, type CountChange, type NewTask, taskResource, type TaskRow, type TaskUrlRow, type UrlOutcome, type UrlStarted } from './task-rows.js';

export const IN_FLIGHT_STATUSES = ['waiting', 'refreshing', 'preheating'] as const;

// Rows per statement: SQLite accepts 32,766 bound values (14 columns a row), and smaller statements
// keep the short-lived garbage of building them (and the peak heap) small.
const INSERT_CHUNK = 250;

/**
 * Inserts tasks with their URLs, counts them, and books the quota `usage` they take, in the caller's
 * transaction: a few multi-row statements for the whole batch (one on PostgreSQL). URL ids come back
 * per task, in the order of its `urls`.
 */
export async function insertTasks(db: Kysely<Database>, tasks: NewTask[], usage: UsageDelta[] = []): Promise<Array<{ taskId: number; urlIds: number[] }>> {
  if (isPostgres(db) && tasks.length > 0) return insertTasksInOneStatement(db, tasks, usage);
  await addUsages(db, usage);
  if (tasks.length === 0) return [];
  const taskIds = await insertReturningIds(db, TASK_INSERT, tasks.length, (k, out) => {
    const t = tasks[k].task;
    out.push(t.account_id, t.task_type, t.file_type, t.mode, t.status, t.total, t.processing, t.succeed, t.failed, t.create_time, t.enterprise_project_id ?? '0', t.created_by_user_id ?? null, t.created_by_user ?? null, t.created_by_key ?? null);
  });
  const audits = tasks.flatMap((t, i) => (t.audit ? [{ ...t.audit, resource: taskResource(taskIds[i]) }] : []));
  await insertReturningIds(db, AUDIT_INSERT, audits.length, (k, out) => {
    const a = audits[k];
    out.push(a.time, a.account_id ?? null, a.user_id ?? null, a.user_name ?? null, a.access_key ?? null, a.source_ip, a.user_agent, a.request_id, a.action, a.resource, a.status, a.error_code ?? null);
  });
  const owners = tasks.flatMap((t, i) => t.urls.map(() => i));
  const urls = tasks.flatMap((t) => t.urls);
  const urlIds = await insertReturningIds(db, URL_INSERT, urls.length, (k, out) => {
    const u = urls[k];
    out.push(taskIds[owners[k]], u.account_id, u.url, u.host, u.target, u.status, u.task_type, u.file_type, u.mode, u.fail_classify ?? null, u.fail_desc ?? null, u.create_time, u.modify_time, u.lease_owner ?? null);
  });
  await addTaskCounts(db, newTaskCounts(tasks));
  let next = 0;
  return tasks.map((t, i) => ({ taskId: taskIds[i], urlIds: urlIds.slice(next, (next += t.urls.length)) }));
}

/**
 * The intake's multi-row inserts as SQL text, one per row count: building and compiling 250 x 14
 * value nodes per chunk in the query builder took ~40% of the insert's time, and made much garbage.
 */
class RowInsert {
  private readonly texts = new Map<number, string>();
  private readonly row: string;

  constructor(
    private readonly table: string,
    readonly columns: readonly string[],
  ) {
    this.row = `(${columns.map(() => '?').join(', ')})`;
  }

  text(rows: number): string {
    let t = this.texts.get(rows);
    if (t === undefined) {
      t = `insert into "${this.table}" (${this.columns.map((c) => `"${c}"`).join(', ')}) values ${Array(rows).fill(this.row).join(', ')} returning "id"`;
      this.texts.set(rows, t);
    }
    return t;
  }
}

const TASK_INSERT = new RowInsert('tasks', [
  'account_id',
  'task_type',
  'file_type',
  'mode',
  'status',
  'total',
  'processing',
  'succeed',
  'failed',
  'create_time',
  'enterprise_project_id',
  'created_by_user_id',
  'created_by_user',
  'created_by_key',
]);
// The create calls' audit rows, written with their tasks.
const AUDIT_INSERT = new RowInsert('audit_events', ['time', 'account_id', 'user_id', 'user_name', 'access_key', 'source_ip', 'user_agent', 'request_id', 'action', 'resource', 'status', 'error_code']);
const URL_INSERT = new RowInsert('task_urls', ['task_id', 'account_id', 'url', 'host', 'target', 'status', 'task_type', 'file_type', 'mode', 'fail_classify', 'fail_desc', 'create_time', 'modify_time', 'lease_owner']);

/**
 * Inserts `count` rows, `values(k, out)` pushing row k's values in column order; the new ids in row
 * order. The ids of one statement ascend in row order (autoincrement), while RETURNING promises no
 * order, hence the sort.
 */
async function insertReturningIds(db: Kysely<Database>, insert: RowInsert, count: number, values: (k: number, out: unknown[]) => void): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i += INSERT_CHUNK) {
    // SQLite runs each statement on the event loop: between chunks of a large task, let it serve others
    // (the transaction keeps the one connection, so no write of theirs comes in between).
    if (i > 0) await yieldToEventLoop();
    const n = Math.min(INSERT_CHUNK, count - i);
    const params: unknown[] = [];
    for (let k = i; k < i + n; k++) values(k, params);
    const { rows } = await db.executeQuery<{ id: number }>(CompiledQuery.raw(insert.text(n), params));
    for (const id of rows.map((r) => Number(r.id)).sort((a, b) => a - b)) ids.push(id);
  }
  return ids;
}

export async function findTask(db: Kysely<Database>, accountId: string, id: number): Promise<TaskRow | undefined> {
  // Read by every wait and status poll: prepared on PostgreSQL (the mark is a comment to SQLite).
  return (await sql<TaskRow>`${prepared} select * from tasks where id = ${id} and account_id = ${accountId}`.execute(db)).rows[0];
}

export type TaskOrderField = 'task_type' | 'total' | 'processing' | 'succeed' | 'failed' | 'create_time';

export interface TaskFilter {
  accountId: string;
  status?: string;
  taskType?: string;
  fileType?: string;
  startDate?: number;
  endDate?: number;
  orderField: TaskOrderField;
  orderType: 'asc' | 'desc';
  limit: number;
  offset: number;
  /** The enterprise projects to show; undefined: every one. */
  projects?: readonly string[];
}

/** Keeps task_counts in step with tasks, in the caller's transaction: one upsert for all cells. */
export async function addTaskCounts(db: Kysely<Database>, changes: CountChange[]): Promise<void> {
  const rows = countCells(changes);
  if (rows.length === 0) return;
  await db
    .insertInto('task_counts')
    .values(rows)
    .onConflict((oc) => oc.columns(['account_id', 'day', 'task_type', 'file_type', 'status']).doUpdateSet((eb) => ({ n: eb('task_counts.n', '+', eb.ref('excluded.n')) })))
    .execute();
}

function filterTasks(db: Kysely<Database>, f: TaskFilter, from?: number, to?: number) {
  let q = db.selectFrom('tasks').where('account_id', '=', f.accountId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.taskType) q = q.where('task_type', '=', f.taskType);
  if (f.fileType) q = q.where('file_type', '=', f.fileType);
  if (f.projects) q = q.where('enterprise_project_id', 'in', [...f.projects]);
  if (from !== undefined) q = q.where('create_time', '>=', from);
  if (to !== undefined) q = q.where('create_time', '<=', to);
  return q;
}

async function countRows(db: Kysely<Database>, f: TaskFilter, from?: number, to?: number): Promise<number> {
  const r = await filterTasks(db, f, from, to).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * The exact number of tasks matching the filter: whole UTC days from task_counts, and only the
 * partial days at the edges of a time window from the tasks themselves.
 */
export async function countTasks(db: Kysely<Database>, f: TaskFilter): Promise<number> {
  const start = f.startDate;
  const end = f.endDate;
  const firstWholeDay = start === undefined ? undefined : Math.ceil(start / DAY_MS);
  const endExclusiveDay = end === undefined ? undefined : Math.floor((end + 1) / DAY_MS);
  // task_counts are per account: a listing of some projects only counts the tasks themselves.
  if (f.projects) return countRows(db, f, start, end);
  if (firstWholeDay !== undefined && endExclusiveDay !== undefined && firstWholeDay >= endExclusiveDay) return countRows(db, f, start, end);
  let q = db.selectFrom('task_counts').where('account_id', '=', f.accountId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.taskType) q = q.where('task_type', '=', f.taskType);
  if (f.fileType) q = q.where('file_type', '=', f.fileType);
  if (firstWholeDay !== undefined) q = q.where('day', '>=', firstWholeDay);
  if (endExclusiveDay !== undefined) q = q.where('day', '<', endExclusiveDay);
  const r = await q.select((eb) => eb.fn.sum<number>('n').as('n')).executeTakeFirstOrThrow();
  let total = Number(r.n ?? 0);
  if (start !== undefined && start < firstWholeDay! * DAY_MS) total += await countRows(db, f, start, firstWholeDay! * DAY_MS - 1);
  if (end !== undefined && end >= endExclusiveDay! * DAY_MS) total += await countRows(db, f, endExclusiveDay! * DAY_MS, end);
  return total;
}

export async function listTasks(db: Kysely<Database>, f: TaskFilter): Promise<{ total: number; rows: TaskRow[] }> {
  if (f.projects?.length === 0) return { total: 0, rows: [] };
  const q = filterTasks(db, f, f.startDate, f.endDate);
  const total = await countTasks(db, f);
  let page = q.selectAll().orderBy(f.orderField, f.orderType);
  if (f.orderField !== 'create_time') page = page.orderBy('create_time', f.orderType);
  const rows = await page.orderBy('id', f.orderType).limit(f.limit).offset(f.offset).execute();
  return { total: Number(total), rows };
}

export interface TaskUrlFilter {
  taskId: number;
  /** A URL status, or 'processing' for any state still in flight. */
  status?: string;
  url?: string;
  limit: number;
  offset: number;
}

export async function listTaskUrls(db: Kysely<Database>, f: TaskUrlFilter): Promise<TaskUrlRow[]> {
  let q = db.selectFrom('task_urls').selectAll().where('task_id', '=', f.taskId);
  if (f.status === 'processing') q = q.where('status', 'in', [...IN_FLIGHT_STATUSES]);
  else if (f.status) q = q.where('status', '=', f.status);
  if (f.url !== undefined) q = q.where('url', '=', f.url);
  return q.orderBy('id').limit(f.limit).offset(f.offset).execute();
}

export interface UrlRecordFilter {
  accountId: string;
  startTime: number;
  endTime: number;
  url?: string;
  taskType?: string;
  status?: string;
  fileType?: string;
  limit: number;
  offset: number;
  /** The enterprise projects of the URLs' tasks; undefined: every one. */
  projects?: readonly string[];
}

export async function listUrlRecords(db: Kysely<Database>, f: UrlRecordFilter): Promise<{ total: number; rows: TaskUrlRow[] }> {
  if (f.projects?.length === 0) return { total: 0, rows: [] };
  let q = db
    .selectFrom('task_urls')
    .where('account_id', '=', f.accountId)
    .where('create_time', '>=', f.startTime)
    .where('create_time', '<=', f.endTime);
  if (f.url !== undefined) q = q.where('url', '=', f.url);
  if (f.taskType) q = q.where('task_type', '=', f.taskType);
  if (f.status === 'processing') q = q.where('status', 'in', [...IN_FLIGHT_STATUSES]);
  else if (f.status) q = q.where('status', '=', f.status);
  if (f.fileType) q = q.where('file_type', '=', f.fileType);
  const projects = f.projects;
  // A URL's project is its task's: looked up per URL of the time window, by the task's primary key.
  if (projects) q = q.where(({ exists, selectFrom }) => exists(selectFrom('tasks').select('tasks.id').whereRef('tasks.id', '=', 'task_urls.task_id').where('tasks.enterprise_project_id', 'in', [...projects])));
  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const rows = await q.selectAll('task_urls').orderBy('create_time', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute();
  return { total: Number(total), rows };
}

/** URLs accepted but not yet terminal: the engine's work after a restart. */
export async function listInFlightUrls(db: Kysely<Database>, afterId: number, limit: number): Promise<TaskUrlRow[]> {
  return db
    .selectFrom('task_urls')
    .selectAll()
    .where('status', 'in', [...IN_FLIGHT_STATUSES])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** waiting → refreshing/preheating, for URLs still waiting. */
async function markUrlsStarted(db: Kysely<Database>, ids: number[], status: string, now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
    if (i > 0) await yieldToEventLoop();
    await db
      .updateTable('task_urls')
      .set({ status, modify_time: now })
      .where('id', 'in', ids.slice(i, i + INSERT_CHUNK))
      .where('status', '=', 'waiting')
      .execute();
  }
}

/**
 * Started marks and terminal outcomes as one write: recordOutcomes, after the marks (markUrlsStarted).
 * A URL must not be both marked and given an outcome in one call. One statement on PostgreSQL (so it
 * may run without a transaction: Store.recoverableStatement); several on SQLite, in the caller's
 * transaction. Answers the tasks that became task_done, as they now are.
 */
export async function writeUrlStates(db: Kysely<Database>, started: UrlStarted[], outcomes: UrlOutcome[], now: number, owner?: string): Promise<TaskRow[]> {
  if (isPostgres(db)) return recordOutcomesInOneStatement(db, outcomes, now, owner, started);
  const byStatus = new Map<string, number[]>();
  for (const s of started) {
    let ids = byStatus.get(s.status);
    if (!ids) byStatus.set(s.status, (ids = []));
    ids.push(s.id);
  }
  for (const [status, ids] of byStatus) await markUrlsStarted(db, ids, status, now);
  if (started.length > INSERT_CHUNK) await yieldToEventLoop();
  return recordOutcomes(db, outcomes, now, owner);
}

/**
 * Records terminal outcomes and moves the task counters in the same transaction (the caller's).
 * A URL already terminal is left alone, so an outcome is counted once even if delivered twice.
 * With `owner` (several processes on one store), only URLs that process still holds are written: one
 * whose lease was lost belongs to the process that took it over.
 * Returns the tasks that became task_done, as they now are.
 */
export async function recordOutcomes(db: Kysely<Database>, outcomes: UrlOutcome[], now: number, owner?: string): Promise<TaskRow[]> {
  if (isPostgres(db)) return recordOutcomesInOneStatement(db, outcomes, now, owner);
  const perTask = new Map<number, { succeed: number; failed: number }>();
  const bump = (taskId: number, ok: boolean) => {
    let c = perTask.get(taskId);
    if (!c) perTask.set(taskId, (c = { succeed: 0, failed: 0 }));
    if (ok) c.succeed++;
    else c.failed++;
  };
  const written = new Set<number>();
  const succeeded = outcomes.filter((o) => o.ok).map((o) => o.id);
  // SQLite runs each statement on the event loop: a burst's outcomes (thousands of URLs) written in
  // one go held it for ~40 ms. A long write lets others in between its chunks.
  const pause = outcomes.length > INSERT_CHUNK ? yieldToEventLoop : async () => undefined;
  for (let i = 0; i < succeeded.length; i += INSERT_CHUNK) {
    await pause();
    let q = db
      .updateTable('task_urls')
      .set({ status: 'succeed', modify_time: now })
      .where('id', 'in', succeeded.slice(i, i + INSERT_CHUNK))
      .where('status', 'in', [...IN_FLIGHT_STATUSES]);
    if (owner !== undefined) q = q.where('lease_owner', '=', owner);
    const rows = await q.returning(['id', 'task_id']).execute();
    for (const r of rows) {
      bump(Number(r.task_id), true);
      written.add(Number(r.id));
    }
  }
  let failedSinceYield = 0;
  for (const o of outcomes) {
    if (o.ok) continue;
    if (failedSinceYield++ % INSERT_CHUNK === 0) await pause();
    let q = db
      .updateTable('task_urls')
      .set({ status: 'failed', fail_classify: o.failClassify ?? 'UNKNOWN_ERROR', fail_desc: o.failDesc ?? '', modify_time: now })
      .where('id', '=', o.id)
      .where('status', 'in', [...IN_FLIGHT_STATUSES]);
    if (owner !== undefined) q = q.where('lease_owner', '=', owner);
    const row = await q.returning('task_id').executeTakeFirst();
    if (row) {
      bump(Number(row.task_id), false);
      written.add(o.id);
    }
  }
  const done: TaskRow[] = [];
  const counts: CountChange[] = [];
  const entries = [...perTask].sort(([a], [b]) => a - b);
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    await pause();
    const chunk = entries.slice(i, i + INSERT_CHUNK);
    // One statement for the whole batch of tasks. Typed: PostgreSQL takes untyped VALUES as text.
    const values = sql.join(chunk.map(([id, c]) => sql`(cast(${id} as bigint), cast(${c.succeed} as integer), cast(${c.failed} as integer))`));
    const { rows } = await sql<TaskRow>`
      with v(id, s, f) as (values ${values})
      update tasks set ${taskCountersSet('v')}
      from v where tasks.id = v.id
      returning ${TASK_COLUMNS}`.execute(db);
    for (const row of rows) {
      const c = perTask.get(Number(row.id))!;
      const processing = Number(row.processing);
      // Done now, and not already before this batch.
      if (processing <= 0 && processing + c.succeed + c.failed > 0) {
        done.push(row);
        counts.push({ ...row, status: 'task_inprocess', n: -1 }, { ...row, status: 'task_done', n: 1 });
      }
    }
  }
  await addTaskCounts(db, counts);
  const perNode = outcomes.filter((o) => o.nodeResults !== undefined && written.has(o.id)).map((o) => ({ url_id: o.id, results: o.nodeResults! }));
  if (perNode.length > 0) {
    await pause();
    await insertNodeResults(db, perNode);
  }
  return done;
}
