// A URL's outcome is decided at its deadline: with a node hung (its process stopped, so calls to it
// neither fail nor answer), the URL fails then with INNER_ERROR naming the node, not a call timeout later.
// A node that is down fails a prefetch at the task deadline too, though a prefetch may wait longer for a fill.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { waitTask } from '../support/signed-client.js';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { freePort, kill, startCli } from '../support/processes.js';

const DEADLINE_MS = 2000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-deadline-'));
const secret = 'deadline-edge-secret-'.padEnd(40, 'z');
const secretFile = path.join(dir, 'edge-secret');
fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
let ts: TestServer | undefined;
let origin: TestOrigin | undefined;
let edge: ChildProcess | undefined;

after(async () => {
  if (edge) {
    edge.kill('SIGCONT');
    await kill(edge);
  }
  await ts?.close();
  await origin?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('with a node hung, its URLs fail at the deadline (not a call timeout after it), naming the node', async () => {
  // The driver's call timeout (5 s) is longer than the deadline: the old engine waited it out.
  // A prefetch is decided at the longer of the task deadline and the prefetch timeout: kept shorter
  // here, so the prefetch URL too fails at DEADLINE_MS.
  ts = await startTestServer({ 'builtin-edges': '0', 'task-deadline-ms': String(DEADLINE_MS), 'prefetch-timeout-ms': '1000', 'retry-base-ms': '20' });
  origin = await startOrigin();
  const [traffic, admin] = await Promise.all([freePort(), freePort()]);
  edge = await startCli(['edge', '--name', 'hung', '--port', String(traffic), '--admin-port', String(admin), '--origin-allow', 'loopback', '--secret-file', secretFile], /^edge /);
  const added = await ts.call('POST', '/cachectl/v1/nodes', { body: { name: 'hung', driver: 'builtin', traffic_url: `http://127.0.0.1:${traffic}`, control_url: `http://127.0.0.1:${admin}`, secret } });
  assert.equal(added.status, 200, added.text);
  await addDomain(ts.call, 'www.deadline.test', origin.port);

  edge.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const urls = ['a', 'b', 'c'].map((p) => `http://www.deadline.test/${p}.txt`);
  const refresh = await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
  assert.equal(refresh.status, 200, refresh.text);
  const preheat = await ts.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls: [`http://www.deadline.test/d.txt`] } } });
  assert.equal(preheat.status, 200, preheat.text);

  const descs: string[] = [];
  for (const [id, total] of [[refresh.json.refresh_task as string, 3], [preheat.json.preheating_task as string, 1]] as const) {
    const task = await waitTask(ts.call, id, 20_000);
    assert.deepEqual([task.total, task.succeed, task.failed], [total, 0, total]);
    for (const u of task.urls) {
      assert.equal(u.fail_classify, 'INNER_ERROR');
      assert.match(u.fail_desc, /^node hung: /);
      descs.push(u.fail_desc);
    }
  }
  // When each outcome was decided, by the server's clock: at the deadline, give or take scheduling,
  // and not before it (the node never answered).
  const now = Date.now();
  const records = await ts.call('GET', '/v1.0/cdn/contentgateway/url-tasks', { query: [['start_time', String(now - 600_000)], ['end_time', String(now + 60_000)], ['limit', '100']] });
  assert.equal(records.status, 200, records.text);
  assert.equal(records.json.result.length, 4, records.text);
  for (const r of records.json.result as Array<{ url: string; status: string; create_time: number; modify_time: number }>) {
    assert.equal(r.status, 'failed');
    const decidedAfter = r.modify_time - r.create_time;
    assert.ok(decidedAfter >= DEADLINE_MS - 100, `${r.url} failed ${decidedAfter} ms after its creation, before the ${DEADLINE_MS} ms deadline`);
    assert.ok(decidedAfter < DEADLINE_MS + 1000, `${r.url} failed ${decidedAfter} ms after its creation; the deadline is ${DEADLINE_MS} ms`);
  }
  // The user is told why: the node did not answer in time (whichever of the engine's deadline and the
  // call's own bound, both at the deadline, noticed first).
  for (const d of descs) assert.match(d, /no answer within/);

  // The calls to the hung node were given up at the deadline too (a call's timeout is the time left,
  // not the driver's 5 s): nothing is in flight to it soon after, so it holds no slot for later work.
  let backlog: number;
  for (;;) {
    const nodes: { status: number; text: string; json: any } = await ts.call('GET', '/cachectl/v1/nodes');
    assert.equal(nodes.status, 200, nodes.text);
    backlog = (nodes.json.nodes as Array<{ name: string; backlog: number }>).find((n) => n.name === 'hung')!.backlog;
    if (backlog === 0 || Date.now() > stoppedAt + DEADLINE_MS + 1000) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(backlog, 0, `calls to the hung node still in flight ${Date.now() - stoppedAt} ms after the tasks were created`);
});

test('with a node down, a prefetch fails at the task deadline: the longer prefetch timeout is for waiting on a fill, not for retrying', async () => {
  // The prefetch timeout (10 min) is far beyond the wait below: a prefetch retried until it would not finish.
  const server = await startTestServer({ 'builtin-edges': '0', 'task-deadline-ms': String(DEADLINE_MS), 'prefetch-timeout-ms': '600000', 'retry-base-ms': '20' });
  try {
    const port = await freePort();
    const added = await server.call('POST', '/cachectl/v1/nodes', { body: { name: 'down', driver: 'builtin', traffic_url: `http://127.0.0.1:${port}`, control_url: `http://127.0.0.1:${port}`, secret } });
    assert.equal(added.status, 200, added.text);
    // The node cannot apply it, so the domain stays configuring; its URLs are accepted all the same.
    const domain = await server.call('POST', '/v1.0/cdn/domains', {
      body: { domain: { domain_name: 'www.down.test', business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: 80 }] } },
    });
    assert.equal(domain.status, 200, domain.text);
    const preheat = await server.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls: ['http://www.down.test/a.bin'] } } });
    assert.equal(preheat.status, 200, preheat.text);
    const task = await waitTask(server.call, preheat.json.preheating_task, 20_000);
    assert.deepEqual([task.succeed, task.failed], [0, 1]);
    assert.match(task.urls[0].fail_desc, /^node down: .*gave up after \d+ attempts/);
  } finally {
    await server.close();
  }
});
