// The built-in edge as a cache: what is stored, for how long, under which key, and how hits, misses,
// revalidations, HEAD, other methods and concurrent misses are answered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkStorable, parseCacheControl, freshnessLifetimeMs } from '../../src/edge/builtin/cache-policy.js';
import { fetchJson, source, startOrigin, startTestEdge } from './builtin-edge-fixture.js';
import type { Got, TestEdge, TestOrigin } from './builtin-edge-fixture.js';

const SITE = 'site.test';

let origin: TestOrigin;
let edge: TestEdge;
let small: TestEdge;

before(async () => {
  origin = await startOrigin();
  edge = await startTestEdge([{ name: SITE, sources: [source(origin.port)] }], { name: 'edge-a' });
  small = await startTestEdge([{ name: SITE, sources: [source(origin.port)] }], { name: 'edge-small', maxBytes: 8192, maxObjectBytes: 4096 });
});

after(async () => {
  await Promise.all([edge?.close(), small?.close()]);
  await origin?.close();
});

const get = (path: string, { method, headers, via = edge }: { method?: string; headers?: Record<string, string>; via?: TestEdge } = {}): Promise<Got> =>
  via.get(path, { host: SITE, method, headers });

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

test('LRU eviction by bytes keeps the recently used objects; oversize objects pass through', async () => {
  for (const p of ['/l/a', '/l/b', '/l/c', '/l/d', '/l/big']) origin.put(p, { size: p === '/l/big' ? 5000 : 2000 });
  for (const p of ['/l/a', '/l/b', '/l/c']) assert.equal((await get(p, { via: small })).xcache, 'MISS');
  assert.equal((await get('/l/a', { via: small })).xcache, 'HIT'); // a is now more recent than b
  assert.equal((await get('/l/d', { via: small })).xcache, 'MISS'); // over 8 KiB: b goes
  assert.equal((await get('/l/a', { via: small })).xcache, 'HIT');
  assert.equal((await get('/l/c', { via: small })).xcache, 'HIT');
  assert.equal((await get('/l/b', { via: small })).xcache, 'MISS', 'the least recently used was evicted');
  assert.equal(origin.hits('/l/a').full, 1);

  const big = await get('/l/big', { via: small });
  assert.equal(big.body.length, 5000);
  assert.equal(big.xcache, 'BYPASS');
  assert.equal((await get('/l/big', { via: small })).xcache, 'BYPASS');
  assert.equal(origin.hits('/l/big').full, 2);

  const res = await fetchJson(`${small.edge.controlUrl}/health`, small.secret);
  assert.ok(res.bytes <= 8192 && res.entries === 3, JSON.stringify(res));
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
