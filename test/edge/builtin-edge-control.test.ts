// The built-in edge's admin endpoint through BuiltinDriver: purge, revalidate and prefetch (by key and
// by directory), domain set changes, purges that overtake a fetch, and malformed or failed admin calls.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuiltinDriver } from '../../src/edge/builtin/driver.js';
import type { DomainConfig } from '../../src/edge/edge-driver.js';
import { deadPort, fetchRaw, okWith, source, startOrigin, startTestEdge } from './builtin-edge-fixture.js';
import type { Got, TestEdge, TestOrigin } from './builtin-edge-fixture.js';

const SITE = 'site.test';
const GONE = 'gone.test';
const ALL_DOWN = 'alldown.test';

let origin: TestOrigin;
let edge: TestEdge;
let driver: BuiltinDriver;
let domains: DomainConfig[];
let version = 1;

before(async () => {
  origin = await startOrigin();
  domains = [
    { name: SITE, sources: [source(origin.port)] },
    { name: GONE, sources: [source(origin.port)] },
    { name: ALL_DOWN, sources: [source(await deadPort(), true), source(await deadPort(), false)] },
  ];
  edge = await startTestEdge(domains);
  driver = edge.driver;
});

after(async () => {
  await edge?.close();
  await origin?.close();
});

const get = (path: string, { host = SITE }: { host?: string } = {}): Promise<Got> => edge.get(path, { host });
const t = (path: string) => [{ host: SITE, path }];

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

test('a domain removed by applyDomains is no longer served and its objects are dropped', async () => {
  origin.put('/g/a');
  origin.put('/g/kept');
  assert.equal((await get('/g/a', { host: GONE })).xcache, 'MISS');
  assert.equal((await get('/g/a', { host: GONE })).xcache, 'HIT');
  assert.equal((await get('/g/kept')).xcache, 'MISS');
  const before = await driver.health();
  await driver.applyDomains(
    domains.filter((d) => d.name !== GONE),
    ++version,
  );
  const health = await driver.health();
  assert.equal(health.up, true);
  assert.equal(health.domainsVersion, version);
  assert.equal((await get('/g/a', { host: GONE })).status, 404);
  assert.equal((await get('/g/kept')).xcache, 'HIT', 'other domains keep their objects');
  assert.notEqual(health.detail, before.detail);
  await driver.applyDomains(domains, ++version);
  assert.equal((await get('/g/a', { host: GONE })).xcache, 'MISS', 'dropped, not just hidden');
  assert.equal(origin.hits('/g/a').full, 2);
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

test('the admin endpoint answers 400 to malformed JSON and shapes, 404 to unknown routes', async () => {
  const controlUrl = edge.edge.controlUrl;
  const post = async (path: string, body: string) => {
    const res = await fetchRaw(`${controlUrl}${path}`, 'POST', body, edge.secret);
    return res.status;
  };
  assert.equal(await post('/purge', '{not json'), 400);
  assert.equal(await post('/purge', '{"items": [{"host": "a"}]}'), 400);
  assert.equal(await post('/purge', '{"items": "x"}'), 400);
  assert.equal((await fetchRaw(`${controlUrl}/domains`, 'PUT', '{"version": 1, "domains": [{"name": "x", "sources": [{}]}]}', edge.secret)).status, 400);
  const badAddress = '{"version": 1, "domains": [{"name": "x", "sources": [{"address": "a b", "primary": true, "httpPort": 80}]}]}';
  assert.equal((await fetchRaw(`${controlUrl}/domains`, 'PUT', badAddress, edge.secret)).status, 400);
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
