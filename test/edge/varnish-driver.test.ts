// VarnishDriver against real varnishd instances (started by varnish/launcher.ts) and a node:http origin.
// Skips visibly when varnishd is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { DomainConfig } from '../../src/edge/edge-driver.js';
import { VarnishDriver } from '../../src/edge/varnish/driver.js';
import { renderVcl } from '../../src/edge/varnish/render-vcl.js';
import { baseVclPath, startVarnish, stopVarnish, varnishdPath, type VarnishInstance } from '../../src/edge/varnish/launcher.js';

const HOST = 'v.test';

/** Origin: body = "<path> v<version>", ETag per version, counts full (200) and conditional (304) answers. */
function startOrigin() {
  const state = { version: 1, full: 0, notModified: 0, hits: new Map<string, number>() };
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    state.hits.set(url, (state.hits.get(url) ?? 0) + 1);
    if (url.startsWith('/missing')) { res.writeHead(404).end('no'); return; }
    const etag = `"v${state.version}"`;
    if (req.headers['if-none-match'] === etag) { state.notModified++; res.writeHead(304, { etag }).end(); return; }
    state.full++;
    res.writeHead(200, { etag, 'last-modified': new Date(0).toUTCString(), 'cache-control': 'max-age=3600' })
      .end(`${url} v${state.version}`);
  });
  return new Promise<{ server: Server; port: number; state: typeof state }>((r) =>
    server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as { port: number }).port, state })));
}

async function get(inst: VarnishInstance, path: string, host = HOST) {
  const { statusCode, headers, body } = await request(`${inst.trafficUrl}${path}`, { headers: { host } });
  return { status: statusCode, cache: headers['x-cache'], text: await body.text() };
}

test('shipped engines/varnish/base.vcl is renderVcl([]) (regenerate it when the template changes)', () => {
  assert.equal(readFileSync(baseVclPath(), 'utf8'), renderVcl([]));
});

test('varnish driver', async (t) => {
  if (!varnishdPath()) {
    t.skip('varnishd not installed: run node scripts/engines.mjs install varnish');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cachectl-varnish-'));
  const origin = await startOrigin();
  const inst = await startVarnish(dir, 'v0');
  const driver = new VarnishDriver({ trafficUrl: inst.trafficUrl, adminAddress: inst.adminAddress, secret: readFileSync(inst.secretFile, 'utf8') });
  const domains: DomainConfig[] = [{ name: HOST, sources: [{ address: '127.0.0.1', type: 'ipaddr', primary: true, httpPort: origin.port, httpsPort: 443 }] }];
  t.after(async () => { await driver.close(); await stopVarnish(dir); origin.server.close(); });

  await t.test('applyDomains makes the host served (idempotent)', async () => {
    assert.equal((await get(inst, '/a')).status, 404);
    await driver.applyDomains(domains, 1);
    await driver.applyDomains(domains, 1);
    assert.equal((await get(inst, '/a')).cache, 'MISS');
    assert.equal((await get(inst, '/a')).cache, 'HIT');
    const h = await driver.health();
    assert.equal(h.up, true);
    assert.equal(h.domainsVersion, 1);
  });

  await t.test('URL purge: then MISS and new version', async () => {
    origin.state.version = 2;
    assert.equal((await get(inst, '/a')).text, '/a v1');
    const [r] = await driver.purge([{ host: HOST, path: '/a' }]);
    assert.deepEqual(r, { ok: true, detail: 'purged 1' });
    const g = await get(inst, '/a');
    assert.equal(g.cache, 'MISS');
    assert.equal(g.text, '/a v2');
    assert.deepEqual(await driver.purge([{ host: HOST, path: '/not-cached' }]), [{ ok: true, detail: 'purged 0' }]);
  });

  await t.test('query string is part of the key', async () => {
    await get(inst, '/q?x=1'); await get(inst, '/q?x=2');
    await driver.purge([{ host: HOST, path: '/q?x=1' }]);
    assert.equal((await get(inst, '/q?x=1')).cache, 'MISS');
    assert.equal((await get(inst, '/q?x=2')).cache, 'HIT');
  });

  await t.test('directory purge: sub-directories gone, siblings kept', async () => {
    for (const p of ['/d/x', '/d/sub/y', '/d2/z', '/e/d/w']) await get(inst, p);
    const [r] = await driver.purgeDirectory([{ host: HOST, path: '/d/' }]);
    assert.equal(r.ok, true);
    assert.equal((await get(inst, '/d/x')).cache, 'MISS');
    assert.equal((await get(inst, '/d/sub/y')).cache, 'MISS');
    assert.equal((await get(inst, '/d2/z')).cache, 'HIT');
    assert.equal((await get(inst, '/e/d/w')).cache, 'HIT');
  });

  await t.test('revalidate directory: 304 when unchanged, new body when changed', async () => {
    for (const p of ['/r/a', '/r/s/b', '/other']) await get(inst, p);
    let [r] = await driver.revalidateDirectory([{ host: HOST, path: '/r/' }]);
    assert.equal(r.ok, true);
    const before = { ...origin.state };
    assert.equal((await get(inst, '/r/a')).text, '/r/a v2');
    assert.equal((await get(inst, '/r/s/b')).text, '/r/s/b v2');
    assert.equal(origin.state.notModified - before.notModified, 2);
    assert.equal(origin.state.full, before.full);
    assert.equal((await get(inst, '/other')).cache, 'HIT');
    origin.state.version = 3;
    [r] = await driver.revalidate([{ host: HOST, path: '/r/a' }]);
    assert.deepEqual(r, { ok: true, detail: 'marked 1' });
    assert.equal((await get(inst, '/r/a')).text, '/r/a v3');
  });

  await t.test('prefetch: stored, then HIT without another fetch; origin 404 is ORIGIN_ERROR', async () => {
    const [r] = await driver.prefetch([{ host: HOST, path: '/p' }]);
    assert.deepEqual(r, { ok: true, detail: 'origin 200' });
    const n = origin.state.hits.get('/p');
    assert.equal((await get(inst, '/p')).cache, 'HIT');
    assert.equal(origin.state.hits.get('/p'), n);
    const [bad] = await driver.prefetch([{ host: HOST, path: '/missing' }]);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.classify, 'ORIGIN_ERROR');
  });

  await t.test('prefetch of a cached object fetches it once more and replaces the copy', async () => {
    assert.equal((await get(inst, '/p')).cache, 'HIT');
    const before = origin.state.hits.get('/p');
    origin.state.version++;
    const [r] = await driver.prefetch([{ host: HOST, path: '/p' }]);
    assert.deepEqual(r, { ok: true, detail: 'origin 200' });
    assert.equal(origin.state.hits.get('/p'), (before ?? 0) + 1);
    const got = await get(inst, '/p');
    assert.deepEqual([got.cache, got.text], ['HIT', `/p v${origin.state.version}`]);
  });

  await t.test('applyDomains removing the domain: 404', async () => {
    await driver.applyDomains([], 2);
    assert.equal((await get(inst, '/a')).status, 404);
    assert.equal((await driver.health()).domainsVersion, 2);
  });

  await t.test('stopped varnishd: driver rejects', async () => {
    await stopVarnish(dir);
    await assert.rejects(driver.purge([{ host: HOST, path: '/a' }]));
    await assert.rejects(driver.applyDomains(domains, 3));
    assert.equal((await driver.health()).up, false);
  });
});
