// The edge node registry (admin API), per-node results of a task, and a node that goes down: its URLs
// fail with INNER_ERROR naming it after the deadline while the other nodes' results stand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { startBuiltinEdge, type BuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, waitTask } from '../support/signed-client.js';

let ts: TestServer;
let origin: TestOrigin;
let extra: BuiltinEdge;

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '1', 'task-deadline-ms': '1500', 'retry-base-ms': '20' });
  origin = await startOrigin();
  extra = await startBuiltinEdge({ name: 'x', host: '127.0.0.1', trafficPort: 0, adminPort: 0, maxBytes: 1 << 20, originAllow: OriginAllowList.parse('loopback') });
});
after(async () => {
  await ts?.close();
  await extra?.close().catch(() => undefined);
  await origin?.close();
});

const addNode = (body: Record<string, unknown>) => ts.call('POST', '/cachectl/v1/nodes', { body });
const nodeNames = async () => ((await ts.call('GET', '/cachectl/v1/nodes')).json.nodes as Array<{ name: string }>).map((n) => n.name);

test('bad nodes are refused with a 400 that says why, and create nothing', async () => {
  const good = { name: 'n1', driver: 'builtin', traffic_url: extra.trafficUrl, control_url: extra.controlUrl };
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...good, name: 'bad name' }, /node name/],
    [{ ...good, driver: 'squid' }, /driver 'squid'/],
    [{ ...good, traffic_url: 'ftp://x' }, /traffic_url/],
    [{ ...good, driver: 'varnish', control_url: 'http://127.0.0.1:6082' }, /host:port/],
    [{ ...good, driver: 'varnish', control_url: '127.0.0.1:6082' }, /secret/],
    [{ ...good, labels: { 'bad key': 'v' } }, /label/],
    [{ ...good, extra: 1 }, /./],
  ];
  for (const [body, message] of cases) {
    const res = await addNode(body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    assert.match(res.json.error_msg ?? res.json.error?.error_msg ?? res.text, message);
  }
  assert.deepEqual(await nodeNames(), ['edge-1']);
});

test('only the admin account manages nodes', async () => {
  const created = await ts.call('POST', '/cachectl/v1/accounts', { body: { name: 'tenant' } });
  assert.equal(created.status, 200, created.text);
  const tenant = client(ts.server.url, { accessKey: created.json.access_key, secretKey: created.json.secret_key });
  assert.equal((await tenant('GET', '/cachectl/v1/nodes')).status, 403);
  const res = await tenant('POST', '/cachectl/v1/nodes', { body: { name: 'sneaky', driver: 'builtin', traffic_url: extra.trafficUrl, control_url: extra.controlUrl } });
  assert.equal(res.status, 403);
  assert.deepEqual(await nodeNames(), ['edge-1']);
});

