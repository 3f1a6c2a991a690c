// Task history retention on both stores: old finished tasks go with their URLs and node results, tasks
// still in process and recent ones stay, and task_counts stays equal to a recount; two processes
// pruning one store at once delete each task once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore, type Store } from '../../src/store/store.js';
import { insertTasks, recordOutcomes } from '../../src/store/repositories/task-repository.js';
import { insertAccount } from '../../src/store/repositories/account-repository.js';
import { DAY_MS, rebuildTaskCounts } from '../../src/store/migrations.js';
import { historyRetention } from '../../src/services/history-retention.js';
import { freshDatabase } from '../support/postgres.js';
import { newTask } from '../support/new-task.js';

const NOW = Date.UTC(2026, 10, 28, 12);
const ACCOUNTS = ['a'.repeat(32), 'b'.repeat(32)];

async function seed(store: Store, oldDone: number) {
  for (const id of ACCOUNTS) await insertAccount(store.db, { id, name: `acct-${id[0]}`, is_admin: 0, quota_file_refresh: null, quota_dir_refresh: null, quota_preheat: null, quota_domain: null, created_at: NOW - 40 * DAY_MS });
  const tasks: Array<{ t: ReturnType<typeof newTask>; finish: boolean | 'half'; kept: boolean }> = [];
  for (let i = 0; i < oldDone; i++) tasks.push({ t: newTask(ACCOUNTS[i % 2], 1 + (i % 3), NOW - 20 * DAY_MS - i * 60_000), finish: true, kept: false });
  // Old but still in process (one of its two URLs done), a day that also has pruned tasks.
  tasks.push({ t: newTask(ACCOUNTS[0], 2, NOW - 20 * DAY_MS), finish: 'half', kept: true });
  // Finished within the retention, and just inside its edge.
  tasks.push({ t: newTask(ACCOUNTS[0], 2, NOW - 3 * DAY_MS), finish: true, kept: true });
  tasks.push({ t: newTask(ACCOUNTS[1], 1, NOW - 15 * DAY_MS + 1000), finish: true, kept: true });
  const ids = await store.db.transaction().execute((trx) => insertTasks(trx, tasks.map((x) => x.t)));
  const outcomes = ids.flatMap(({ urlIds }, i) => (tasks[i].finish === true ? urlIds : tasks[i].finish === 'half' ? urlIds.slice(0, 1) : []).map((id, k) => ({ id, ok: k % 2 === 0, nodeResults: '[["e1",1,1,1,""]]' })));
  await store.db.transaction().execute((trx) => recordOutcomes(trx, outcomes, NOW));
  return ids.filter((_, i) => tasks[i].kept);
}

async function counts(store: Store) {
  const rows = await store.db.selectFrom('task_counts').selectAll().where('n', '>', 0).orderBy('account_id').orderBy('day').orderBy('task_type').orderBy('file_type').orderBy('status').execute();
  return rows.map((r) => ({ ...r, day: Number(r.day), n: Number(r.n) }));
}

async function check(store: Store, pruners: number) {
  const kept = await seed(store, 1300);
  const runs = await Promise.all(Array.from({ length: pruners }, () => historyRetention(store.db, 15).prune(NOW)));
  assert.ok(runs.reduce((a, b) => a + b, 0) >= 1300, `every old finished task looked at (${runs})`);
  const tasks = await store.db.selectFrom('tasks').select('id').orderBy('id').execute();
  assert.deepEqual(tasks.map((t) => Number(t.id)), kept.map((k) => k.taskId));
  const urls = await store.db.selectFrom('task_urls').select('id').orderBy('id').execute();
  assert.deepEqual(urls.map((u) => Number(u.id)), kept.flatMap((k) => k.urlIds));
  const results = await store.db.selectFrom('url_node_results').select('url_id').orderBy('url_id').execute();
  const keptUrls = new Set(kept.flatMap((k) => k.urlIds));
  assert.equal(results.length, 4, 'the kept tasks\' results stay');
  assert.ok(results.every((r) => keptUrls.has(Number(r.url_id))));
  const after = await counts(store);
  assert.equal(after.reduce((n, c) => n + c.n, 0), 3);
  assert.equal((await store.db.selectFrom('task_counts').select('n').where('status', '=', 'task_done').where('n', '<=', 0).execute()).length, 0, 'no emptied cells left');
  await rebuildTaskCounts(store.db);
  assert.deepEqual(after, await counts(store));
  // 0 keeps everything.
  assert.equal(await historyRetention(store.db, 0).prune(NOW + 100 * DAY_MS), 0);
  assert.equal((await store.db.selectFrom('tasks').select('id').execute()).length, 3);
}

test('history retention on SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-retention-'));
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 'r.db'), synchronous: 'NORMAL' });
  try {
    await check(store, 2);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('history retention on PostgreSQL, three processes pruning at once', async () => {
  const pg = await freshDatabase();
  const stores = [await createStore({ kind: 'postgres', url: pg.url, poolSize: 4 })];
  try {
    await check(stores[0], 1);
    // Again with separate pools, as separate processes would.
    await stores[0].db.deleteFrom('tasks').execute();
    await stores[0].db.deleteFrom('task_urls').execute();
    await stores[0].db.deleteFrom('url_node_results').execute();
    await stores[0].db.deleteFrom('task_counts').execute();
    await stores[0].db.deleteFrom('accounts').execute();
    stores.push(await createStore({ kind: 'postgres', url: pg.url, poolSize: 4 }), await createStore({ kind: 'postgres', url: pg.url, poolSize: 4 }));
    const kept = await seed(stores[0], 3000);
    await Promise.all(stores.map((s) => historyRetention(s.db, 15).prune(NOW)));
    assert.deepEqual((await stores[0].db.selectFrom('tasks').select('id').orderBy('id').execute()).map((t) => Number(t.id)), kept.map((k) => k.taskId));
    const after = await counts(stores[0]);
    await rebuildTaskCounts(stores[0].db);
    assert.deepEqual(after, await counts(stores[0]));
  } finally {
    for (const s of stores) await s.close();
    await pg.drop();
  }
});
