// Each real engine as a registered node, driven through the whole product (API → engine → driver):
// URL purge, directory purge, revalidate-only refresh, prefetch, query strings, domain add/remove, and
// a node killed mid-task (its URLs fail with INNER_ERROR naming it; after a restart new tasks succeed).
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

const HOST = 'www.engine.test';

async function get(node: LocalNode, p: string, host = HOST): Promise<{ status: number; body: string }> {
  const res = await request(`${node.trafficUrl}${p}`, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
}

async function task(ts: TestServer, kind: 'refresh' | 'preheat', urls: string[], extra: Record<string, unknown> = {}) {
  const res =
    kind === 'refresh'
      ? await ts.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls, type: 'file', ...extra } } })
      : await ts.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls } } });
  assert.equal(res.status, 200, res.text);
  const id = (res.json.refresh_task ?? res.json.preheating_task) as string;
  return { id, detail: await waitTask(ts.call, id, 30_000) };
}

for (const engine of ENGINE_NAMES) {
  test(`${engine} nodes through the product`, async (t) => {
    const missing = await engineMissing(engine);
    if (missing) {
      // CI installs every engine and sets CACHECTL_REQUIRE_ENGINES=1: there a missing engine is a failure.
      if (process.env.CACHECTL_REQUIRE_ENGINES === '1') assert.fail(`${engine}: ${missing}`);
      t.skip(`${engine}: ${missing}`);
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cachectl-${engine}-nodes-`));
    let origin: TestOrigin | undefined;
    let ts: TestServer | undefined;
    let node: LocalNode | undefined;
    try {
      origin = await startOrigin();
      node = await startLocalNode(engine, dir, `${engine}-1`);
      ts = await startTestServer({ 'builtin-edges': '0', 'task-deadline-ms': '2500', 'retry-base-ms': '50' });
      const added = await ts.call('POST', '/cachectl/v1/nodes', {
        body: { name: node.name, driver: node.driver, traffic_url: node.trafficUrl, control_url: node.controlUrl, secret: node.secret, labels: { engine } },
      });
      assert.equal(added.status, 200, added.text);
      assert.equal(added.json.node.up, true, JSON.stringify(added.json.node));
      const domainId = await addDomain(ts.call, HOST, origin.port);
      const o = origin;
      const n = node;
      const s = ts;
      const url = (p: string) => `http://${HOST}${p}`;

      await t.test('URL purge: the next request fetches the new version', async () => {
        o.put('/u/a');
        assert.equal((await get(n, '/u/a')).body, '/u/a v1');
        o.put('/u/a');
        assert.equal((await get(n, '/u/a')).body, '/u/a v1', 'cached');
        const { id, detail } = await task(s, 'refresh', [url('/u/a')]);
        assert.deepEqual([detail.succeed, detail.failed], [1, 0]);
        assert.equal((await get(n, '/u/a')).body, '/u/a v2');
        const perNode = await s.call('GET', `/cachectl/v1/tasks/${id}/nodes`);
        assert.equal(perNode.json.urls[0].nodes[0].node, n.name);
        assert.equal(perNode.json.urls[0].nodes[0].ok, true);
      });

      await t.test('directory purge: sub-directories included, siblings untouched', async () => {
        for (const p of ['/d/x', '/d/sub/y', '/dx/z']) {
          o.put(p);
          await get(n, p);
          o.put(p);
        }
        const { detail } = await task(s, 'refresh', [url('/d/')], { type: 'directory' });
        assert.deepEqual([detail.succeed, detail.failed], [1, 0]);
        assert.equal((await get(n, '/d/x')).body, '/d/x v2');
        assert.equal((await get(n, '/d/sub/y')).body, '/d/sub/y v2');
        assert.equal((await get(n, '/dx/z')).body, '/dx/z v1', 'a sibling that shares the prefix without the slash stays cached');
      });

      await t.test('revalidate-only refresh: an unchanged object is not downloaded again', async () => {
        o.put('/r/same');
        o.put('/r/changed');
        await get(n, '/r/same');
        await get(n, '/r/changed');
        o.put('/r/changed');
        const before = o.hits('/r/same');
        const { detail } = await task(s, 'refresh', [url('/r/')], { type: 'directory', mode: 'detect_modify_refresh' });
        assert.deepEqual([detail.succeed, detail.failed], [1, 0]);
        assert.equal((await get(n, '/r/changed')).body, '/r/changed v2');
        assert.equal((await get(n, '/r/same')).body, '/r/same v1');
        assert.equal(o.hits('/r/same').full, before.full, 'no full download of the unchanged object');
      });

      await t.test('prefetch: then served from cache; origin 404 is ORIGIN_ERROR', async () => {
        o.put('/p/one');
        const { detail } = await task(s, 'preheat', [url('/p/one'), url('/p/missing')]);
        assert.deepEqual([detail.succeed, detail.failed], [1, 1]);
        assert.equal(detail.urls.find((u: { url: string }) => u.url === url('/p/missing')).fail_classify, 'ORIGIN_ERROR');
        const warmed = o.hits('/p/one');
        assert.equal((await get(n, '/p/one')).body, '/p/one v1');
        assert.deepEqual(o.hits('/p/one'), warmed, 'a hit');
      });

      await t.test('the query string is part of the key', async () => {
        o.put('/q');
        await get(n, '/q?v=1');
        await get(n, '/q?v=2');
        o.put('/q');
        await task(s, 'refresh', [url('/q?v=1')]);
        assert.equal((await get(n, '/q?v=1')).body, '/q v2');
        assert.equal((await get(n, '/q?v=2')).body, '/q v1');
      });

      await t.test('a node killed mid-task fails its URLs with INNER_ERROR naming it; after a restart new tasks succeed', async () => {
        const urls = Array.from({ length: 200 }, (_, i) => url(`/k/${i}`));
        const created = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
        assert.equal(created.status, 200);
        await n.stopEngine();
        const first = await waitTask(s.call, created.json.refresh_task, 30_000);
        assert.equal(first.succeed + first.failed, 200, 'every URL ends');
        for (const u of first.urls.filter((x: { status: string }) => x.status === 'failed')) {
          assert.equal(u.fail_classify, 'INNER_ERROR');
          assert.match(u.fail_desc, new RegExp(`node ${n.name}:`));
        }
        const down = await task(s, 'refresh', [url('/k/after')]);
        assert.deepEqual([down.detail.succeed, down.detail.failed], [0, 1]);
        assert.match(down.detail.urls[0].fail_desc, new RegExp(`node ${n.name}:`));
        const listed = await s.call('POST', `/cachectl/v1/nodes/${n.name}/check`);
        assert.equal(listed.json.node.up, false);

        await n.restartEngine();
        // The restarted engine gets the domain set again from the background health check.
        o.put('/k/back');
        for (let i = 0; ; i++) {
          if ((await get(n, '/k/back')).status === 200) break;
          assert.ok(i < 300, 'the restarted node never served the domain again');
          await new Promise((r) => setTimeout(r, 50));
        }
        const again = await task(s, 'refresh', [url('/k/back')]);
        assert.deepEqual([again.detail.succeed, again.detail.failed], [1, 0]);
      });

      await t.test('domain removal reaches the engine', async () => {
        assert.equal((await s.call('PUT', `/v1.0/cdn/domains/${domainId}/disable`)).status, 200);
        for (let i = 0; ; i++) {
          if ((await get(n, '/u/a')).status === 404) break;
          // ATS takes a second or more to reload.
          assert.ok(i < 600, 'the disabled domain is still served');
          await new Promise((r) => setTimeout(r, 50));
        }
      });
    } finally {
      await ts?.close();
      await node?.stop();
      await origin?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
