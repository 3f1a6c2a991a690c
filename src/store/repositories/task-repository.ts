// Tasks and their per-URL records.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, TaskTable, TaskUrlTable } from '../database.js';

export type TaskRow = Selectable<TaskTable>;
export type TaskUrlRow = Selectable<TaskUrlTable>;
export type NewTaskUrl = Omit<Insertable<TaskUrlTable>, 'task_id' | 'id'>;

export const IN_FLIGHT_STATUSES = ['waiting', 'refreshing', 'preheating'] as const;

// SQLite accepts 32,766 bound values per statement; 14 columns per row.
const INSERT_CHUNK = 1000;

/** Inserts a task and its URLs; returns the task id and the URL ids in order. */
export async function insertTask(
  db: Kysely<Database>,
  task: Omit<Insertable<TaskTable>, 'id'>,
  urls: NewTaskUrl[],
): Promise<{ taskId: number; urlIds: number[] }> {
  const { id } = await db.insertInto('tasks').values(task).returning('id').executeTakeFirstOrThrow();
  const taskId = Number(id);
  const urlIds: number[] = [];
  for (let i = 0; i < urls.length; i += INSERT_CHUNK) {
    const rows = urls.slice(i, i + INSERT_CHUNK).map((u) => ({ ...u, task_id: taskId }));
    const inserted = await db.insertInto('task_urls').values(rows).returning('id').execute();
    for (const r of inserted) urlIds.push(Number(r.id));
  }
  return { taskId, urlIds };
}

export async function findTask(db: Kysely<Database>, accountId: string, id: number): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
}

export async function findTaskById(db: Kysely<Database>, id: number): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
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
}

export async function listTasks(db: Kysely<Database>, f: TaskFilter): Promise<{ total: number; rows: TaskRow[] }> {
  let q = db.selectFrom('tasks').where('account_id', '=', f.accountId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.taskType) q = q.where('task_type', '=', f.taskType);
  if (f.fileType) q = q.where('file_type', '=', f.fileType);
  if (f.startDate !== undefined) q = q.where('create_time', '>=', f.startDate);
  if (f.endDate !== undefined) q = q.where('create_time', '<=', f.endDate);
  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
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
}

export async function listUrlRecords(db: Kysely<Database>, f: UrlRecordFilter): Promise<{ total: number; rows: TaskUrlRow[] }> {
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
  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('create_time', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute();
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
export async function markUrlsStarted(db: Kysely<Database>, ids: number[], status: string, now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
    await db
      .updateTable('task_urls')
      .set({ status, modify_time: now })
      .where('id', 'in', ids.slice(i, i + INSERT_CHUNK))
      .where('status', '=', 'waiting')
      .execute();
  }
}

export interface UrlOutcome {
  id: number;
  ok: boolean;
  failClassify?: string;
  failDesc?: string;
}

/**
 * Records terminal outcomes and moves the task counters in the same transaction (the caller's).
 * A URL already terminal is left alone, so an outcome is counted once even if delivered twice.
 * Returns the ids of tasks that became task_done.
 */
export async function recordOutcomes(db: Kysely<Database>, outcomes: UrlOutcome[], now: number): Promise<number[]> {
  const perTask = new Map<number, { succeed: number; failed: number }>();
  const bump = (taskId: number, ok: boolean) => {
    let c = perTask.get(taskId);
    if (!c) perTask.set(taskId, (c = { succeed: 0, failed: 0 }));
    if (ok) c.succeed++;
    else c.failed++;
  };
  const succeeded = outcomes.filter((o) => o.ok).map((o) => o.id);
  for (let i = 0; i < succeeded.length; i += INSERT_CHUNK) {
    const rows = await db
      .updateTable('task_urls')
      .set({ status: 'succeed', modify_time: now })
      .where('id', 'in', succeeded.slice(i, i + INSERT_CHUNK))
      .where('status', 'in', [...IN_FLIGHT_STATUSES])
      .returning('task_id')
      .execute();
    for (const r of rows) bump(Number(r.task_id), true);
  }
  for (const o of outcomes) {
    if (o.ok) continue;
    const row = await db
      .updateTable('task_urls')
      .set({ status: 'failed', fail_classify: o.failClassify ?? 'UNKNOWN_ERROR', fail_desc: o.failDesc ?? '', modify_time: now })
      .where('id', '=', o.id)
      .where('status', 'in', [...IN_FLIGHT_STATUSES])
      .returning('task_id')
      .executeTakeFirst();
    if (row) bump(Number(row.task_id), false);
  }
  const done: number[] = [];
  for (const [taskId, c] of perTask) {
    const row = await db
      .updateTable('tasks')
      .set((eb) => ({
        succeed: eb('succeed', '+', c.succeed),
        failed: eb('failed', '+', c.failed),
        processing: eb('processing', '-', c.succeed + c.failed),
      }))
      .where('id', '=', taskId)
      .returning(['processing', 'status'])
      .executeTakeFirst();
    if (row && Number(row.processing) <= 0 && row.status !== 'task_done') {
      await db.updateTable('tasks').set({ status: 'task_done' }).where('id', '=', taskId).execute();
      done.push(taskId);
    }
  }
  return done;
}