test('a node added at run time gets the domains and every task; per-node results say where each URL landed', async () => {
  await addDomain(ts.call, 'www.nodes.test', origin.port);
  const res = await addNode({ name: 'x', driver: 'builtin', traffic_url: extra.trafficUrl, control_url: extra.controlUrl, labels: { pop: 'fra1' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.node.up, true);
  assert.deepEqual(res.json.node.labels, { pop: 'fra1' });
  assert.equal((await addNode({ name: 'x', driver: 'builtin', traffic_url: extra.trafficUrl, control_url: extra.controlUrl })).status, 409);

  origin.put('/a.txt');
  // The new node serves the domain once the push reached it.
  for (let i = 0; ; i++) {
    const r = await request(`${extra.trafficUrl}/a.txt`, { headers: { host: 'www.nodes.test' } });
    const body = await r.body.text();
    if (r.statusCode === 200) {
      assert.equal(body, '/a.txt v1');
      break;
    }
    assert.ok(i < 100, `extra node never served the domain: ${r.statusCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const created = await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.nodes.test/a.txt'] } } });
  const task = await waitTask(ts.call, created.json.refresh_task);
  assert.deepEqual([task.succeed, task.failed], [1, 0]);
  const nodes = await ts.call('GET', `/cachectl/v1/tasks/${created.json.refresh_task}/nodes`);
  assert.equal(nodes.status, 200, nodes.text);
  const results = nodes.json.urls[0].nodes as Array<{ node: string; ok: boolean; ms: number; detail: string }>;
  assert.deepEqual(results.map((r) => [r.node, r.ok]).sort(), [['edge-1', true], ['x', true]]);
  assert.match(results.find((r) => r.node === 'x')!.detail, /purged 1/);
  for (const r of results) assert.ok(Number.isFinite(r.ms) && r.ms >= 0);
  // The Huawei answer carries none of it.
  assert.equal(task.urls[0].nodes, undefined);
});

test('a node that is down is shown down, fails its URLs with INNER_ERROR naming it, and the others still apply them', async () => {
  await extra.close();
  const check = await ts.call('POST', '/cachectl/v1/nodes/x/check');
  assert.equal(check.status, 200, check.text);
  assert.equal(check.json.node.up, false);
  const created = await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.nodes.test/a.txt'] } } });
  const task = await waitTask(ts.call, created.json.refresh_task);
  assert.deepEqual([task.succeed, task.failed], [0, 1]);
  assert.equal(task.urls[0].fail_classify, 'INNER_ERROR');
  assert.match(task.urls[0].fail_desc, /node x:/);
  const nodes = await ts.call('GET', `/cachectl/v1/tasks/${created.json.refresh_task}/nodes`);
  const byNode = Object.fromEntries((nodes.json.urls[0].nodes as Array<{ node: string; ok: boolean; error?: string }>).map((r) => [r.node, r]));
  assert.equal(byNode['edge-1'].ok, true, 'the live node applied it');
  assert.equal(byNode.x.ok, false);
  assert.match(byNode.x.error!, /gave up after \d+ attempts/);
});

test('removing a node takes it out of the fleet; a built-in edge cannot be removed', async () => {
  const rm = await ts.call('DELETE', '/cachectl/v1/nodes/x');
  assert.equal(rm.status, 200, rm.text);
  assert.deepEqual(await nodeNames(), ['edge-1']);
  assert.equal((await ts.call('DELETE', '/cachectl/v1/nodes/x')).status, 404);
  assert.equal((await ts.call('DELETE', '/cachectl/v1/nodes/edge-1')).status, 400);
  const created = await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.nodes.test/a.txt'] } } });
  const task = await waitTask(ts.call, created.json.refresh_task);
  assert.deepEqual([task.succeed, task.failed], [1, 0]);
});

test("serve's own edges refuse anonymous control calls even on loopback; their secret is in edge-secret (0600), never listed", async () => {
  const file = path.join(ts.dataDir, 'edge-secret');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const secret = fs.readFileSync(file, 'utf8').trim();
  const edge = ts.server.edges[0];
  assert.match(edge.controlUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const anonymous = await request(`${edge.controlUrl}/health`);
  assert.equal(anonymous.statusCode, 401);
  await anonymous.body.dump();
  const purge = await request(`${edge.controlUrl}/purge`, { method: 'POST', body: '{"items":[{"host":"www.nodes.test","path":"/a.txt"}]}' });
  assert.equal(purge.statusCode, 401);
  await purge.body.dump();
  const authorized = await request(`${edge.controlUrl}/health`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(authorized.statusCode, 200);
  await authorized.body.dump();
  const list = await ts.call('GET', '/cachectl/v1/nodes');
  assert.equal(list.json.nodes.find((n: { name: string }) => n.name === 'edge-1').up, true, 'the fleet drives it with the secret');
  assert.ok(!list.text.includes(secret), 'the secret is not listed');
});

test('a builtin node registered with its secret is driven with it; without it or with a wrong one it is down; the secret is never listed', async () => {
  const secret = 'registry-secret-'.padEnd(48, '7');
  const guarded = await startBuiltinEdge({ name: 'guarded', secret, maxBytes: 1 << 20, originAllow: OriginAllowList.parse('loopback') });
  try {
    const node = { driver: 'builtin', traffic_url: guarded.trafficUrl, control_url: guarded.controlUrl };
    for (const [name, extraFields] of [['no-secret', {}], ['wrong-secret', { secret: `${secret}x` }]] as const) {
      const res = await addNode({ name, ...node, ...extraFields });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.node.up, false, `${name} must not drive the edge`);
      assert.match(res.json.node.detail, /401/);
      assert.equal((await ts.call('DELETE', `/cachectl/v1/nodes/${name}`)).status, 200);
    }
    const added = await addNode({ name: 'guarded', ...node, secret: `${secret}\n` });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.json.node.up, true, added.text);
    assert.ok(!added.text.includes(secret), 'the answer does not show the secret');
    const list = await ts.call('GET', '/cachectl/v1/nodes');
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes(secret), 'GET /cachectl/v1/nodes does not show the secret');
    assert.equal(Object.hasOwn(list.json.nodes.find((n: { name: string }) => n.name === 'guarded'), 'secret'), false);

    // Driven: the domains reach it, and a purge lands on it.
    origin.put('/g.txt');
    for (let i = 0; ; i++) {
      const r = await request(`${guarded.trafficUrl}/g.txt`, { headers: { host: 'www.nodes.test' } });
      await r.body.dump();
      if (r.statusCode === 200) break;
      assert.ok(i < 100, `the guarded node never served the domain: ${r.statusCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const created = await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.nodes.test/g.txt'] } } });
    const task = await waitTask(ts.call, created.json.refresh_task);
    assert.deepEqual([task.succeed, task.failed], [1, 0]);
    const nodes = await ts.call('GET', `/cachectl/v1/tasks/${created.json.refresh_task}/nodes`);
    const result = (nodes.json.urls[0].nodes as Array<{ node: string; ok: boolean; detail: string }>).find((r) => r.node === 'guarded');
    assert.equal(result?.ok, true, nodes.text);
    assert.match(result!.detail, /purged 1/);
  } finally {
    await ts.call('DELETE', '/cachectl/v1/nodes/guarded');
    await guarded.close();
  }
});
