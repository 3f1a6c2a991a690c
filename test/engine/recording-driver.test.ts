// Engine logic against the recording engine (src/edge/recording/): no servers, every driver call recorded,
// and where a test asserts that nothing happened, node:test's mock timers instead of sleeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EdgeNode, EdgeResult, WorkKind } from '../../src/edge/edge-driver.js';
import { createDriver } from '../../src/edge/engines.js';
import { RecordingDriver, type RecordedCall } from '../../src/edge/recording/driver.js';
import { recordingOf } from '../../src/edge/recording/index.js';
import { NodeQueue } from '../../src/engine/node-queue.js';
import { EdgeFleet } from '../../src/engine/edge-fleet.js';
import { TaskEngine } from '../../src/engine/task-engine.js';
import { createStore } from '../../src/store/store.js';
import { insertTasks } from '../../src/store/repositories/task-repository.js';
import { newTask } from '../support/new-task.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-recording-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Lets promise chains and I/O callbacks run (setImmediate is not mocked). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

test('work piled up for a node goes out in calls of at most maxBatch, one driver method per kind, maxInFlight at a time', async () => {
  const inFlight = new Set<RecordedCall>();
  let most = 0;
  const driver = new RecordingDriver({
    capabilities: { maxBatch: 3, maxInFlight: 2 },
    script: async (_kind, _target, call) => {
      inFlight.add(call);
      most = Math.max(most, inFlight.size);
      await turns(2);
      inFlight.delete(call);
      return { ok: true };
    },
  });
  const queue = new NodeQueue('rec', driver);
  const answers: Array<[WorkKind, string, EdgeResult]> = [];
  const all: Array<Promise<void>> = [];
  const push = (kind: WorkKind, p: string) =>
    all.push(new Promise((done) => queue.push({ kind, target: { host: 'a.test', path: p }, done: (r) => done(void answers.push([kind, p, r])) })));
  for (let i = 0; i < 7; i++) push('purge', `/p${i}`);
  push('revalidate_dir', '/d1/');
  push('revalidate_dir', '/d2/');
  push('prefetch', '/f');
  await Promise.all(all);

  assert.equal(answers.length, 10);
  assert.ok(answers.every(([, , r]) => r.ok));
  const shapes = driver.calls.map((c) => `${c.kind}:${c.targets.length}`).sort();
  assert.deepEqual(shapes, ['prefetch:1', 'purge:1', 'purge:3', 'purge:3', 'revalidate_dir:2']);
  assert.deepEqual(driver.callsOf('revalidate_dir')[0].targets.map((t) => t.path), ['/d1/', '/d2/']);
  assert.equal(most, 2, 'maxInFlight calls at once, no more');
  assert.equal(queue.backlog, 0);
});

test('a node that keeps failing is retried with backoff only while a retry fits before the deadline; then nothing more is sent', async (t) => {
  const DEADLINE_MS = 1000;
  const RETRY_BASE_MS = 100;
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 'retry.db'), synchronous: 'NORMAL' });
  // The recording engine, through the engine list as any node's driver.
  const node: EdgeNode = { name: 'rec', driver: 'recording', trafficUrl: 'http://127.0.0.1:1', controlUrl: 'recording:rec', labels: {} };
  const fleet = new EdgeFleet([{ node, driver: createDriver(node) }]);
  const driver = recordingOf('rec')!;
  driver.script = () => ({ ok: false, classify: 'INNER_ERROR', retryable: true, message: 'busy' });
  const engine = new TaskEngine(store.db, fleet, { deadlineMs: DEADLINE_MS, retryBaseMs: RETRY_BASE_MS, log: () => undefined });

  const start = Date.now();
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: start });
  const [{ taskId }] = await store.db.transaction().execute((trx) => insertTasks(trx, [newTask('acct-rec', 1, start)]));
  await engine.start();
  const url = () => store.db.selectFrom('task_urls').select(['status', 'fail_classify', 'fail_desc']).where('task_id', '=', taskId).executeTakeFirstOrThrow();
  // Step the mocked clock 10 ms at a time until the URL is decided (or well past its deadline).
  for (let ms = 0; ms <= 3 * DEADLINE_MS && (await url()).status !== 'failed'; ms += 10) {
    await turns();
    t.mock.timers.tick(10);
  }
  await turns();
  const decided = await url();
  assert.equal(decided.status, 'failed');
  assert.equal(decided.fail_classify, 'INNER_ERROR');
  const callsWhenDecided = driver.calls.length;

  // Then nothing more happens: no retry, no call, however long the clock runs.
  for (let i = 0; i < 60; i++) {
    t.mock.timers.tick(1000);
    await turns(2);
  }
  assert.equal(driver.calls.length, callsWhenDecided, `calls after the URL was decided: ${driver.calls.slice(callsWhenDecided).map((c) => c.at - start).join(', ')} ms`);
  assert.equal((await url()).status, 'failed');
  // Backoff 100, 200, 400 ms: the next (800 ms, at 1500) would start after the deadline, so the URL is
  // decided on the fourth answer, not by the deadline timer.
  assert.deepEqual(driver.calls.map((c) => c.at - start), [0, 100, 300, 700]);
  assert.equal(decided.fail_desc, 'node rec: busy (gave up after 4 attempts)');

  t.mock.timers.reset();
  await engine.stop();
  await fleet.close();
  await store.close();
});
