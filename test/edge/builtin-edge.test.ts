// The built-in edge end to end: a real origin and real edges on ephemeral ports, driven through
// BuiltinDriver the way the task engine drives it, and read through the traffic port the way users do.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { startBuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import type { BuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { BuiltinDriver } from '../../src/edge/builtin/builtin-driver.js';
import { checkStorable, parseCacheControl, freshnessLifetimeMs } from '../../src/edge/builtin/cache-policy.js';
import type { DomainConfig, EdgeResult } from '../../src/edge/edge-driver.js';

// --- a test origin: versioned objects with validators, counting full and 304 answers per request target ---

interface ObjectSpec {
  status?: number;
  cacheControl?: string | null;
  /** Extra delay before answering, to hold a request in flight. */
  delayMs?: number;
  /** Body size in bytes (padded); default: the short "<path> v<n>" text. */
  size?: number;
  validators?: boolean;
  headers?: Record<string, string>;
}

interface StoredObject extends Required<Omit<ObjectSpec, 'size'>> {
  version: number;
  size: number | undefined;
  lastModified: Date;
}

interface TestOrigin {
  port: number;
  put(path: string, spec?: ObjectSpec): void;
  hits(target: string): { full: number; notModified: number };
  /** Requests received for a target so far, answered or not. */
  arrived(target: string): number;
  close(): Promise<void>;
}

