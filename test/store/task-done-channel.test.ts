// The outcome statement announces the tasks it finishes, at commit, to every process listening
// (listenTaskDone): that is what wakes a /wait on another process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createStore } from '../../src/store/store.js';
import { insertTasks, writeUrlStates } from '../../src/store/repositories/task-repository.js';
import { listenTaskDone } from '../../src/store/postgres/task-done-channel.js';
import { freshDatabase } from '../support/postgres.js';
import { newTask } from '../support/new-task.js';

const NOW = Date.UTC(2026, 11, 4, 12);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('finishing tasks on PostgreSQL notifies each finished task once, and nothing for a task still open', async () => {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const store = await createStore({ kind: 'postgres', url: database.url });
  cleanups.push(() => store.close());
  const [a, b, c] = await store.db.transaction().execute((trx) => insertTasks(trx, [newTask('acct', 2, NOW), newTask('acct', 1, NOW), newTask('acct', 2, NOW)]));
  const heard: number[] = [];
  const listener = listenTaskDone(database.url, (id) => heard.push(id), (msg, err) => assert.fail(`${msg}: ${String(err)}`));
  cleanups.push(() => listener.close());
  const until = async (what: string, cond: () => boolean) => {
    for (let i = 0; !cond(); i++) {
      assert.ok(i < 200, what);
      await sleep(50);
    }
  };
  // The listener is in place once it hears a notice of our own on its channel.
  await until('the listener never started', () => {
    void sql`select pg_notify('cachectl_task_done', '0')`.execute(store.db);
    return heard.length > 0;
  });
  await sleep(100);
  heard.length = 0;
  // a and b finish; c gets one of its two outcomes, then the other: notices come in commit order, so
  // once c is heard, anything the first write sent has been heard too.
  const done = await store.recoverableStatement((db) => writeUrlStates(db, [], [...a.urlIds, ...b.urlIds, c.urlIds[0]].map((id) => ({ id, ok: true })), NOW + 1));
  assert.deepEqual(done.map((t) => t.id).sort(), [a.taskId, b.taskId].sort());
  await store.recoverableStatement((db) => writeUrlStates(db, [], [{ id: c.urlIds[1], ok: true }], NOW + 2));
  await until('no notice for c', () => heard.includes(c.taskId));
  assert.deepEqual(heard.sort((x, y) => x - y), [a.taskId, b.taskId, c.taskId].sort((x, y) => x - y));
});
