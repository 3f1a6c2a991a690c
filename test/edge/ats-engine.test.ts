// AtsEngine against real Apache Traffic Server instances (started by ats/launcher.ts) and a node:http
// origin, plus the pure rendering and rule-merging code. The ATS part skips visibly when ATS is not
// installed or we are not root (traffic_manager, which makes reloads immediate, runs only as root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { DomainConfig, EdgeResult, OriginSource } from '../../src/edge/edge-driver.js';
import { AtsEngine } from '../../src/edge/ats/agent-engine.js';
import { missing, serverPid, startAts, stopAts, trafficServerPath, type AtsInstance } from '../../src/edge/ats/launcher.js';
import { parseRemap, renderAts, versionFromLocation } from '../../src/edge/ats/render-ats.js';
import { allLoaded, directoryRegex, formatRules, mergeRules, parseRules, parseState } from '../../src/edge/ats/revalidate-rules.js';

const src = (address: string, httpPort: number, primary = true): OriginSource => ({ address, type: 'ipaddr', primary, httpPort, httpsPort: 443 });

test('remap.config: each domain to itself, exact names before wildcards (most specific first), anchored wildcards', () => {
  const { remap, parent, stamp } = renderAts([
    { name: '*.b.test', sources: [src('10.0.0.3', 80)] },
    { name: 'www.a.test', sources: [src('10.0.0.2', 81, false), src('10.0.0.1', 80)] },
    { name: '*.x.b.test', sources: [src('origin.example', 8080)] },
  ], 4);
  const rules = remap.split('\n').filter((l) => /^(regex_map|map|redirect) /.test(l));
  assert.deepEqual(rules, [
    `redirect http://cachectl-version.invalid/ http://cachectl-version.invalid/v4-${stamp}/`,
    'map http://www.a.test/ http://www.a.test/',
    'regex_map http://^(.+)\\.x\\.b\\.test$/ http://$1.x.b.test/',
    'regex_map http://^(.+)\\.b\\.test$/ http://$1.b.test/',
  ]);
  // Primaries first, then standbys, in one ordered list (round_robin=false: the first one up serves).
  assert.deepEqual(parent.split('\n').filter((l) => l && !l.startsWith('#')), [
    'dest_host=www.a.test parent="10.0.0.1:80|1.0;10.0.0.2:81|1.0" round_robin=false go_direct=false parent_is_proxy=false',
    'dest_domain=x.b.test parent="origin.example:8080|1.0" round_robin=false go_direct=false parent_is_proxy=false',
    'dest_domain=b.test parent="10.0.0.3:80|1.0" round_robin=false go_direct=false parent_is_proxy=false',
  ]);
  assert.deepEqual(parseRemap(remap), { version: 4, names: ['www.a.test', '*.x.b.test', '*.b.test'] });
  assert.deepEqual(versionFromLocation('http://cachectl-version.invalid/v4-0123456789abcdef/'), { version: 4, stamp: '0123456789abcdef' });
  assert.equal(versionFromLocation('http://elsewhere/v4/'), undefined);
});

test('renderAts leaves out IPv6 origins (ATS 9.2 takes none) instead of failing the whole domain set', () => {
  const { remap, parent } = renderAts(
    [
      { name: 'v6only.test', sources: [src('::1', 80), src('[2001:db8::1]', 8080)] },
      { name: 'mixed.test', sources: [src('2001:db8::2', 80), src('10.0.0.2', 81)] },
      { name: 'v4.test', sources: [src('10.0.0.1', 80)] },
    ],
    3,
  );
  assert.doesNotMatch(remap + parent, /v6only|2001|::1/);
  assert.match(parent, /^dest_host=mixed\.test parent="10\.0\.0\.2:81\|1\.0"/m);
  assert.match(remap, /^map http:\/\/v4\.test\/ http:\/\/v4\.test\/$/m);
});