async function startOrigin(): Promise<TestOrigin> {
  const objects = new Map<string, StoredObject>();
  const hits = new Map<string, { full: number; notModified: number }>();
  const arrivals = new Map<string, number>();
  let clock = Date.now() - 3_600_000;
  const count = (target: string, kind: 'full' | 'notModified'): void => {
    const h = hits.get(target) ?? { full: 0, notModified: 0 };
    h[kind]++;
    hits.set(target, h);
  };
  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    arrivals.set(target, (arrivals.get(target) ?? 0) + 1);
    const obj = objects.get(new URL(target, 'http://origin').pathname);
    if (obj === undefined) {
      count(target, 'full');
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('not found');
      return;
    }
    const answer = (): void => {
      const etag = `"v${obj.version}"`;
      const headers: Record<string, string> = { 'content-type': 'text/plain', ...obj.headers };
      if (obj.cacheControl !== null) headers['cache-control'] = obj.cacheControl;
      if (obj.validators) {
        headers['etag'] = etag;
        headers['last-modified'] = obj.lastModified.toUTCString();
      }
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      const notModified =
        obj.validators &&
        obj.status === 200 &&
        (inm !== undefined ? inm === etag : ims !== undefined && Date.parse(ims) >= Math.floor(obj.lastModified.getTime() / 1000) * 1000);
      if (notModified) {
        count(target, 'notModified');
        res.writeHead(304, headers);
        res.end();
        return;
      }
      count(target, 'full');
      const text = `${new URL(target, 'http://origin').pathname} v${obj.version}`;
      const body = obj.size === undefined ? text : text.padEnd(obj.size, '.');
      res.writeHead(obj.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // unref: a held answer whose client gave up must not keep the test process alive.
    if (obj.delayMs > 0) setTimeout(answer, obj.delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    put(path, spec = {}) {
      const prev = objects.get(path);
      objects.set(path, {
        version: (prev?.version ?? 0) + 1,
        status: spec.status ?? 200,
        cacheControl: spec.cacheControl === undefined ? 'max-age=3600' : spec.cacheControl,
        delayMs: spec.delayMs ?? 0,
        size: spec.size,
        validators: spec.validators ?? true,
        headers: spec.headers ?? {},
        lastModified: new Date((clock += 2000)),
      });
    },
    hits: (target) => ({ ...(hits.get(target) ?? { full: 0, notModified: 0 }) }),
    arrived: (target) => arrivals.get(target) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// --- fixture ---

const SITE = 'site.test';
const GONE = 'gone.test';
const FAILOVER = 'failover.test';
const ALL_DOWN = 'alldown.test';
const BOTH_UP = 'bothup.test';

let origin: TestOrigin;
let standby: TestOrigin;
let edge: BuiltinEdge;
let small: BuiltinEdge;
let driver: BuiltinDriver;
let smallDriver: BuiltinDriver;
let users: Pool;
let smallUsers: Pool;
let domains: DomainConfig[];
let version = 0;

const source = (port: number, primary = true): DomainConfig['sources'][number] => ({
  address: '127.0.0.1',
  type: 'ipaddr',
  primary,
  httpPort: port,
  httpsPort: 443,
});

before(async () => {
  origin = await startOrigin();
  standby = await startOrigin();
  // Separate dead ports: an address that refused a connection is tried last for a while, which must not
  // make the failover case pass by accident.
  domains = [
    { name: SITE, sources: [source(origin.port)] },
    { name: GONE, sources: [source(origin.port)] },
    { name: FAILOVER, sources: [source(standby.port, false), source(await deadPort(), true)] },
    { name: ALL_DOWN, sources: [source(await deadPort(), true), source(await deadPort(), false)] },
    { name: BOTH_UP, sources: [source(standby.port, false), source(origin.port, true)] },
  ];
  edge = await startBuiltinEdge({ name: 'edge-a' });
  small = await startBuiltinEdge({ name: 'edge-small', maxBytes: 8192, maxObjectBytes: 4096, originTimeoutMs: 300 });
  driver = new BuiltinDriver(edge.controlUrl);
  smallDriver = new BuiltinDriver(small.controlUrl);
  await driver.applyDomains(domains, ++version);
  await smallDriver.applyDomains([{ name: SITE, sources: [source(origin.port)] }], 1);
  users = new Pool(edge.trafficUrl);
  smallUsers = new Pool(small.trafficUrl);
});

after(async () => {
  await Promise.all([users?.close(), smallUsers?.close(), driver?.close(), smallDriver?.close()]);
  await Promise.all([edge?.close(), small?.close()]);
  await Promise.all([origin?.close(), standby?.close()]);
});

interface Got {
  status: number;
  body: string;
  xcache: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

async function get(path: string, { host = SITE, method = 'GET', headers = {}, via = users }: { host?: string; method?: string; headers?: Record<string, string>; via?: Pool } = {}): Promise<Got> {
  const res = await via.request({ method, path, headers: { host, ...headers } });
  const body = await res.body.text();
  const xcache = res.headers['x-cache'];
  return { status: res.statusCode, body, xcache: typeof xcache === 'string' ? xcache : undefined, headers: res.headers };
}

const t = (path: string) => [{ host: SITE, path }];
const okWith = (detail: string): EdgeResult => ({ ok: true, detail });

// --- the cases ---

test('cache policy: s-maxage over max-age over Expires − Date; only listed statuses; no-store/private/Vary: *', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(freshnessLifetimeMs(parseCacheControl('max-age=60, s-maxage=5'), {}, now), 5000);
  assert.equal(freshnessLifetimeMs(parseCacheControl('max-age="60"'), {}, now), 60_000);
  const dated = { date: 'Mon, 01 Jan 2024 00:00:00 GMT', expires: 'Mon, 01 Jan 2024 00:02:00 GMT' };
  assert.equal(freshnessLifetimeMs(parseCacheControl(undefined), dated, now), 120_000);
  assert.equal(freshnessLifetimeMs(parseCacheControl(undefined), { expires: '0' }, now), 0);
  assert.equal(freshnessLifetimeMs(parseCacheControl('public'), {}, now), undefined);
  const cc = parseCacheControl('no-cache="Set-Cookie, X-Foo", max-age=10');
  assert.equal(cc.noCache, true);
  assert.equal(cc.maxAge, 10);

  const storable = (status: number, headers: Record<string, string>, auth = false) => checkStorable(status, headers, auth, now).storable;
  for (const s of [200, 203, 204, 300, 301, 308, 404, 410]) assert.equal(storable(s, { 'cache-control': 'max-age=60' }), true, `status ${s}`);
  for (const s of [206, 302, 307, 400, 500, 503]) assert.equal(storable(s, { 'cache-control': 'max-age=60' }), false, `status ${s}`);
  assert.equal(storable(200, {}), false, 'no explicit freshness');
  assert.equal(storable(200, { 'cache-control': 'max-age=60, no-store' }), false);
  assert.equal(storable(200, { 'cache-control': 'private, max-age=60' }), false);
  assert.equal(storable(200, { 'cache-control': 'max-age=60', vary: 'Accept, *' }), false);
  assert.equal(storable(200, { 'cache-control': 'max-age=60' }, true), false, 'authorized request without public');
  assert.equal(storable(200, { 'cache-control': 'public, max-age=60' }, true), true);
  assert.equal(storable(200, { 'cache-control': 'no-cache' }), false, 'no-cache without validators is useless to store');
  assert.equal(storable(200, { 'cache-control': 'no-cache', etag: '"x"' }), true);
});

test('a miss is stored and the next request is a hit; the origin is asked once', async () => {
  origin.put('/hit/a');
  const first = await get('/hit/a');
  assert.equal(first.status, 200);
  assert.equal(first.body, '/hit/a v1');
  assert.equal(first.xcache, 'MISS');
  const second = await get('/hit/a');
  assert.equal(second.body, '/hit/a v1');
  assert.equal(second.xcache, 'HIT');
  assert.match(String(second.headers['age']), /^\d+$/);
  assert.equal(second.headers['etag'], '"v1"');
  assert.deepEqual(origin.hits('/hit/a'), { full: 1, notModified: 0 });
});

test('the query string is part of the cache key', async () => {
  origin.put('/q/page');
  assert.equal((await get('/q/page?v=1')).xcache, 'MISS');
  assert.equal((await get('/q/page?v=2')).xcache, 'MISS');
  assert.equal((await get('/q/page?v=1')).xcache, 'HIT');
  assert.equal((await get('/q/page')).xcache, 'MISS');
  assert.deepEqual([origin.hits('/q/page?v=1').full, origin.hits('/q/page?v=2').full, origin.hits('/q/page').full], [1, 1, 1]);
});

test('no-store, private and Vary: * answers are never stored', async () => {
  origin.put('/ns/a', { cacheControl: 'no-store' });
  origin.put('/ns/b', { cacheControl: 'private, max-age=60' });
  origin.put('/ns/c', { headers: { vary: '*' } });
  for (const path of ['/ns/a', '/ns/b', '/ns/c']) {
    assert.equal((await get(path)).xcache, 'BYPASS', path);
    const again = await get(path);
    assert.equal(again.xcache, 'BYPASS', path);
    assert.equal(again.body, `${path} v1`);
    assert.equal(origin.hits(path).full, 2, path);
  }
});

test('no-cache is stored but revalidated on every use; 304 keeps the body, 200 replaces it', async () => {
  origin.put('/nc/a', { cacheControl: 'no-cache' });
  assert.equal((await get('/nc/a')).xcache, 'MISS');
  for (let i = 1; i <= 2; i++) {
    const r = await get('/nc/a');
    assert.equal(r.xcache, 'REVALIDATED');
    assert.equal(r.body, '/nc/a v1');
    assert.deepEqual(origin.hits('/nc/a'), { full: 1, notModified: i });
  }
  origin.put('/nc/a', { cacheControl: 'no-cache' });
  const changed = await get('/nc/a');
  assert.equal(changed.xcache, 'EXPIRED');
  assert.equal(changed.body, '/nc/a v2');
});

test('an entry past max-age is revalidated; s-maxage wins over max-age', async () => {
  origin.put('/exp/a', { cacheControl: 'max-age=1' });
  assert.equal((await get('/exp/a')).xcache, 'MISS');
  assert.equal((await get('/exp/a')).xcache, 'HIT');
  await sleep(1100);
  const r = await get('/exp/a');
  assert.equal(r.xcache, 'REVALIDATED');
  assert.equal(r.body, '/exp/a v1');
  assert.equal(r.headers['age'], '0', 'Age restarts at a revalidation');
  assert.equal((await get('/exp/a')).xcache, 'HIT', 'fresh again after the 304');
  assert.deepEqual(origin.hits('/exp/a'), { full: 1, notModified: 1 });

  origin.put('/exp/s', { cacheControl: 'max-age=3600, s-maxage=0' });
  assert.equal((await get('/exp/s')).xcache, 'MISS');
  assert.equal((await get('/exp/s')).xcache, 'REVALIDATED');
});

test('purge evicts exactly the key (other query strings stay), not cached is still ok', async () => {
  origin.put('/p/a');
  await get('/p/a');
  await get('/p/a?x=1');
  origin.put('/p/a');
  assert.deepEqual(await driver.purge([...t('/p/a'), ...t('/p/never')]), [okWith('purged 1'), okWith('purged 0')]);
  const after = await get('/p/a');
  assert.equal(after.xcache, 'MISS');
  assert.equal(after.body, '/p/a v2');
  assert.equal((await get('/p/a?x=1')).body, '/p/a v1');
  assert.deepEqual(await driver.purge([{ host: 'not-served.test', path: '/x' }]), [okWith('purged 0')]);
});

test('purge-directory evicts everything below the prefix, sub-directories and queries included, nothing else', async () => {
  const inside = ['/d/x', '/d/sub/y', '/d/x?q=1'];
  const outside = ['/dx', '/other/z'];
  for (const p of ['/d/x', '/d/sub/y', '/dx', '/other/z']) origin.put(p);
  for (const p of [...inside, ...outside]) await get(p);
  for (const p of ['/d/x', '/d/sub/y', '/dx', '/other/z']) origin.put(p);
  assert.deepEqual(await driver.purgeDirectory(t('/d/')), [okWith('purged 3')]);
  for (const p of inside) {
    const r = await get(p);
    assert.equal(r.xcache, 'MISS', p);
    assert.match(r.body, / v2$/, p);
  }
  for (const p of outside) {
    const r = await get(p);
    assert.equal(r.xcache, 'HIT', p);
    assert.match(r.body, / v1$/, p);
  }
});

test('revalidate(-directory): unchanged objects cost a 304, changed ones are downloaded', async () => {
  for (const p of ['/m/changed', '/m/same', '/n/same']) {
    origin.put(p);
    await get(p);
  }
  origin.put('/m/changed');
  assert.deepEqual(await driver.revalidateDirectory(t('/m/')), [okWith('marked 2')]);
  const same = await get('/m/same');
  assert.equal(same.xcache, 'REVALIDATED');
  assert.equal(same.body, '/m/same v1');
  assert.deepEqual(origin.hits('/m/same'), { full: 1, notModified: 1 }, 'an unchanged object is not downloaded again');
  const changed = await get('/m/changed');
  assert.equal(changed.xcache, 'EXPIRED');
  assert.equal(changed.body, '/m/changed v2');
  assert.equal((await get('/n/same')).xcache, 'HIT', 'outside the directory stays fresh');

  assert.deepEqual(await driver.revalidate(t('/n/same')), [okWith('marked 1')]);
  assert.equal((await get('/n/same')).xcache, 'REVALIDATED');
  assert.equal((await get('/n/same')).xcache, 'HIT');
});

test('prefetch stores the object (then a hit without the origin), replaces a cached copy, reports failures', async () => {
  origin.put('/pf/one');
  assert.deepEqual(await driver.prefetch(t('/pf/one')), [okWith('origin 200')]);
  assert.equal(origin.hits('/pf/one').full, 1);
  const hit = await get('/pf/one');
  assert.equal(hit.xcache, 'HIT');
  assert.equal(hit.body, '/pf/one v1');
  assert.equal(origin.hits('/pf/one').full, 1);

  origin.put('/pf/one');
  await driver.prefetch(t('/pf/one'));
  assert.equal((await get('/pf/one')).body, '/pf/one v2', 'a prefetch replaces the cached copy');

  origin.put('/pf/private', { cacheControl: 'no-store' });
  origin.put('/pf/broken', { status: 500, cacheControl: 'no-store' });
  const [missing, noStore, broken, unknown] = await driver.prefetch([
    ...t('/pf/missing'),
    ...t('/pf/private'),
    ...t('/pf/broken'),
    { host: 'not-served.test', path: '/x' },
  ]);
  assert.deepEqual(missing, { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: 'origin answered 404' });
  assert.ok(!noStore.ok && noStore.classify === 'ORIGIN_ERROR' && !noStore.retryable && /no-store/.test(noStore.message), JSON.stringify(noStore));
  assert.ok(!broken.ok && broken.classify === 'ORIGIN_ERROR' && /500/.test(broken.message), JSON.stringify(broken));
  assert.deepEqual(unknown, { ok: false, classify: 'INNER_ERROR', retryable: true, message: 'domain not-served.test not configured on this node' });
  assert.equal((await get('/pf/private')).xcache, 'BYPASS', 'the refused prefetch stored nothing');
});

test('a prefetch to an origin that is down is a retryable ORIGIN_ERROR', async () => {
  const [r] = await driver.prefetch([{ host: ALL_DOWN, path: '/x' }]);
  assert.ok(!r.ok && r.classify === 'ORIGIN_ERROR' && r.retryable && /ECONNREFUSED/.test(r.message), JSON.stringify(r));
});

test('an unknown Host gets 404', async () => {
  const r = await get('/anything', { host: 'nobody.test' });
  assert.equal(r.status, 404);
  assert.equal(origin.hits('/anything').full, 0);
  assert.equal((await get('/anything', { host: 'SITE.test:8080' })).status, 404, 'known after lower-casing and port stripping: origin 404');
  assert.equal(origin.hits('/anything').full, 1);
});

test('a domain removed by applyDomains is no longer served and its objects are dropped', async () => {
  origin.put('/g/a');
  assert.equal((await get('/g/a', { host: GONE })).xcache, 'MISS');
  assert.equal((await get('/g/a', { host: GONE })).xcache, 'HIT');
  const before = await driver.health();
  await driver.applyDomains(
    domains.filter((d) => d.name !== GONE),
    ++version,
  );
  const health = await driver.health();
  assert.equal(health.up, true);
  assert.equal(health.domainsVersion, version);
  assert.equal((await get('/g/a', { host: GONE })).status, 404);
  assert.equal((await get('/hit/a')).xcache, 'HIT', 'other domains keep their objects');
  assert.notEqual(health.detail, before.detail);
  await driver.applyDomains(domains, ++version);
  assert.equal((await get('/g/a', { host: GONE })).xcache, 'MISS', 'dropped, not just hidden');
  assert.equal(origin.hits('/g/a').full, 2);
});

test('LRU eviction by bytes keeps the recently used objects; oversize objects pass through', async () => {
  for (const p of ['/l/a', '/l/b', '/l/c', '/l/d', '/l/big']) origin.put(p, { size: p === '/l/big' ? 5000 : 2000 });
  for (const p of ['/l/a', '/l/b', '/l/c']) assert.equal((await get(p, { via: smallUsers })).xcache, 'MISS');
  assert.equal((await get('/l/a', { via: smallUsers })).xcache, 'HIT'); // a is now more recent than b
  assert.equal((await get('/l/d', { via: smallUsers })).xcache, 'MISS'); // over 8 KiB: b goes
  assert.equal((await get('/l/a', { via: smallUsers })).xcache, 'HIT');
  assert.equal((await get('/l/c', { via: smallUsers })).xcache, 'HIT');
  assert.equal((await get('/l/b', { via: smallUsers })).xcache, 'MISS', 'the least recently used was evicted');
  assert.equal(origin.hits('/l/a').full, 1);

  const big = await get('/l/big', { via: smallUsers });
  assert.equal(big.body.length, 5000);
  assert.equal(big.xcache, 'BYPASS');
  assert.equal((await get('/l/big', { via: smallUsers })).xcache, 'BYPASS');
  assert.equal(origin.hits('/l/big').full, 2);

  const res = await fetchJson(`${small.controlUrl}/health`);
  assert.ok(res.bytes <= 8192 && res.entries === 3, JSON.stringify(res));
});

test('primaries are asked first; a standby only when the primary refuses connections; all down is 502', async () => {
  origin.put('/f/up');
  standby.put('/f/up');
  assert.equal((await get('/f/up', { host: BOTH_UP })).status, 200);
  assert.deepEqual([origin.hits('/f/up').full, standby.hits('/f/up').full], [1, 0]);

  standby.put('/f/a');
  const r = await get('/f/a', { host: FAILOVER });
  assert.equal(r.status, 200);
  assert.equal(r.body, '/f/a v1');
  assert.equal(standby.hits('/f/a').full, 1);
  assert.equal((await get('/f/b', { host: FAILOVER })).status, 404, 'the standby answered');
  assert.equal((await get('/f/a', { host: ALL_DOWN })).status, 502);
});

test('an origin slower than originTimeoutMs gets 504', async () => {
  // Well past the timeout: undici's headers timer only has a resolution of about half a second.
  origin.put('/slow/a', { delayMs: 2500 });
  assert.equal((await get('/slow/a', { via: smallUsers })).status, 504);
});

test('concurrent misses for one key are collapsed into one origin request', async () => {
  origin.put('/c/a', { delayMs: 300 });
  const all = await Promise.all(Array.from({ length: 6 }, () => get('/c/a')));
  assert.deepEqual(
    all.map((r) => r.body),
    all.map(() => '/c/a v1'),
  );
  assert.equal(origin.hits('/c/a').full, 1);
});

test('an answer fetched while a purge arrives is served to its requester but not stored', async () => {
  origin.put('/race/a', { delayMs: 300 });
  const pending = get('/race/a');
  while (origin.arrived('/race/a') === 0) await sleep(5); // the fetch is in flight
  assert.deepEqual(await driver.purge(t('/race/a')), [okWith('purged 0')]);
  assert.equal((await pending).body, '/race/a v1');
  origin.put('/race/a');
  const next = await get('/race/a');
  assert.equal(next.xcache, 'MISS');
  assert.equal(next.body, '/race/a v2');
});

test('HEAD is served from the cache (a HEAD miss fetches and stores with GET); conditionals are answered by the edge', async () => {
  origin.put('/h/a');
  const head = await get('/h/a', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], String('/h/a v1'.length));
  assert.equal((await get('/h/a')).xcache, 'HIT');
  assert.equal(origin.hits('/h/a').full, 1);
  const conditional = await get('/h/a', { headers: { 'if-none-match': '"v1"' } });
  assert.equal(conditional.status, 304);
  assert.equal(conditional.xcache, 'HIT');
});

test('other methods are proxied without the cache', async () => {
  origin.put('/post/a');
  const posted = await get('/post/a', { method: 'POST', headers: { 'content-type': 'text/plain' } });
  assert.equal(posted.xcache, 'BYPASS');
  assert.equal(posted.body, '/post/a v1');
  assert.equal((await get('/post/a')).xcache, 'MISS');
});

test('the admin endpoint answers 400 to malformed JSON and shapes, 404 to unknown routes', async () => {
  const post = async (path: string, body: string) => {
    const res = await fetchRaw(`${edge.controlUrl}${path}`, 'POST', body);
    return res.status;
  };
  assert.equal(await post('/purge', '{not json'), 400);
  assert.equal(await post('/purge', '{"items": [{"host": "a"}]}'), 400);
  assert.equal(await post('/purge', '{"items": "x"}'), 400);
  assert.equal((await fetchRaw(`${edge.controlUrl}/domains`, 'PUT', '{"version": 1, "domains": [{"name": "x", "sources": [{}]}]}')).status, 400);
  const badAddress = '{"version": 1, "domains": [{"name": "x", "sources": [{"address": "a b", "primary": true, "httpPort": 80}]}]}';
  assert.equal((await fetchRaw(`${edge.controlUrl}/domains`, 'PUT', badAddress)).status, 400);
  assert.equal(await post('/nothing-here', '{}'), 404);
  assert.equal((await driver.health()).up, true, 'still up');
});

test('the driver rejects when the admin endpoint cannot be reached; health says down', async () => {
  const port = await deadPort();
  const lost = new BuiltinDriver(`http://127.0.0.1:${port}`, { timeoutMs: 1000 });
  try {
    await assert.rejects(lost.purge(t('/x')), new RegExp(`ECONNREFUSED 127.0.0.1:${port}`));
    await assert.rejects(lost.applyDomains([], 1), /ECONNREFUSED/);
    const health = await lost.health();
    assert.equal(health.up, false);
    assert.match(String(health.detail), /ECONNREFUSED/);
  } finally {
    await lost.close();
  }
});

// --- raw admin calls for the cases the driver cannot express ---

async function fetchRaw(url: string, method: string, body?: string): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const pool = new Pool(u.origin);
  try {
    const res = await pool.request({ method, path: u.pathname, body, headers: { 'content-type': 'application/json' } });
    return { status: res.statusCode, text: await res.body.text() };
  } finally {
    await pool.close();
  }
}

async function fetchJson(url: string): Promise<{ entries: number; bytes: number }> {
  const res = await fetchRaw(url, 'GET');
  return JSON.parse(res.text) as { entries: number; bytes: number };
}
