// A domain's origins changed through the API (UpdateDomainOrigin) on every engine: the new set is pushed
// (nginx reload, VCL load, ATS config reload, or the built-in edge's own swap), what was cached stays and
// is served without asking any origin, and what was not cached is fetched from the new origin only.
// An engine that is not installed is skipped with the reason (CI installs all three).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { ENGINE_NAMES, engineMissing, startLocalNode, type LocalNode } from '../../src/edge/local-engines.js';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { waitTask } from '../support/signed-client.js';

const HOST = 'www.origin-change.test';

async function get(trafficUrl: string, p: string): Promise<string> {
  const res = await request(`${trafficUrl}${p}`, { headers: { host: HOST } });
  const body = await res.body.text();
  assert.equal(res.statusCode, 200, `${p}: ${res.statusCode} ${body}`);
  return body;
}

async function changeOriginAndCheck(ts: TestServer, trafficUrl: string, a: TestOrigin, b: TestOrigin): Promise<void> {
  const id = await addDomain(ts.call, HOST, a.port);
  a.put('/kept');
  a.put('/purged');
  assert.equal(await get(trafficUrl, '/kept'), '/kept v1');
  assert.equal(await get(trafficUrl, '/purged'), '/purged v1');
  // The new origin has other versions of the same paths, so an answer tells where it came from.
  for (const p of ['/kept', '/purged', '/new']) {
    b.put(p);
    b.put(p);
  }

  const res = await ts.call('PUT', `/v1.0/cdn/domains/${id}/origin`, { body: { origin: { sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: b.port }] } } });
  assert.equal(res.status, 200, res.text);
  // Online again once every node has applied the new set.
  for (let i = 0; ; i++) {
    const d = await ts.call('GET', `/v1.0/cdn/domains/${id}/detail`);
    if (d.json.domain.domain_status === 'online') break;
    assert.ok(i < 1500, `not applied: ${d.text}`);
    await new Promise((r) => setTimeout(r, 20));
  }

  assert.equal(await get(trafficUrl, '/new'), '/new v2', 'a new object comes from the new origin');
  assert.deepEqual([a.hits('/new').full, b.hits('/new').full], [0, 1]);
  assert.equal(await get(trafficUrl, '/kept'), '/kept v1', 'the cached object is still served');
  assert.deepEqual(a.hits('/kept'), { full: 1, notModified: 0 }, 'from cache: the old origin was not asked again');
  assert.deepEqual(b.hits('/kept'), { full: 0, notModified: 0 }, 'from cache: the new origin was not asked');

  // And a purge after the change sends the next request to the new origin.
  const purge = await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${HOST}/purged`] } } });
  assert.equal(purge.status, 200, purge.text);
  const done = await waitTask(ts.call, purge.json.refresh_task, 30_000);
  assert.deepEqual([done.succeed, done.failed], [1, 0], JSON.stringify(done));
  assert.equal(await get(trafficUrl, '/purged'), '/purged v2');
}

test('builtin edge: an origin change keeps the cache and sends new fetches to the new origin', async () => {
  const [a, b] = await Promise.all([startOrigin(), startOrigin()]);
  const ts = await startTestServer({ 'builtin-edges': '1' });
  try {
    await changeOriginAndCheck(ts, ts.server.edges[0].trafficUrl, a, b);
  } finally {
    await ts.close();
    await Promise.all([a.close(), b.close()]);
  }
});

for (const engine of ENGINE_NAMES) {
  test(`${engine}: an origin change keeps the cache and sends new fetches to the new origin`, async (t) => {
    const missing = await engineMissing(engine);
    if (missing) {
      if (process.env.CACHECTL_REQUIRE_ENGINES === '1') assert.fail(`${engine}: ${missing}`);
      t.skip(`${engine}: ${missing}`);
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cachectl-${engine}-origin-change-`));
    const [a, b] = await Promise.all([startOrigin(), startOrigin()]);
    let ts: TestServer | undefined;
    let node: LocalNode | undefined;
    try {
      node = await startLocalNode(engine, dir, `${engine}-1`);
      ts = await startTestServer({ 'builtin-edges': '0', 'task-deadline-ms': '10000', 'retry-base-ms': '50' });
      const added = await ts.call('POST', '/cachectl/v1/nodes', {
        body: { name: node.name, driver: node.driver, traffic_url: node.trafficUrl, control_url: node.controlUrl, secret: node.secret, labels: { engine } },
      });
      assert.equal(added.status, 200, added.text);
      await changeOriginAndCheck(ts, node.trafficUrl, a, b);
    } finally {
      await ts?.close();
      await node?.stop();
      await Promise.all([a.close(), b.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
