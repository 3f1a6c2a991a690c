// New tasks and URL outcomes are written by different statements on the two databases (PostgreSQL does
// each in one statement, SQLite in several): the same batch and the same deliveries must leave the same
// rows behind on both, and answer the same ids and finished tasks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore, type Store } from '../../src/store/store.js';
import { insertTasks, writeUrlStates } from '../../src/store/repositories/task-repository.js';
import type { UrlOutcome } from '../../src/store/repositories/task-rows.js';
import { DAY_MS } from '../../src/store/migrations.js';
import { freshDatabase } from '../support/postgres.js';
import { newTask } from '../support/new-task.js';

const NOW = Date.UTC(2026, 10, 28, 12);

const task = (account: string, urls: number, createTime: number, owner: string | null) =>
  newTask(account, urls, createTime, owner, (i) => `/${account}/${createTime}/${i}?q='x'`);

/** Runs the deliveries on a store; answers the finished tasks per delivery and every row touched. */
async function scenario(store: Store) {
  const day = new Date(NOW).toISOString().slice(0, 10);
  // The quota use the intake books goes in with the tasks; a second intake adds to it.
  const [a, b, c] = await store.db.transaction().execute((trx) =>
    insertTasks(trx, [task('acct-1', 3, NOW, 'me'), task('acct-1', 2, NOW - DAY_MS, 'me'), task('acct-2', 1, NOW, 'me')], [
      { account_id: 'acct-1', day, type: 'file_refresh', used: 5 },
      { account_id: 'acct-2', day, type: 'file_refresh', used: 1 },
    ]),
  );
  const [d] = await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-2', 2, NOW, 'other')], [{ account_id: 'acct-2', day, type: 'file_refresh', used: 2 }]));
  const deliveries: UrlOutcome[][] = [
    [
      { id: a.urlIds[0], ok: true, nodeResults: '[["e1",1,3,1,"ok"]]' },
      { id: a.urlIds[1], ok: false, failClassify: 'ORIGIN_ERROR', failDesc: 'origin said 404', nodeResults: '[["e1",0,2,1,"404"]]' },
      { id: b.urlIds[0], ok: true },
      { id: b.urlIds[1], ok: false },
      // Held by another process: not written, not counted.
      { id: d.urlIds[0], ok: true, nodeResults: '[]' },
    ],
    [
      // Already terminal: ignored, its stored result unchanged.
      { id: a.urlIds[0], ok: false, failClassify: 'INNER_ERROR', failDesc: 'late', nodeResults: '[["e1",0,1,1,"x"]]' },
      { id: a.urlIds[2], ok: true },
      { id: c.urlIds[0], ok: true, nodeResults: '[["e2",1,1,1,""]]' },
      { id: c.urlIds[0], ok: true, nodeResults: '[["e2",1,1,1,""]]' },
    ],
    [...a.urlIds, ...b.urlIds, ...c.urlIds].map((id) => ({ id, ok: true })),
  ];
  const done: number[][] = [];
  const doneRows = [];
  for (const [i, outcomes] of deliveries.entries()) {
    // The first delivery also marks two URLs started (one of them held by another process: marks are not leased).
    const started = i === 0 ? [{ id: c.urlIds[0], status: 'refreshing' }, { id: d.urlIds[1], status: 'preheating' }] : [];
    const rows = await store.recoverableStatement((db) => writeUrlStates(db, started, outcomes, NOW + i + 1, 'me'));
    done.push(rows.map((t) => t.id).sort((x, y) => x - y));
    doneRows.push(...rows);
  }
  // The finished tasks come back as they are stored.
  for (const row of doneRows) assert.deepEqual(row, await store.db.selectFrom('tasks').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow());
  const tasks = await store.db.selectFrom('tasks').select(['id', 'account_id', 'status', 'total', 'processing', 'succeed', 'failed', 'create_time']).orderBy('id').execute();
  const urls = await store.db.selectFrom('task_urls').select(['id', 'task_id', 'url', 'target', 'status', 'fail_classify', 'fail_desc', 'create_time', 'modify_time', 'lease_owner']).orderBy('id').execute();
  const counts = await store.db.selectFrom('task_counts').selectAll().where('n', '!=', 0).orderBy('account_id').orderBy('day').orderBy('status').execute();
  const results = await store.db.selectFrom('url_node_results').selectAll().orderBy('url_id').execute();
  const usage = await store.db.selectFrom('quota_usage').selectAll().orderBy('account_id').orderBy('type').execute();
  const ids = { a: a.taskId, b: b.taskId, c: c.taskId };
  const inserted = [a, b, c, d];
  return { ids, inserted, usage: usage.map((u) => ({ ...u, used: Number(u.used) })), done, tasks, urls, counts: counts.map((r) => ({ ...r, day: Number(r.day), n: Number(r.n) })), results };
}

