// NginxEngine against a real nginx (started by nginx/launcher.ts from the shipped engines/nginx/nginx.conf)
// and node:http origins. Skips visibly when nginx or the cache purge module is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { DomainConfig, EdgeResult, OriginSource } from '../../src/edge/edge-driver.js';
import { freePort, sleep } from '../../src/edge/local-process.js';
import { cacheFiles, readHead } from '../../src/edge/nginx/cache-files.js';
import { NginxEngine } from '../../src/edge/nginx/agent-engine.js';
import { missing, shippedConf, startNginx, stopNginx, type NginxInstance } from '../../src/edge/nginx/launcher.js';

const HOST = 'v.test';

/**
 * Origin: body "<path> v<version>" with a version per path (bump() changes one object), ETag and
 * Last-Modified per version, max-age=3600; answers If-None-Match with 304. Counts full and 304
 * answers per path. /missing* is 404, /nostore* is no-store, /nofresh* has no freshness at all,
 * /vary* varies on Accept-Encoding.
 */
async function startOrigin(name: string) {
  const versions = new Map<string, number>();
  const full = new Map<string, number>();
  const notModified = new Map<string, number>();
  const hosts: string[] = [];
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    hosts.push(req.headers.host ?? '');
    if (url.startsWith('/missing')) return void res.writeHead(404).end('no');
    const v = versions.get(url) ?? 1;
    const etag = `"${name}-v${v}"`;
    if (req.headers['if-none-match'] === etag) {
      inc(notModified, url);
      return void res.writeHead(304, { etag }).end();
    }
    inc(full, url);
    const headers: Record<string, string> = { etag, 'last-modified': new Date(Date.UTC(2024, 0, v)).toUTCString(), 'x-origin': name };
    if (url.startsWith('/nostore')) headers['cache-control'] = 'no-store';
    else if (!url.startsWith('/nofresh')) headers['cache-control'] = 'max-age=3600';
    if (url.startsWith('/vary')) headers.vary = 'Accept-Encoding';
    res.writeHead(200, headers).end(`${url} v${v}${url.startsWith('/vary') ? ` ${req.headers['accept-encoding'] ?? '-'}` : ''}`);
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
  return {
    server,
    port,
    hosts,
    bump: (path: string) => versions.set(path, (versions.get(path) ?? 1) + 1),
    full: (path: string) => full.get(path) ?? 0,
    notModified: (path: string) => notModified.get(path) ?? 0,
  };
}

const source = (port: number, primary = true): OriginSource => ({ address: '127.0.0.1', type: 'ipaddr', primary, httpPort: port, httpsPort: 443 });

async function get(inst: NginxInstance, path: string, host = HOST, headers: Record<string, string> = {}) {
  const res = await request(`${inst.trafficUrl}${path}`, { headers: { host, ...headers } });
  return { status: res.statusCode, cache: res.headers['x-cache-status'], origin: res.headers['x-origin'], text: await res.body.text() };
}

/** Keys of the cache files (every Vary variant is a file of its own). */
function cachedKeys(inst: NginxInstance): string[] {
  return [...cacheFiles(inst.engineOptions.cacheDir)].map((f) => readHead(f)?.key ?? '?').sort();
}

const failure = (r: EdgeResult) => (r.ok ? undefined : { classify: r.classify, retryable: r.retryable });

