// The history total comes from per-day counters plus the partial days at a window's edges; it must
// equal a plain count for every filter and window, also after tasks finish.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/store/store.js';
import { countTasks, insertTasks, recordOutcomes, type TaskFilter } from '../../src/store/repositories/task-repository.js';
import { DAY_MS } from '../../src/store/migrations.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-counts-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('countTasks equals a plain count for random filters and windows', async () => {
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 'c.db'), synchronous: 'NORMAL' });
  try {
    const db = store.db;
    const base = 20_000 * DAY_MS;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const urlIds: number[] = [];
    for (let i = 0; i < 400; i++) {
      const create = base + Math.floor(rnd() * 10 * DAY_MS);
      const account = rnd() < 0.8 ? 'a' : 'b';
      const [{ urlIds: ids }] = await insertTasks(db, [{
        task: { account_id: account, task_type: rnd() < 0.5 ? 'refresh' : 'preheating', file_type: rnd() < 0.7 ? 'file' : 'directory', mode: 'all', status: 'task_inprocess', total: 1, processing: 1, succeed: 0, failed: 0, create_time: create },
        urls: [{ account_id: account, url: 'http://x/', host: 'x', target: '/', status: 'waiting', task_type: 'REFRESH', file_type: 'file', mode: 'all', fail_classify: null, fail_desc: null, create_time: create, modify_time: create }],
      }]);
      urlIds.push(...ids);
    }
    // Half the tasks finish: their counts move from task_inprocess to task_done.
    const done = await db.transaction().execute((trx) => recordOutcomes(trx, urlIds.filter((_, i) => i % 2 === 0).map((id) => ({ id, ok: true })), base));
    assert.equal(done.length, 200);

    const plain = async (f: TaskFilter) => {
      let q = db.selectFrom('tasks').where('account_id', '=', f.accountId);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.taskType) q = q.where('task_type', '=', f.taskType);
      if (f.fileType) q = q.where('file_type', '=', f.fileType);
      if (f.startDate !== undefined) q = q.where('create_time', '>=', f.startDate);
      if (f.endDate !== undefined) q = q.where('create_time', '<=', f.endDate);
      return Number((await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    };
    for (let i = 0; i < 300; i++) {
      const a = base - DAY_MS + Math.floor(rnd() * 12 * DAY_MS);
      const b = a + Math.floor(rnd() * (rnd() < 0.3 ? DAY_MS : 6 * DAY_MS));
      const f: TaskFilter = {
        accountId: rnd() < 0.8 ? 'a' : 'b',
        status: rnd() < 0.3 ? (rnd() < 0.5 ? 'task_done' : 'task_inprocess') : undefined,
        taskType: rnd() < 0.3 ? 'refresh' : undefined,
        fileType: rnd() < 0.3 ? 'directory' : undefined,
        startDate: rnd() < 0.7 ? a : undefined,
        endDate: rnd() < 0.7 ? b : undefined,
        orderField: 'create_time',
        orderType: 'desc',
        limit: 30,
        offset: 0,
      };
      assert.equal(await countTasks(db, f), await plain(f), JSON.stringify(f));
    }
    // Day boundaries exactly.
    for (const [s, e] of [[base, base + DAY_MS - 1], [base + DAY_MS, base + 3 * DAY_MS], [base - 1, base + DAY_MS]]) {
      const f: TaskFilter = { accountId: 'a', startDate: s, endDate: e, orderField: 'create_time', orderType: 'desc', limit: 30, offset: 0 };
      assert.equal(await countTasks(db, f), await plain(f));
    }
  } finally {
    await store.close();
  }
});
