// Prefetch of a slow object (the origin answers its headers after 60 s) and of a large one (200 MiB) on
// every engine at once, through the whole product: each prefetch succeeds, each node fetched each object
// from the origin exactly once, and each node then holds it. The task deadline is 5 s and the server's
// prefetch timeout 2 s: only the domain's own prefetch timeout (cachectl's per-domain setting) lets the
// fills finish. Also per node: two prefetches of one object at once (a retry racing a fill that runs)
// make one origin fill. An engine that is not installed is skipped with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { ENGINE_NAMES, engineMissing, startLocalNode, type LocalNode } from '../../src/edge/local-engines.js';
import { createDriver } from '../../src/edge/engines.js';
import type { EdgeDriver, EdgeNode } from '../../src/edge/edge-driver.js';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { waitTask } from '../support/signed-client.js';

const HOST = 'www.prefetch.test';
const SLOW_MS = 60_000;
const TWICE_MS = 5_000;
const BIG_BYTES = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 'x');

interface CountingOrigin {
  port: number;
  /** GETs that reached the origin, by path. */
  fills(p: string): number;
  close(): Promise<void>;
}

/** /slow answers after 60 s, /twice after 5 s, /big streams 200 MiB (never held in memory). */
async function startCountingOrigin(): Promise<CountingOrigin> {
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://origin').pathname;
    counts.set(p, (counts.get(p) ?? 0) + 1);
    const headers = { 'cache-control': 'max-age=3600', 'content-type': 'application/octet-stream' };
    const later = (ms: number, body: string) => {
      const t = setTimeout(() => {
        timers.delete(t);
        res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) }).end(body);
      }, ms);
      timers.add(t);
    };
    if (p === '/slow') return later(SLOW_MS, 'slow object');
    if (p === '/twice') return later(TWICE_MS, 'one fill');
    if (p !== '/big') return void res.writeHead(404, { 'cache-control': 'no-store' }).end();
    res.writeHead(200, { ...headers, 'content-length': BIG_BYTES });
    let sent = 0;
    const pump = () => {
      while (sent < BIG_BYTES) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    fills: (p) => counts.get(p) ?? 0,
    close: () =>
      new Promise((r) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

test('slow and large objects prefetch on every engine, one origin fill per node', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-prefetch-slow-'));
  const engines: LocalNode[] = [];
  const drivers: Array<{ name: string; driver: EdgeDriver }> = [];
  let origin: CountingOrigin | undefined;
  let ts: TestServer | undefined;
  try {
    origin = await startCountingOrigin();
    // Room for a 200 MiB object in the built-in edge (its largest object is 1/8 of its memory).
    ts = await startTestServer({ 'builtin-edges': '1', 'edge-max-bytes': String(2 * 1024 ** 3), 'task-deadline-ms': '5000', 'prefetch-timeout-ms': '2000' });
    const started = await Promise.all(
      ENGINE_NAMES.map(async (engine) => {
        const missing = await engineMissing(engine);
        if (missing === undefined) return startLocalNode(engine, dir, `${engine}-1`);
        if (process.env.CACHECTL_REQUIRE_ENGINES === '1') assert.fail(`${engine}: ${missing}`);
        t.diagnostic(`skipped ${engine}: ${missing}`);
        return undefined;
      }),
    );
    for (const node of started) if (node) engines.push(node);
    for (const node of engines) {
      const added = await ts.call('POST', '/cachectl/v1/nodes', {
        body: { name: node.name, driver: node.driver, traffic_url: node.trafficUrl, control_url: node.controlUrl, secret: node.secret },
      });
      assert.equal(added.status, 200, added.text);
    }
    const nodes: EdgeNode[] = [...ts.server.edges, ...engines.map((n): EdgeNode => ({ name: n.name, driver: n.driver, trafficUrl: n.trafficUrl, controlUrl: n.controlUrl, secret: n.secret, labels: {} }))];
    await addDomain(ts.call, HOST, origin.port);

    const set = await ts.call('PUT', `/cachectl/v1/domains/${HOST}/prefetch-timeout`, { body: { prefetch_timeout_ms: 150_000 } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.json, { domain_name: HOST, prefetch_timeout_ms: 150_000, effective_prefetch_timeout_ms: 150_000 });

    const o = origin;
    const s = ts;
    // Two prefetches of one object at once on each node, as a retry racing the fill it repeats.
    const twice = Promise.all(
      nodes.map(async (node) => {
        const driver = createDriver(node);
        drivers.push({ name: node.name, driver });
        const target = { host: HOST, path: '/twice' };
        const results = await Promise.all([driver.prefetch([target], { timeoutMs: 60_000 }), driver.prefetch([target], { timeoutMs: 60_000 })]);
        return { node: node.name, results: results.flat() };
      }),
    );
    const created = await s.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls: [`http://${HOST}/slow`, `http://${HOST}/big`] } } });
    assert.equal(created.status, 200, created.text);
    const detail = await waitTask(s.call, created.json.preheating_task, 170_000);
    const failures = (detail.urls ?? []).filter((u: { status: string }) => u.status !== 'succeed');
    assert.deepEqual([detail.succeed, detail.failed], [2, 0], JSON.stringify(failures));
    assert.equal(o.fills('/slow'), nodes.length, 'one fill of /slow per node');
    assert.equal(o.fills('/big'), nodes.length, 'one fill of /big per node');

    for (const { node, results } of await twice) {
      for (const r of results) assert.equal(r.ok, true, `${node}: ${JSON.stringify(r)}`);
    }
    assert.equal(o.fills('/twice'), nodes.length, 'two prefetches at once make one fill per node');

    // What the task says is what the nodes hold: each answers both objects without asking the origin.
    for (const node of nodes) {
      for (const p of ['/slow', '/big']) {
        const res = await request(`${node.trafficUrl}${p}`, { headers: { host: HOST }, headersTimeout: 10_000 });
        let size = 0;
        for await (const chunk of res.body) size += (chunk as Buffer).length;
        assert.equal(res.statusCode, 200, `${node.name} ${p}`);
        assert.equal(size, p === '/big' ? BIG_BYTES : 'slow object'.length, `${node.name} ${p}`);
      }
    }
    assert.equal(o.fills('/slow'), nodes.length, 'served from the caches');
    assert.equal(o.fills('/big'), nodes.length, 'served from the caches');
  } finally {
    for (const d of drivers) await d.driver.close().catch(() => undefined);
    await ts?.close();
    await Promise.all(engines.map((n) => n.stop().catch(() => undefined)));
    await origin?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