test('the same tasks and outcomes leave the same rows on PostgreSQL and on SQLite', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-outcomes-'));
  const pgDb = await freshDatabase();
  const sqlite = await createStore({ kind: 'sqlite', file: path.join(dir, 'o.db'), synchronous: 'NORMAL' });
  const pg = await createStore({ kind: 'postgres', url: pgDb.url, poolSize: 2 });
  t.after(async () => {
    await sqlite.close();
    await pg.close();
    await pgDb.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const onSqlite = await scenario(sqlite);
  const onPg = await scenario(pg);
  // What the rules say, checked on one; then the other must match it row for row.
  const { ids } = onSqlite;
  // Ids per task in batch order, URL ids in each task's order.
  assert.deepEqual(onSqlite.inserted, [
    { taskId: 1, urlIds: [1, 2, 3] },
    { taskId: 2, urlIds: [4, 5] },
    { taskId: 3, urlIds: [6] },
    { taskId: 4, urlIds: [7, 8] },
  ]);
  assert.deepEqual(onSqlite.urls.map((u) => [u.task_id, u.url.split('/').at(-1)]), [[1, "0?q='x'"], [1, "1?q='x'"], [1, "2?q='x'"], [2, "0?q='x'"], [2, "1?q='x'"], [3, "0?q='x'"], [4, "0?q='x'"], [4, "1?q='x'"]]);
  assert.deepEqual(onSqlite.done, [[ids.b], [ids.a, ids.c], []]);
  assert.deepEqual(
    onSqlite.tasks.map((r) => [r.status, r.processing, r.succeed, r.failed]),
    [['task_done', 0, 2, 1], ['task_done', 0, 1, 1], ['task_done', 0, 1, 0], ['task_inprocess', 2, 0, 0]],
  );
  assert.deepEqual(onSqlite.urls.slice(0, 5).map((u) => [u.status, u.fail_classify, u.fail_desc]), [
    ['succeed', null, null],
    ['failed', 'ORIGIN_ERROR', 'origin said 404'],
    ['succeed', null, null],
    ['succeed', null, null],
    ['failed', 'UNKNOWN_ERROR', ''],
  ]);
  assert.deepEqual(onSqlite.urls.slice(5).map((u) => [u.status, u.modify_time - NOW]), [['succeed', 2], ['waiting', 0], ['preheating', 1]]);
  assert.deepEqual(onSqlite.results.map((r) => r.results), ['[["e1",1,3,1,"ok"]]', '[["e1",0,2,1,"404"]]', '[["e2",1,1,1,""]]']);
  const today = Math.floor(NOW / DAY_MS);
  assert.deepEqual(
    onSqlite.counts.map((r) => [r.account_id, r.day - today, r.status, r.n]),
    [['acct-1', -1, 'task_done', 1], ['acct-1', 0, 'task_done', 1], ['acct-2', 0, 'task_done', 1], ['acct-2', 0, 'task_inprocess', 1]],
  );
  assert.deepEqual(onSqlite.usage.map((u) => [u.account_id, u.type, u.used]), [['acct-1', 'file_refresh', 5], ['acct-2', 'file_refresh', 3]]);
  assert.deepEqual(onPg, onSqlite);
});

test('a large batch: every URL id belongs to its task, in the order of its URLs, on both', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-batch-'));
  const pgDb = await freshDatabase();
  const stores = [await createStore({ kind: 'sqlite', file: path.join(dir, 'b.db'), synchronous: 'NORMAL' }), await createStore({ kind: 'postgres', url: pgDb.url, poolSize: 2 })];
  t.after(async () => {
    for (const s of stores) await s.close();
    await pgDb.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Sizes out of order, one task far over the portable version's 250 rows per statement.
  const sizes = Array.from({ length: 40 }, (_, i) => ((i * 37) % 60) + 1).concat(700);
  for (const store of stores) {
    // Another task first, so that ids do not start at 1.
    await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-0', 2, NOW, null)]));
    const batch = sizes.map((n, i) => task(`acct-${i % 3}`, n, NOW - (i % 2) * DAY_MS, null));
    const inserted = await store.db.transaction().execute((trx) => insertTasks(trx, batch));
    assert.equal(inserted.length, sizes.length);
    const byId = new Map((await store.db.selectFrom('task_urls').select(['id', 'task_id', 'target']).execute()).map((r) => [Number(r.id), r]));
    inserted.forEach(({ taskId, urlIds }, i) => {
      assert.equal(urlIds.length, sizes[i]);
      urlIds.forEach((id, j) => {
        assert.equal(byId.get(id)?.task_id, taskId);
        assert.equal(byId.get(id)?.target, batch[i].urls[j].target);
      });
    });
    const perTask = await store.db.selectFrom('tasks').select(['id', 'total', 'account_id']).where('id', 'in', inserted.map((x) => x.taskId)).execute();
    for (const r of perTask) assert.equal(r.total, sizes[inserted.findIndex((x) => x.taskId === r.id)]);
    const counted = await store.db.selectFrom('task_counts').select((eb) => eb.fn.sum<number>('n').as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(counted.n), sizes.length + 1);
  }
});
