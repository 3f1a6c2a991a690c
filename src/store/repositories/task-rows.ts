// What the task repository's statements share across the two dialects (task-repository.ts, and the
// one-statement PostgreSQL forms in task-intake-postgres.ts and task-outcomes-postgres.ts): row shapes,
// count cells, and the SQL that moves a task's counters.
import { sql, type Insertable, type Selectable } from 'kysely';
import type { TaskCountTable, TaskTable, TaskUrlTable } from '../database.js';
import { DAY_MS } from '../migrations.js';
import type { AuditRow } from './audit-repository.js';

export type TaskRow = Selectable<TaskTable>;
export type TaskUrlRow = Selectable<TaskUrlTable>;
export type NewTaskUrl = Omit<Insertable<TaskUrlTable>, 'task_id' | 'id'>;

export interface NewTask {
  task: Omit<Insertable<TaskTable>, 'id'>;
  urls: NewTaskUrl[];
  /** The audit record of the create call, written with the task; its resource is completed with the task id. */
  audit?: Omit<AuditRow, 'resource'>;
}

/** The audit trail's name for a task. */
export const taskResource = (id: number | string) => `task/${id}`;

/** What new tasks add to task_counts. */
export function newTaskCounts(tasks: NewTask[]): CountChange[] {
  return tasks.map(({ task }) => ({ account_id: task.account_id, create_time: Number(task.create_time), task_type: task.task_type, file_type: task.file_type, status: task.status, n: 1 }));
}

export interface CountChange {
  account_id: string;
  create_time: number;
  task_type: string;
  file_type: string;
  status: string;
  n: number;
}

export type CountCell = TaskCountTable;

/**
 * Count changes summed per cell, non-zero ones only, in key order: transactions of several processes
 * then lock the cells in the same order, which keeps them from deadlocking on each other.
 */
export function countCells(changes: CountChange[]): CountCell[] {
  const cells = new Map<string, CountCell>();
  for (const c of changes) {
    const day = Math.floor(Number(c.create_time) / DAY_MS);
    const key = `${c.account_id}|${day}|${c.task_type}|${c.file_type}|${c.status}`;
    const cell = cells.get(key);
    if (cell) cell.n += c.n;
    else cells.set(key, { account_id: c.account_id, day, task_type: c.task_type, file_type: c.file_type, status: c.status, n: c.n });
  }
  return [...cells].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, cell]) => cell).filter((cell) => cell.n !== 0);
}

/** Every column of tasks, qualified: what RETURNING gives back as a TaskRow. */
export const TASK_COLUMNS = sql.raw(
  ['id', 'account_id', 'task_type', 'file_type', 'mode', 'status', 'total', 'processing', 'succeed', 'failed', 'create_time', 'enterprise_project_id', 'created_by_user_id', 'created_by_user', 'created_by_key'].map((c) => `tasks.${c}`).join(', '),
);

/**
 * The SET list that moves a task's counters by `s` succeeded and `f` failed URLs (columns of `from`).
 * SET expressions read the row as it was before the update, so `status` turns task_done exactly when
 * the last in-flight URL ends.
 */
export function taskCountersSet(from: string) {
  const s = sql.ref(`${from}.s`);
  const f = sql.ref(`${from}.f`);
  return sql`succeed = tasks.succeed + ${s}, failed = tasks.failed + ${f}, processing = tasks.processing - ${s} - ${f},
    status = case when tasks.processing - ${s} - ${f} <= 0 then 'task_done' else tasks.status end`;
}

/** A URL that went from waiting to being worked on (refreshing or preheating). */
export interface UrlStarted {
  id: number;
  status: string;
}

export interface UrlOutcome {
  id: number;
  ok: boolean;
  failClassify?: string;
  failDesc?: string;
  /** Each node's result, encoded (engine/node-results.ts); stored in url_node_results. */
  nodeResults?: string;
}
