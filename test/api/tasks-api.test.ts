// The task API end to end on a real SQLite file, real edges and a real origin: what the conformance
// suite does not reach (quotas, rate limits, node failures, admin rights, body limits).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from 'undici';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, waitTask } from '../support/signed-client.js';

let s: TestServer;
let origin: TestOrigin;
const host = 'www.tasks-api.test';
const url = (p: string) => `http://${host}${p}`;

before(async () => {
  s = await startTestServer();
  origin = await startOrigin();
  await addDomain(s.call, host, origin.port);
});
after(async () => {
  await s?.close();
  await origin?.close();
});

async function edgeGet(edge: string, path: string) {
  const res = await request(edge + path, { headers: { host } });
  return { body: await res.body.text(), cache: res.headers['x-cache'] };
}

test('a refresh evicts the object on both edges, and the counters add up', async () => {
  origin.put('/a.js');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/a.js')).body, '/a.js v1');
  origin.put('/a.js');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/a.js')).cache, 'HIT');
  const res = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [url('/a.js')] } } });
  assert.equal(res.status, 200, res.text);
  const task = await waitTask(s.call, res.json.refresh_task);
  assert.deepEqual([task.total, task.succeed, task.failed, task.processing], [1, 1, 0, 0]);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/a.js')).body, '/a.js v2');
});

test('the long-poll answers when the task is done', async () => {
  origin.put('/wait');
  const res = await s.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls: [url('/wait')] } } });
  const waited = await s.call('GET', `/cachectl/v1/tasks/${res.json.preheating_task}/wait`, { query: [['timeout_ms', '10000']] });
  assert.equal(waited.status, 200, waited.text);
  assert.equal(waited.json.done, true);
  assert.equal(waited.json.task.status, 'task_done');
  assert.equal(waited.json.task.succeed, 1);
});

test('over the daily quota: CDN.0110, and nothing is created or counted', async () => {
  const other = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'small' } });
  assert.equal(other.status, 200, other.text);
  const setq = await s.call('PUT', '/cachectl/v1/accounts/small/quotas', { body: { file_refresh: 3 } });
  assert.equal(setq.status, 200, setq.text);
  const small = client(s.server.url, { accessKey: other.json.access_key, secretKey: other.json.secret_key });
  origin.put('/q');
  await addDomain(small, 'www.small-quota.test', origin.port);
  const u = (p: string) => `http://www.small-quota.test${p}`;
  const first = await small('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [u('/1'), u('/2')] } } });
  assert.equal(first.status, 200, first.text);
  const over = await small('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [u('/3'), u('/4')] } } });
  assert.equal(over.status, 400);
  assert.equal(over.json.error_code, 'CDN.0110');
  assert.equal(over.json.error.error_code, 'CDN.0110');
  const history = await small('GET', '/v1.0/cdn/historytasks', { query: [['page_size', '100'], ['page_number', '1']] });
  assert.equal(history.json.total, 1, 'only the first task exists');
  const quota = await small('GET', '/v1.0/cdn/quota');
  assert.deepEqual(quota.json.quotas.find((q: any) => q.type === 'file_refresh'), { type: 'file_refresh', quota_limit: 3, used: 2, user_domain_id: other.json.account.id });
  const fits = await small('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [u('/5')] } } });
  assert.equal(fits.status, 200, 'what is left of the quota is still usable');
});

test('the admin API is for the admin account only', async () => {
  const other = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'plain' } });
  const plain = client(s.server.url, { accessKey: other.json.access_key, secretKey: other.json.secret_key });
  const res = await plain('GET', '/cachectl/v1/accounts');
  assert.equal(res.status, 403);
  assert.equal(res.json.error_code, 'CDN.0004');
  const mine = await s.call('GET', '/cachectl/v1/accounts');
  assert.ok(mine.json.accounts.some((a: any) => a.name === 'plain'));
  // accounts rm: not by a tenant (even of itself), not unsigned; the account is still there.
  const rmByTenant = await plain('DELETE', '/cachectl/v1/accounts/plain');
  assert.equal(rmByTenant.status, 403, rmByTenant.text);
  assert.equal(rmByTenant.json.error_code, 'CDN.0004');
  const rmUnsigned = await request(new URL('/cachectl/v1/accounts/plain', s.server.url), { method: 'DELETE' });
  assert.equal(rmUnsigned.statusCode, 401);
  assert.equal(((await rmUnsigned.body.json()) as any).error_code, 'APIGW.0301');
  assert.equal((await plain('GET', '/v1.0/cdn/quota')).status, 200, 'the tenant key still works');
});

