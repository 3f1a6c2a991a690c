// SQLite runs statements on the event loop, so one write of a burst's URL states (thousands of started
// marks and outcomes) must let the loop turn between its chunks, or every request waits for all of it
// (the bench's max /healthz during a burst). Counted in loop turns, not milliseconds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/store/store.js';
import { insertTasks, writeUrlStates } from '../../src/store/repositories/task-repository.js';
import type { UrlOutcome } from '../../src/store/repositories/task-rows.js';
import { newTask } from '../support/new-task.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-turns-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const NOW = Date.UTC(2026, 11, 4, 12);

/** Counts event-loop turns (setImmediate callbacks) until stopped. */
function turnCounter(): { stop(): number } {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      running = false;
      return turns;
    },
  };
}

test('a large write of URL states lets the event loop turn between chunks, and writes every state', async () => {
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 't.db'), synchronous: 'NORMAL' });
  try {
    const [task] = await store.db.transaction().execute((trx) => insertTasks(trx, [newTask('acct', 4000, NOW)]));
    const ids = task.urlIds;
    const started = ids.slice(0, 1500).map((id) => ({ id, status: 'refreshing' as const }));
    const outcomes: UrlOutcome[] = ids.slice(1500).map((id, i) =>
      i % 10 === 0 ? { id, ok: false, failClassify: 'ORIGIN_ERROR', failDesc: 'node e1: 502', nodeResults: '[]' } : { id, ok: true, nodeResults: '[]' },
    );

    const counter = turnCounter();
    await store.db.transaction().execute((trx) => writeUrlStates(trx, started, outcomes, NOW + 1));
    const turns = counter.stop();
    // 1,500 marks and 2,500 outcomes are 16+ chunks of 250 rows; a write without pauses gives 0 turns.
    assert.ok(turns >= 10, `the event loop turned ${turns} times during the write`);

    const byStatus = await store.db.selectFrom('task_urls').select(['status', ({ fn }) => fn.countAll<number>().as('n')]).groupBy('status').orderBy('status').execute();
    assert.deepEqual(
      byStatus.map((r) => [r.status, Number(r.n)]),
      [['failed', 250], ['refreshing', 1500], ['succeed', 2250]],
    );
    const row = await store.db.selectFrom('tasks').select(['succeed', 'failed', 'processing']).where('id', '=', task.taskId).executeTakeFirstOrThrow();
    assert.deepEqual([Number(row.succeed), Number(row.failed), Number(row.processing)], [2250, 250, 1500]);
    const results = await store.db.selectFrom('url_node_results').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(results.n), 2500);
  } finally {
    await store.close();
  }
});

test('a small write of URL states is not split (one URL: no extra loop turns)', async () => {
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 's.db'), synchronous: 'NORMAL' });
  try {
    const [task] = await store.db.transaction().execute((trx) => insertTasks(trx, [newTask('acct', 2, NOW)]));
    const counter = turnCounter();
    await store.db.transaction().execute((trx) => writeUrlStates(trx, [{ id: task.urlIds[0], status: 'refreshing' }], [{ id: task.urlIds[1], ok: true, nodeResults: '[]' }], NOW + 1));
    assert.equal(counter.stop(), 0);
  } finally {
    await store.close();
  }
});