test('nginx engine', async (t) => {
  const why = missing();
  if (why) {
    t.skip(`${why}: run scripts/install-engines.sh nginx`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cachectl-nginx-'));
  const origin = await startOrigin('o1');
  const origin2 = await startOrigin('o2');
  let inst = await startNginx(dir, 'n0');
  const engine = new NginxEngine(inst.engineOptions);
  t.after(async () => {
    await engine.close();
    await stopNginx(dir);
    origin.server.close();
    origin2.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const closedPort = await freePort();
  const domains: DomainConfig[] = [
    { name: HOST, sources: [source(origin.port)] },
    { name: '*.w.test', sources: [source(origin.port)] },
    { name: 'x.w.test', sources: [source(origin2.port)] },
    // The primary refuses connections: nginx goes on to the standby.
    { name: 's.test', sources: [source(closedPort), source(origin2.port, false)] },
  ];

  await t.test('runs the shipped config', () => {
    assert.equal(readFileSync(inst.engineOptions.conf, 'utf8'), readFileSync(shippedConf(), 'utf8'));
  });

  await t.test('applyDomains makes the hosts served (idempotent); unknown hosts get 404', async () => {
    assert.equal((await get(inst, '/a')).status, 404);
    await engine.applyDomains(domains, 1);
    await engine.applyDomains(domains, 1);
    const first = await get(inst, '/a');
    assert.deepEqual([first.status, first.cache, first.text], [200, 'MISS', '/a v1']);
    assert.equal((await get(inst, '/a')).cache, 'HIT');
    assert.equal(origin.hosts.at(-1), HOST, 'the origin sees the public host');
    assert.equal((await get(inst, '/a', 'unknown.test')).status, 404);
    const h = await engine.health();
    assert.equal(h.up, true);
    assert.equal(h.domainsVersion, 1);
  });

  await t.test('exact names before wildcards; a standby serves when the primary is down', async () => {
    assert.equal((await get(inst, '/h', 'a.w.test')).origin, 'o1');
    assert.equal((await get(inst, '/h', 'deep.a.w.test')).origin, 'o1');
    assert.equal((await get(inst, '/h', 'x.w.test')).origin, 'o2');
    assert.equal((await get(inst, '/h', 'w.test')).status, 404);
    const s = await get(inst, '/standby', 's.test');
    assert.deepEqual([s.status, s.origin, s.text], [200, 'o2', '/standby v1']);
  });

  await t.test('URL purge: the next GET is a miss and gets the new version; not cached is purged 0', async () => {
    origin.bump('/a');
    assert.equal((await get(inst, '/a')).text, '/a v1');
    assert.deepEqual(await engine.purge([{ host: HOST, path: '/a' }, { host: HOST, path: '/not-cached' }]), [
      { ok: true, detail: 'purged 1' },
      { ok: true, detail: 'purged 0' },
    ]);
    const g = await get(inst, '/a');
    assert.deepEqual([g.cache, g.text], ['MISS', '/a v2']);
    // The host is matched whatever its case.
    await get(inst, '/case');
    assert.deepEqual(await engine.purge([{ host: 'V.Test', path: '/case' }]), [{ ok: true, detail: 'purged 1' }]);
    assert.equal((await get(inst, '/case')).cache, 'MISS');
  });

  await t.test('query strings and percent-encoding are part of the key', async () => {
    for (const p of ['/q?x=1', '/q?x=2', '/q', '/enc/a%20b', '/enc/a%2520b']) await get(inst, p);
    assert.deepEqual(await engine.purge([{ host: HOST, path: '/q?x=1' }, { host: HOST, path: '/enc/a%20b' }]), [
      { ok: true, detail: 'purged 1' },
      { ok: true, detail: 'purged 1' },
    ]);
    assert.equal((await get(inst, '/q?x=1')).cache, 'MISS');
    assert.equal((await get(inst, '/q?x=2')).cache, 'HIT');
    assert.equal((await get(inst, '/q')).cache, 'HIT');
    assert.equal((await get(inst, '/enc/a%20b')).cache, 'MISS');
    assert.equal((await get(inst, '/enc/a%2520b')).cache, 'HIT');
  });

  await t.test('directory purge: sub-directories gone, siblings and other hosts kept, one batch', async () => {
    for (const p of ['/d/x', '/d/sub/y', '/d/q?z=1', '/d2/z', '/e/d/w', '/f/1', '/fx']) await get(inst, p);
    await get(inst, '/d/x', 'a.w.test');
    const results = await engine.purgeDirectory([{ host: HOST, path: '/d/' }, { host: HOST, path: '/f' }, { host: HOST, path: '/none/' }]);
    assert.deepEqual(results, [
      { ok: true, detail: 'purged 3' },
      { ok: true, detail: 'purged 1' },
      { ok: true, detail: 'purged 0' },
    ]);
    for (const p of ['/d/x', '/d/sub/y', '/d/q?z=1', '/f/1']) assert.equal((await get(inst, p)).cache, 'MISS', p);
    // '/f' is taken as the directory '/f/': '/fx' is a sibling.
    for (const p of ['/d2/z', '/e/d/w', '/fx']) assert.equal((await get(inst, p)).cache, 'HIT', p);
    assert.equal((await get(inst, '/d/x', 'a.w.test')).cache, 'HIT');
  });

  await t.test('revalidate: unchanged objects get a 304 and keep the body, changed ones are renewed', async () => {
    for (const p of ['/r/a', '/r/s/b', '/other', '/u']) await get(inst, p);
    origin.bump('/r/s/b');
    assert.deepEqual(await engine.revalidateDirectory([{ host: HOST, path: '/r/' }]), [{ ok: true, detail: 'marked 2' }]);
    const a = await get(inst, '/r/a');
    assert.deepEqual([a.cache, a.text, origin.notModified('/r/a'), origin.full('/r/a')], ['REVALIDATED', '/r/a v1', 1, 1]);
    const b = await get(inst, '/r/s/b');
    assert.deepEqual([b.cache, b.text, origin.full('/r/s/b')], ['EXPIRED', '/r/s/b v2', 2]);
    assert.equal((await get(inst, '/r/a')).cache, 'HIT');
    assert.equal((await get(inst, '/other')).cache, 'HIT');

    assert.deepEqual(await engine.revalidate([{ host: HOST, path: '/u' }, { host: HOST, path: '/never' }]), [
      { ok: true, detail: 'marked 1' },
      { ok: true, detail: 'marked 0' },
    ]);
    const u = await get(inst, '/u');
    assert.deepEqual([u.cache, u.text, origin.notModified('/u'), origin.full('/u')], ['REVALIDATED', '/u v1', 1, 1]);
  });

  await t.test('Vary: a URL purge or revalidation reaches every stored variant', async () => {
    const gz = { 'accept-encoding': 'gzip' };
    const br = { 'accept-encoding': 'br' };
    for (const h of [gz, br, {}]) await get(inst, '/vary', HOST, h);
    assert.equal((await get(inst, '/vary', HOST, br)).cache, 'HIT');
    assert.equal(cachedKeys(inst).filter((k) => k === `http${HOST}/vary`).length, 3);
    assert.deepEqual(await engine.revalidate([{ host: HOST, path: '/vary' }]), [{ ok: true, detail: 'marked 3' }]);
    for (const h of [gz, br]) assert.equal((await get(inst, '/vary', HOST, h)).cache, 'REVALIDATED');
    origin.bump('/vary');
    assert.deepEqual(await engine.purge([{ host: HOST, path: '/vary' }]), [{ ok: true, detail: 'purged 3' }]);
    for (const h of [gz, br, {}]) {
      const g = await get(inst, '/vary', HOST, h);
      assert.deepEqual([g.cache, g.text.split(' ')[1]], ['MISS', 'v2']);
    }
    // A prefetch replaces every variant (the old ones are removed).
    origin.bump('/vary');
    assert.deepEqual(await engine.prefetch([{ host: HOST, path: '/vary' }]), [{ ok: true, detail: 'origin 200' }]);
    for (const h of [gz, br]) assert.equal((await get(inst, '/vary', HOST, h)).text, `/vary v3 ${h['accept-encoding']}`);
  });

  await t.test('prefetch: stored, then a HIT without an origin request; replaces a cached copy', async () => {
    assert.deepEqual(await engine.prefetch([{ host: HOST, path: '/p' }, { host: HOST, path: '/p?x=1' }]), [
      { ok: true, detail: 'origin 200' },
      { ok: true, detail: 'origin 200' },
    ]);
    const g = await get(inst, '/p');
    assert.deepEqual([g.cache, origin.full('/p')], ['HIT', 1]);
    assert.equal((await get(inst, '/p?x=1')).cache, 'HIT');
    origin.bump('/p');
    assert.deepEqual(await engine.prefetch([{ host: HOST, path: '/p' }]), [{ ok: true, detail: 'origin 200' }]);
    const again = await get(inst, '/p');
    assert.deepEqual([again.cache, again.text], ['HIT', '/p v2']);
  });

  await t.test('prefetch failures: origin 404, no-store, no freshness, unknown host', async () => {
    const [notFound, noStore, noFresh, unknown] = await engine.prefetch([
      { host: HOST, path: '/missing' },
      { host: HOST, path: '/nostore' },
      { host: HOST, path: '/nofresh' },
      { host: 'unknown.test', path: '/p' },
    ]);
    assert.deepEqual(failure(notFound), { classify: 'ORIGIN_ERROR', retryable: false });
    assert.deepEqual(failure(noStore), { classify: 'ORIGIN_ERROR', retryable: false });
    assert.match(!noStore.ok ? noStore.message : '', /not stored/);
    assert.deepEqual(failure(noFresh), { classify: 'ORIGIN_ERROR', retryable: false });
    assert.deepEqual(failure(unknown), { classify: 'INNER_ERROR', retryable: true });
    assert.equal((await get(inst, '/nostore')).cache, 'MISS');
  });

  await t.test('invalid targets fail alone, without reaching nginx', async () => {
    const [bad, good] = await engine.purge([{ host: 'v.test\r\nx: y', path: '/a' }, { host: HOST, path: '/a' }]);
    assert.deepEqual(failure(bad), { classify: 'INNER_ERROR', retryable: false });
    assert.equal(good.ok, true);
    assert.deepEqual(failure((await engine.purgeDirectory([{ host: HOST, path: 'd/' }]))[0]), { classify: 'INNER_ERROR', retryable: false });
  });

  await t.test('applyDomains: a config nginx refuses is rejected with its message, the old one stays', async () => {
    await assert.rejects(engine.applyDomains([{ name: 'bad name', sources: [source(origin.port)] }], 2), /invalid domain name/);
    const unresolvable: DomainConfig = { name: 'dns.test', sources: [{ address: 'nosuch.invalid', type: 'domain', primary: true, httpPort: 80, httpsPort: 443 }] };
    await assert.rejects(engine.applyDomains([...domains, unresolvable], 2), /nginx -t refused|host not found/);
    assert.equal((await engine.health()).domainsVersion, 1);
    assert.equal((await get(inst, '/a')).status, 200);
  });

  await t.test('applyDomains removing a domain: its host gets 404', async () => {
    await engine.applyDomains(domains.filter((d) => d.name !== HOST), 3);
    assert.equal((await get(inst, '/a')).status, 404);
    assert.equal((await get(inst, '/h', 'a.w.test')).status, 200);
    assert.equal((await engine.health()).domainsVersion, 3);
    await engine.applyDomains(domains, 4);
    assert.equal((await get(inst, '/a')).status, 200);
  });

  await t.test('applyDomains: another set under the same version number is waited for too (a node reused by a new deployment)', async () => {
    // The old workers answer version 4 as well: only the stamp tells that the reload took effect.
    for (let round = 0; round < 5; round++) {
      await engine.applyDomains(domains.filter((d) => d.name !== HOST), 4);
      assert.equal((await get(inst, '/a')).status, 404, `round ${round}: removed`);
      await engine.applyDomains(domains, 4);
      assert.equal((await get(inst, '/a')).status, 200, `round ${round}: back`);
    }
  });

  await t.test('killed nginx: operations fail as retryable INNER_ERROR or reject; after a restart they work', async () => {
    await get(inst, '/k');
    // SIGKILL to the whole group (master and workers), as a crash or an OOM kill of the box would.
    process.kill(-inst.pid, 'SIGKILL');
    while (await request(`${inst.trafficUrl}/`).then(async (r) => (await r.body.dump(), true), () => false)) await sleep(20);
    const target = [{ host: HOST, path: '/k' }];
    const innerOrReject = async (name: string, op: Promise<EdgeResult[]>) => {
      const outcome = await op.then((r) => failure(r[0]), (err: Error) => ({ rejected: err.message }));
      assert.ok(outcome && ('rejected' in outcome || (outcome.classify === 'INNER_ERROR' && outcome.retryable)), `${name}: ${JSON.stringify(outcome)}`);
    };
    await innerOrReject('purge', engine.purge(target));
    await innerOrReject('purgeDirectory', engine.purgeDirectory([{ host: HOST, path: '/' }]));
    await innerOrReject('revalidate', engine.revalidate(target));
    await innerOrReject('revalidateDirectory', engine.revalidateDirectory([{ host: HOST, path: '/' }]));
    await innerOrReject('prefetch', engine.prefetch(target));
    await assert.rejects(engine.applyDomains(domains, 5));
    assert.equal((await engine.health()).up, false);

    inst = await startNginx(dir, 'n0');
    assert.equal((await engine.health()).domainsVersion, 4);
    assert.equal((await get(inst, '/k')).cache, 'HIT', 'the cache survives the restart');
    assert.deepEqual(await engine.purge(target), [{ ok: true, detail: 'purged 1' }]);
    assert.deepEqual(await engine.prefetch(target), [{ ok: true, detail: 'origin 200' }]);
    const stored = cachedKeys(inst).filter((k) => k.startsWith(`http${HOST}/`)).length;
    assert.ok(stored > 10);
    assert.deepEqual(await engine.purgeDirectory([{ host: HOST, path: '/' }]), [{ ok: true, detail: `purged ${stored}` }]);
    await engine.applyDomains(domains, 5);
    assert.equal((await engine.health()).domainsVersion, 5);
  });
});
