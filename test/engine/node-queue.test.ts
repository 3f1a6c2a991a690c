// Work queued for a busy node that is no longer wanted when its turn comes (its URL was dropped, e.g.
// by a worker that learned it was taken for dead) is not sent. A real built-in edge, stopped (SIGSTOP)
// so that the driver's calls to it are all in flight and more work queues behind them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { NodeQueue } from '../../src/engine/node-queue.js';
import { BuiltinDriver } from '../../src/edge/builtin/driver.js';
import type { EdgeResult } from '../../src/edge/edge-driver.js';
import { freePort, kill, startCli } from '../support/processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-queue-'));
const secret = 'queue-edge-secret-'.padEnd(40, 'z');
const secretFile = path.join(dir, 'edge-secret');
fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
let edge: ChildProcess | undefined;
let driver: BuiltinDriver | undefined;
after(async () => {
  await driver?.close();
  if (edge) {
    edge.kill('SIGCONT');
    await kill(edge);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('queued work no longer wanted when the node has room again is not sent, and not answered', async () => {
  const [traffic, admin] = await Promise.all([freePort(), freePort()]);
  edge = await startCli(['edge', '--name', 'busy', '--port', String(traffic), '--admin-port', String(admin), '--origin-allow', 'loopback', '--secret-file', secretFile], /^edge /);
  driver = new BuiltinDriver(`http://127.0.0.1:${admin}`, { secret, timeoutMs: 30_000 });
  const purges = async () => {
    const res = await fetch(`http://127.0.0.1:${admin}/health`, { headers: { authorization: `Bearer ${secret}` } });
    return ((await res.json()) as { ops: { purge: number } }).ops.purge;
  };
  const queue = new NodeQueue('busy', driver);
  const { maxInFlight } = driver.capabilities;
  const answers: Array<{ path: string; result: EdgeResult }> = [];
  const op = (p: string, wanted?: () => boolean) => ({
    kind: 'purge' as const,
    target: { host: 'a.test', path: p },
    deadline: Date.now() + 60_000,
    wanted,
    done: (result: EdgeResult) => answers.push({ path: p, result }),
  });

  edge.kill('SIGSTOP');
  // One call per turn, until every call the driver allows is in flight to the stopped node.
  for (let i = 0; i < maxInFlight; i++) {
    queue.push(op(`/busy/${i}`));
    await new Promise((r) => setImmediate(r));
  }
  let dropped = false;
  queue.push(op('/kept'));
  queue.push(op('/dropped', () => !dropped));
  assert.equal(queue.backlog, maxInFlight + 2);
  dropped = true;
  edge.kill('SIGCONT');

  const end = Date.now() + 20_000;
  while (answers.length < maxInFlight + 1 || queue.backlog > 0) {
    assert.ok(Date.now() < end, `answers so far: ${JSON.stringify(answers)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(answers.map((a) => a.path).sort(), [...Array.from({ length: maxInFlight }, (_, i) => `/busy/${i}`), '/kept'].sort());
  assert.ok(answers.every((a) => a.result.ok));
  assert.equal(await purges(), maxInFlight + 1);
});