test('renderAts refuses what would break or escape the config files', () => {
  assert.throws(() => renderAts([{ name: 'a.test @plugin=x.so', sources: [src('10.0.0.1', 80)] }], 1), /invalid domain name/);
  assert.throws(() => renderAts([{ name: 'a.test', sources: [src('10.0.0.1"', 80)] }], 1), /invalid origin/);
  assert.throws(() => renderAts([{ name: 'a.test', sources: [src('10.0.0.1', 0)] }], 1), /invalid origin/);
  assert.throws(() => renderAts([{ name: 'a.test', sources: [] }], 1), /no origin/);
  assert.throws(() => renderAts([{ name: 'a.test', sources: [src('10.0.0.1', 80)] }, { name: 'A.test', sources: [src('10.0.0.1', 80)] }], 1), /twice/);
  assert.throws(() => renderAts([], -1), /invalid version/);
});

test('directory rules: escaped per host; one line per regex, MISS wins, a repeat gets a later expiry, expired ones dropped', () => {
  assert.equal(directoryRegex('WWW.A.test', '/d.x/(1)/'), '^http://www\\.a\\.test/d\\.x/\\(1\\)/');
  assert.throws(() => directoryRegex('a.test', '/a b/'), /whitespace/);
  const now = 1000;
  const current = parseRules('^http://a/x/ 900 MISS\n^http://a/y/ 2000 STALE\n^http://a/y/sub/ 3000 STALE\n^http://a/y/m/ 3000 MISS\ngarbage\n');
  const { rules, confirm } = mergeRules(current, [{ regex: '^http://a/y/', expiry: 2000, type: 'STALE' }, { regex: '^http://a/z/', expiry: 5000, type: 'MISS' }], now);
  assert.equal(formatRules(rules), [
    // expiry bumped: the plugin resets a rule's epoch only when its expiry or type changes
    '^http://a/y/ 2001 STALE',
    // covered by the new /y/ rule from now on: shortened to expire soon (same type only)
    '^http://a/y/sub/ 1005 STALE',
    '^http://a/y/m/ 3000 MISS',
    '^http://a/z/ 5000 MISS',
    '',
  ].join('\n'));
  assert.deepEqual(confirm.map((r) => r.regex), ['^http://a/y/', '^http://a/z/']);
  const again = mergeRules(rules, [{ regex: '^http://a/y/', expiry: 2500, type: 'MISS' }, { regex: '^http://a/y/', expiry: 2400, type: 'STALE' }], now);
  assert.deepEqual(again.confirm, [{ regex: '^http://a/y/', expiry: 2500, type: 'MISS' }]);
  const state = parseState('^http://a/y/ 1000 2500 MISS\n^http://a/z/ 990 5000 MISS\n');
  assert.equal(allLoaded(state, again.confirm), true);
  assert.equal(allLoaded(state, [{ regex: '^http://a/y/', expiry: 2501, type: 'MISS' }]), false);
});

/**
 * Origin: body "<path> v<version>" (version per path), ETag per version, answers If-None-Match with 304,
 * and counts full and 304 answers per "host path". /missing* is 404, /nostore* is no-store.
 */
function startOrigin() {
  const versions = new Map<string, number>();
  const full = new Map<string, number>();
  const notModified = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const key = `${req.headers.host} ${url}`;
    if (url.startsWith('/missing')) { bump(full, key); res.writeHead(404).end('no'); return; }
    const v = versions.get(url) ?? 1;
    const etag = `"v${v}"`;
    if (req.headers['if-none-match'] === etag) { bump(notModified, key); res.writeHead(304, { etag, 'cache-control': 'max-age=3600' }).end(); return; }
    bump(full, key);
    res.writeHead(200, {
      etag,
      'last-modified': new Date(Date.UTC(2020, 0, v)).toUTCString(),
      'cache-control': url.startsWith('/nostore') ? 'no-store' : 'max-age=3600',
    }).end(`${url} v${v}`);
  });
  const counts = (host: string, path: string) => ({ full: full.get(`${host} ${path}`) ?? 0, notModified: notModified.get(`${host} ${path}`) ?? 0 });
  return new Promise<{ server: Server; port: number; versions: typeof versions; counts: typeof counts }>((r) =>
    server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as { port: number }).port, versions, counts })));
}

