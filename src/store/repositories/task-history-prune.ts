// Retention of the task history: finished tasks created before a time go with their URLs, the URLs'
// node results and their cells of task_counts, a bounded batch per transaction.
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import { isPostgres } from '../dialect-of.js';
import { addTaskCounts } from './task-repository.js';
import { countCells } from './task-rows.js';

/** URLs one batch deletes at most (and one task's, however many): keeps each transaction short. */
const URL_BUDGET = 5000;

/**
 * Deletes up to `batch` of the account's finished tasks created before `before`, oldest first; answers
 * how many tasks it looked at (fewer than `batch`: none older are left). Tasks still in process stay.
 * Several processes pruning one PostgreSQL store at once skip the tasks another is deleting.
 */
export async function pruneTaskHistory(db: Kysely<Database>, accountId: string, before: number, batch: number): Promise<number> {
  return db.transaction().execute(async (tx) => {
    let q = tx
      .selectFrom('tasks')
      .select(['id', 'account_id', 'create_time', 'task_type', 'file_type', 'status', 'total'])
      .where('account_id', '=', accountId)
      .where('create_time', '<', before)
      .where('status', '=', 'task_done')
      .orderBy('create_time')
      .limit(batch);
    if (isPostgres(tx)) q = q.forUpdate().skipLocked();
    const found = await q.execute();
    if (found.length === 0) return 0;
    // A prefix within the URL budget, at least one task: the rest waits for the next batch.
    let urls = 0;
    let take = 0;
    while (take < found.length && (take === 0 || urls + Number(found[take].total) <= URL_BUDGET)) urls += Number(found[take++].total);
    const tasks = found.slice(0, take);
    const ids = tasks.map((t) => Number(t.id));
    await tx
      .deleteFrom('url_node_results')
      .where('url_id', 'in', (eb) => eb.selectFrom('task_urls').select('id').where('task_id', 'in', ids))
      .execute();
    await tx.deleteFrom('task_urls').where('task_id', 'in', ids).execute();
    await tx.deleteFrom('tasks').where('id', 'in', ids).execute();
    const changes = tasks.map((t) => ({ account_id: t.account_id, create_time: Number(t.create_time), task_type: t.task_type, file_type: t.file_type, status: t.status, n: -1 }));
    await addTaskCounts(tx, changes);
    // Emptied cells go (the ones this batch touched only: it has them locked already).
    const cells = countCells(changes);
    await tx
      .deleteFrom('task_counts')
      .where('n', '<=', 0)
      .where((eb) => eb.or(cells.map((c) => eb.and([eb('account_id', '=', c.account_id), eb('day', '=', c.day), eb('task_type', '=', c.task_type), eb('file_type', '=', c.file_type), eb('status', '=', c.status)]))))
      .execute();
    // A batch cut short by the budget still reports more to do.
    return take < found.length ? batch : found.length;
  });
}