test('a body over the limit is refused by its Content-Length, before it is read', async () => {
  const socket = net.connect(new URL(s.server.url).port as unknown as number, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST /v1.0/cdn/content/refresh-tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n{"refresh_task":`);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
      if (text.includes('\r\n\r\n')) resolve(text);
    });
  });
  socket.destroy();
  assert.match(answer, /^HTTP\/1\.1 413/);
  assert.match(answer, /x-request-id: [0-9a-f]{32}/i);
});

test('an X-Domain-Id of another account is refused; the own one is accepted', async () => {
  const bad = await s.call('GET', '/v1.0/cdn/quota', { headers: { 'x-domain-id': 'ffffffffffffffffffffffffffffffff' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error_code, 'APIGW.0301');
  const good = await s.call('GET', '/v1.0/cdn/quota', { headers: { 'x-domain-id': s.accountId } });
  assert.equal(good.status, 200, good.text);
});

test('X-Domain-Id tells nothing before the signature holds: a wrong one with a bad signature is refused as any bad signature', async () => {
  const forged = client(s.server.url, { accessKey: s.server.bootstrap!.accessKey, secretKey: 'not-the-secret' });
  const answers = await Promise.all(['ffffffffffffffffffffffffffffffff', s.accountId].map((id) => forged('GET', '/v1.0/cdn/quota', { headers: { 'x-domain-id': id } })));
  for (const res of answers) {
    assert.equal(res.status, 401);
    assert.equal(res.json.error_code, 'APIGW.0301');
    assert.equal(res.json.error_msg, 'Incorrect IAM authentication information: verify aksk signature fail');
  }
});

test('many failed signatures never lock the key', async () => {
  const wrong = client(s.server.url, { accessKey: s.server.bootstrap!.accessKey, secretKey: 'wrong' });
  for (let i = 0; i < 10; i++) assert.equal((await wrong('GET', '/v1.0/cdn/quota')).status, 401);
  assert.equal((await s.call('GET', '/v1.0/cdn/quota')).status, 200);
});

test('rate limits: over the create rate the answer is 429 APIGW.0308 and nothing is created', async () => {
  const limited = await startTestServer({ 'rate-create': '2', 'builtin-edges': '1' });
  try {
    const o = await startOrigin();
    await addDomain(limited.call, 'www.rate.test', o.port);
    const codes = [];
    for (let i = 0; i < 5; i++) {
      const r = await limited.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [`http://www.rate.test/${i}`] } } });
      codes.push(r.status);
      if (r.status === 429) {
        assert.equal(r.json.error_code, 'APIGW.0308');
        assert.equal(typeof r.json.request_id, 'string');
        // Two calls per second: the next is admitted within a second, and Retry-After says so.
        assert.equal(r.headers['retry-after'], '1');
      }
    }
    assert.ok(codes.includes(429), `got ${codes}`);
    const created = codes.filter((c) => c === 200).length;
    const history = await limited.call('GET', '/v1.0/cdn/historytasks', { query: [['page_size', '100'], ['page_number', '1']] });
    assert.equal(history.json.total, created);
    // Queries have their own bucket, unlimited here.
    assert.equal(history.status, 200);
    await o.close();
  } finally {
    await limited.close();
  }
});

test('a node that is down: the URL fails with INNER_ERROR naming it after the deadline, the domain stays configuring', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const dead = `http://127.0.0.1:${deadPort}`;
  const t = await startTestServer({ 'builtin-edges': '1', 'task-deadline-ms': '400', 'retry-base-ms': '20' });
  try {
    const node = await t.call('POST', '/cachectl/v1/nodes', { body: { name: 'dead-node', driver: 'builtin', traffic_url: dead, control_url: dead } });
    assert.equal(node.status, 200, node.text);
    assert.equal(node.json.node.up, false, 'shown down at once');
    const res = await t.call('POST', '/v1.0/cdn/domains', {
      body: { domain: { domain_name: 'www.dead.test', business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }] } },
    });
    assert.equal(res.status, 200, res.text);
    await new Promise((r) => setTimeout(r, 300));
    const d = await t.call('GET', `/v1.0/cdn/domains/${res.json.domain.id}/detail`);
    assert.equal(d.json.domain.domain_status, 'configuring');
    assert.match(d.json.domain.status_detail, /dead-node/);

    const created = await t.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.dead.test/x'] } } });
    assert.equal(created.status, 200, created.text);
    const task = await waitTask(t.call, created.json.refresh_task);
    assert.deepEqual([task.total, task.succeed, task.failed, task.processing], [1, 0, 1, 0]);
    assert.equal(task.urls[0].fail_classify, 'INNER_ERROR');
    assert.match(task.urls[0].fail_desc, /dead-node/);
    assert.doesNotMatch(task.urls[0].fail_desc, /edge-1/, 'the healthy node is not blamed');
  } finally {
    await t.close();
  }
});