/** A port nothing listens on (a dead primary origin). */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The promise, or a rejection naming the hang when it has not settled within `ms` (not a timing check: a hang guard). */
function settleWithin<T>(p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`HANG: not settled within ${ms} ms`)), ms); });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

test('ats engine', { timeout: 300_000 }, async (t) => {
  if (!trafficServerPath()) {
    t.skip('Apache Traffic Server not installed: run scripts/install-engines.sh ats');
    return;
  }
  const why = missing();
  if (why) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cachectl-ats-'));
  const origin = await startOrigin();
  let inst: AtsInstance | undefined;
  let engine: AtsEngine | undefined;
  t.after(async () => {
    await engine?.close();
    await stopAts(dir);
    origin.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = Date.now();
  inst = await startAts(dir, 'a0');
  t.diagnostic(`ATS under traffic_manager answered after ${Date.now() - started} ms`);
  engine = new AtsEngine(inst.engineOptions);
  const ats = engine;
  const url = inst.trafficUrl;

  const get = async (path: string, host = 'a.test', headers: Record<string, string> = {}) => {
    const { statusCode, body } = await request(`${url}${path}`, { headers: { host, ...headers } });
    return { status: statusCode, text: await body.text() };
  };
  /** GETs and tells whether the origin was asked (a full answer or a 304). */
  const fetched = async (path: string, host = 'a.test') => {
    const before = origin.counts(host, path);
    const g = await get(path, host);
    const after = origin.counts(host, path);
    return { ...g, full: after.full - before.full, notModified: after.notModified - before.notModified };
  };
  const failed = (r: EdgeResult) => (r.ok ? undefined : { classify: r.classify, retryable: r.retryable });

  const deadPort = await closedPort();
  const domainsV1: DomainConfig[] = [
    { name: 'a.test', sources: [src('127.0.0.1', origin.port)] },
    { name: 'b.test', sources: [src('127.0.0.1', origin.port)] },
    { name: '*.w.test', sources: [src('127.0.0.1', origin.port)] },
    // A dead primary: the standby serves.
    { name: 'sb.test', sources: [src('127.0.0.1', origin.port, false), src('127.0.0.1', deadPort)] },
  ];

  await t.test('applyDomains makes the hosts served, and health reports the version', async () => {
    const before = await get('/a');
    assert.equal(before.status, 404);
    assert.match(before.text, /Not Found on Accelerator/);
    assert.equal((await ats.health()).domainsVersion, undefined);
    const t0 = Date.now();
    await ats.applyDomains(domainsV1, 1);
    t.diagnostic(`domain set 1 live after ${Date.now() - t0} ms`);
    const t1 = Date.now();
    await ats.applyDomains(domainsV1, 1);
    t.diagnostic(`the same set again: ${Date.now() - t1} ms`);
    assert.equal((await get('/a')).text, '/a v1');
    assert.equal((await get('/w', 'x.w.test')).text, '/w v1');
    assert.equal((await get('/w', 'deep.x.w.test')).text, '/w v1');
    // Anchored wildcard: another domain ending in ".w.test.<something>" is not ours.
    assert.equal((await get('/w', 'x.w.test.evil.test')).status, 404);
    assert.equal((await get('/sb', 'sb.test')).text, '/sb v1');
    const h = await ats.health();
    assert.equal(h.up, true);
    assert.equal(h.domainsVersion, 1);
    assert.deepEqual(h.directPurge, { url, method: 'PURGE', pathPrefix: '', emptyNotFound: true });
  });

  await t.test('URL purge: purged, then fetched anew; not cached and unknown host told apart', async () => {
    await get('/u');
    assert.equal((await fetched('/u')).full, 0, 'cached');
    origin.versions.set('/u', 2);
    assert.deepEqual(await ats.purge([{ host: 'a.test', path: '/u' }]), [{ ok: true, detail: 'purged 1' }]);
    const g = await fetched('/u');
    assert.equal(g.text, '/u v2');
    assert.equal(g.full, 1);
    assert.deepEqual(await ats.purge([{ host: 'a.test', path: '/never-cached' }]), [{ ok: true, detail: 'purged 0' }]);
    // A host without a remap rule: "Not Found on Accelerator", not "not cached".
    const [r] = await ats.purge([{ host: 'unknown.test', path: '/u' }]);
    assert.deepEqual(failed(r), { classify: 'INNER_ERROR', retryable: true });
  });

  await t.test('PURGE is refused to anyone but loopback 127.0.0.1/::1 (shipped ip_allow.yaml)', async () => {
    const { port } = new URL(url);
    // From 127.0.0.2: not "loopback" for ip_allow.yaml.
    const fromOther = (method: string, path: string, host: string) => new Promise<number>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, localAddress: '127.0.0.2', method, path, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(await fromOther('PURGE', '/u', 'a.test'), 403);
    assert.equal(await fromOther('GET', '/u', 'a.test'), 200, 'everyone may GET');
  });

  await t.test('query string is part of the key', async () => {
    await get('/q?x=1');
    await get('/q?x=2');
    await ats.purge([{ host: 'a.test', path: '/q?x=1' }]);
    assert.equal((await fetched('/q?x=1')).full, 1);
    assert.equal((await fetched('/q?x=2')).full, 0);
  });

  await t.test('directory purge right after caching: sub-directories fetched anew, siblings kept', async () => {
    for (const p of ['/d/x', '/d/sub/y', '/d2/z', '/e/d/w']) await get(p);
    const t0 = Date.now();
    const [r] = await ats.purgeDirectory([{ host: 'a.test', path: '/d/' }]);
    t.diagnostic(`directory rule live after ${Date.now() - t0} ms`);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await fetched('/d/x')).full, 1);
    assert.equal((await fetched('/d/sub/y')).full, 1);
    assert.equal((await fetched('/d2/z')).full, 0);
    assert.equal((await fetched('/e/d/w')).full, 0);
  });

  await t.test('two domains on one origin: a directory refresh of one leaves the other cached', async () => {
    await get('/s/x', 'a.test');
    await get('/s/x', 'b.test');
    const [r] = await ats.purgeDirectory([{ host: 'b.test', path: '/s/' }]);
    assert.equal(r.ok, true);
    assert.equal((await fetched('/s/x', 'b.test')).full, 1);
    assert.equal((await fetched('/s/x', 'a.test')).full, 0);
  });

  await t.test('directory purge on a host of a wildcard domain', async () => {
    await get('/wd/x', 'x.w.test');
    await get('/wd/x', 'y.w.test');
    const [r] = await ats.purgeDirectory([{ host: 'x.w.test', path: '/wd/' }]);
    assert.equal(r.ok, true);
    assert.equal((await fetched('/wd/x', 'x.w.test')).full, 1);
    assert.equal((await fetched('/wd/x', 'y.w.test')).full, 0);
  });

  await t.test('directory revalidation: unchanged answered 304, changed renewed; then cached again for good', async () => {
    for (const p of ['/r/a', '/r/s/b', '/other']) await get(p);
    origin.versions.set('/r/a', 2);
    const [r] = await ats.revalidateDirectory([{ host: 'a.test', path: '/r/' }]);
    assert.equal(r.ok, true);
    const epoch = Number(/live since (\d+)/.exec(r.ok ? r.detail ?? '' : '')?.[1]);
    assert.ok(epoch > 0, 'the detail names the second the rule took effect');
    const a = await fetched('/r/a');
    assert.deepEqual([a.text, a.full, a.notModified], ['/r/a v2', 1, 0]);
    const b = await fetched('/r/s/b');
    assert.deepEqual([b.text, b.full, b.notModified], ['/r/s/b v1', 0, 1]);
    assert.equal((await fetched('/other')).full + (await fetched('/other')).notModified, 0);
    // Once the rule's second is over, an object refreshed under it is served from cache again (an object
    // stored within that very second may be revalidated once more).
    await sleep(Math.max(0, (epoch + 1) * 1000 - Date.now()) + 50);
    await fetched('/r/s/b');
    const later = await fetched('/r/s/b');
    assert.deepEqual([later.full, later.notModified], [0, 0]);
  });

  await t.test('URL revalidation: 304 keeps the body, a change renews it, not cached is left alone', async () => {
    await get('/v');
    let [r] = await ats.revalidate([{ host: 'a.test', path: '/v' }]);
    assert.equal(r.ok, true);
    assert.deepEqual(origin.counts('a.test', '/v'), { full: 1, notModified: 1 });
    const cached = await fetched('/v');
    assert.deepEqual([cached.text, cached.full, cached.notModified], ['/v v1', 0, 0], 'served from cache after the 304');
    origin.versions.set('/v', 2);
    [r] = await ats.revalidate([{ host: 'a.test', path: '/v' }]);
    assert.equal(r.ok, true);
    const g = await fetched('/v');
    assert.deepEqual([g.text, g.full, g.notModified], ['/v v2', 0, 0]);
    assert.deepEqual(await ats.revalidate([{ host: 'a.test', path: '/v-not-cached' }]), [{ ok: true, detail: 'not cached' }]);
    assert.deepEqual(origin.counts('a.test', '/v-not-cached'), { full: 0, notModified: 0 });
  });

  await t.test('prefetch: stored and then served without the origin; replaces a cached copy', async () => {
    assert.deepEqual(await ats.prefetch([{ host: 'a.test', path: '/p' }]), [{ ok: true, detail: 'origin 200' }]);
    const g = await fetched('/p');
    assert.deepEqual([g.text, g.full, g.notModified], ['/p v1', 0, 0]);
    origin.versions.set('/p', 2);
    assert.equal((await ats.prefetch([{ host: 'a.test', path: '/p' }]))[0].ok, true);
    const g2 = await fetched('/p');
    assert.deepEqual([g2.text, g2.full, g2.notModified], ['/p v2', 0, 0]);
  });

  await t.test('prefetch: origin 404 and an uncacheable answer are ORIGIN_ERROR', async () => {
    const [missingObj, nostore] = await ats.prefetch([{ host: 'a.test', path: '/missing' }, { host: 'a.test', path: '/nostore' }]);
    assert.deepEqual(failed(missingObj), { classify: 'ORIGIN_ERROR', retryable: false });
    assert.deepEqual(failed(nostore), { classify: 'ORIGIN_ERROR', retryable: false });
    assert.match(nostore.ok ? '' : nostore.message, /not stored \(uncacheable/);
  });

  await t.test('prefetch in the same second as a directory purge still leaves a usable copy', async () => {
    await get('/pd/x');
    const [r] = await ats.purgeDirectory([{ host: 'a.test', path: '/pd/' }]);
    assert.equal(r.ok, true);
    assert.deepEqual(await ats.prefetch([{ host: 'a.test', path: '/pd/x' }]), [{ ok: true, detail: 'origin 200' }]);
    const g = await fetched('/pd/x');
    assert.deepEqual([g.full, g.notModified], [0, 0]);
  });

  await t.test('applyDomains adding and removing domains reaches ATS', async () => {
    const t0 = Date.now();
    await ats.applyDomains([domainsV1[0], { name: 'c.test', sources: [src('127.0.0.1', origin.port)] }], 2);
    t.diagnostic(`domain set 2 live after ${Date.now() - t0} ms`);
    assert.equal((await get('/c', 'c.test')).text, '/c v1');
    assert.equal((await get('/c', 'b.test')).status, 404);
    assert.equal((await ats.health()).domainsVersion, 2);
    // Another set under the same number (a node reused by a new deployment) is waited for too: the old
    // config answers version 2 as well, only the stamp tells them apart.
    for (let round = 0; round < 3; round++) {
      await ats.applyDomains([domainsV1[0]], 2);
      assert.equal((await get('/c', 'c.test')).status, 404, `round ${round}: removed`);
      await ats.applyDomains([domainsV1[0], { name: 'c.test', sources: [src('127.0.0.1', origin.port)] }], 2);
      assert.equal((await get('/c', 'c.test')).status, 200, `round ${round}: back`);
    }
    for (const op of [ats.purgeDirectory, ats.revalidateDirectory, ats.revalidate, ats.prefetch]) {
      const [r] = await op.call(ats, [{ host: 'b.test', path: '/' }]);
      assert.deepEqual(failed(r), { classify: 'INNER_ERROR', retryable: true }, op.name);
    }
  });

  await t.test('a second instance runs beside the first', async () => {
    const other = await startAts(dir, 'a1');
    try {
      assert.notEqual(other.trafficUrl, url);
      const e = new AtsEngine(other.engineOptions);
      try {
        await e.applyDomains([{ name: 'a.test', sources: [src('127.0.0.1', origin.port)] }], 9);
        assert.equal((await e.health()).domainsVersion, 9);
        assert.equal((await ats.health()).domainsVersion, 2);
      } finally {
        await e.close();
      }
    } finally {
      await stopAts(dir, ['a1']);
    }
  });

  await t.test('killed ATS: every operation fails or rejects, none hangs; after a restart all work again', async () => {
    const a = inst!;
    const child = serverPid(dir, 'a0');
    assert.ok(child > 0 && child !== a.pid, 'traffic_server runs as a child of traffic_manager');
    // traffic_manager first: without it no reload is possible, so the node is not up.
    process.kill(a.pid, 'SIGKILL');
    for (let i = 0; (await ats.health()).up && i < 100; i++) await sleep(50);
    assert.equal((await ats.health()).up, false);
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // gone with its manager
    }
    const target = [{ host: 'a.test', path: '/k/x' }];
    // Rejecting is the contract's "could not ask the node" (the engine retries the batch).
    // (ECONNRESET on a pooled keep-alive socket, ECONNREFUSED on a new one, traffic_ctl's error.)
    const notHang = (e: Error) => !e.message.startsWith('HANG');
    await assert.rejects(settleWithin(ats.purge(target)), notHang);
    await assert.rejects(settleWithin(ats.revalidate(target)), notHang);
    await assert.rejects(settleWithin(ats.prefetch(target)), notHang);
    await assert.rejects(settleWithin(ats.purgeDirectory([{ host: 'a.test', path: '/k/' }])), /traffic_ctl/);
    await assert.rejects(settleWithin(ats.applyDomains(domainsV1, 3)), notHang);
    inst = await startAts(dir, 'a0');
    assert.equal(inst.trafficUrl, url, 'same port after a restart');
    const h = await ats.health();
    assert.equal(h.up, true);
    assert.equal(h.domainsVersion, 2, 'the rendered domain set survives the restart');
    assert.equal((await ats.purge(target))[0].ok, true);
    assert.equal((await ats.purgeDirectory([{ host: 'a.test', path: '/k/' }]))[0].ok, true);
    assert.deepEqual(await ats.prefetch(target), [{ ok: true, detail: 'origin 200' }]);
    await ats.applyDomains(domainsV1, 3);
    assert.equal((await get('/k/x', 'b.test')).text, '/k/x v1');
    assert.match(readFileSync(join(inst.engineOptions.etcDir, 'regex_revalidate.config'), 'utf8'), /\^http:\/\/a\\\.test\/k\/ \d+ MISS/);
  });
});
