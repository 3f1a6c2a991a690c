// Several workers writing outcomes at once on PostgreSQL, each batch touching many of the same tasks
// in a different order: the outcome statement must lock the tasks it counts in one fixed order, or
// two such batches deadlock (40P01). The statement is called directly: no retry hides an error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, type Store } from '../../src/store/store.js';
import { insertTasks, writeUrlStates } from '../../src/store/repositories/task-repository.js';
import type { UrlOutcome } from '../../src/store/repositories/task-rows.js';
import { freshDatabase } from '../support/postgres.js';
import { newTask } from '../support/new-task.js';

const TASKS = 400;
const WORKERS = 6;
const ROUNDS = 20;
const NOW = Date.UTC(2026, 11, 4, 12);

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A small deterministic generator: the same batches every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

test('concurrent outcome batches over overlapping tasks in opposite orders: no deadlock, every URL counted once', async () => {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const store: Store = await createStore({ kind: 'postgres', url: database.url, poolSize: WORKERS + 2 });
  cleanups.push(() => store.close());
  const tasks = await store.db.transaction().execute((trx) =>
    insertTasks(trx, Array.from({ length: TASKS }, (_, t) => newTask(`acct-${t % 3}`, WORKERS * ROUNDS, NOW, null, (i) => `/${t}/${i}`))),
  );

  const errors: Array<{ code?: string; message: string }> = [];
  const worker = async (w: number) => {
    const next = random(w + 1);
    for (let r = 0; r < ROUNDS; r++) {
      // Each worker has its own URLs (as leases give it), of most tasks, in its own order.
      const share = r % 3 === 0 ? 0.02 : r % 3 === 1 ? 0.3 : 0.95;
      const order = tasks.map((_, t) => t).filter(() => next() < share);
      if (w % 2 === 1) order.reverse();
      else for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
      const outcomes: UrlOutcome[] = order.map((t) => ({ id: tasks[t].urlIds[w * ROUNDS + r], ok: true }));
      try {
        await writeUrlStates(store.db, [], outcomes, NOW + r);
      } catch (err) {
        errors.push({ code: (err as { code?: string }).code, message: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  assert.deepEqual(errors, [], `${errors.filter((e) => e.code === '40P01').length} deadlocks among ${errors.length} errors`);

  // Nothing lost to a failed batch either: the counters match the URL rows.
  const rows = await store.db.selectFrom('tasks').select(['id', 'succeed', 'processing', 'total']).execute();
  const written = await store.db.selectFrom('task_urls').select(({ fn }) => ['task_id', fn.countAll<string>().as('n')]).where('status', '=', 'succeed').groupBy('task_id').execute();
  const byTask = new Map(written.map((r) => [Number(r.task_id), Number(r.n)]));
  for (const t of rows) {
    assert.equal(t.succeed, byTask.get(Number(t.id)) ?? 0, `task ${t.id}`);
    assert.equal(t.processing, t.total - t.succeed, `task ${t.id}`);
  }
});
