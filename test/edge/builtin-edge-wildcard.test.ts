// Wildcard domains on the built-in edge: `*.wild.test` serves a.wild.test and x.y.wild.test (exact name
// first, then the nearest wildcard), objects are cached under the request's own host so that purges for
// concrete URLs reach them, and prefetches find their origin through the same lookup.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainSet } from '../../src/edge/builtin/domain-set.js';
import type { DomainConfig } from '../../src/edge/edge-driver.js';
import { okWith, source, startOrigin, startTestEdge } from './builtin-edge-fixture.js';
import type { Got, TestEdge, TestOrigin } from './builtin-edge-fixture.js';

const WILD = '*.wild.test';
const EXACT = 'exact.wild.test';
const DEEP = '*.deep.wild.test';

/** `wild` answers for *.wild.test, `other` for the names that beat it; X-Origin tells them apart. */
let wild: TestOrigin;
let other: TestOrigin;
let edge: TestEdge;
let domains: DomainConfig[];

before(async () => {
  wild = await startOrigin();
  other = await startOrigin();
  domains = [
    { name: WILD, sources: [source(wild.port)] },
    { name: EXACT, sources: [source(other.port)] },
    { name: DEEP, sources: [source(other.port)] },
  ];
  edge = await startTestEdge(domains);
});

after(async () => {
  await edge?.close();
  await Promise.all([wild?.close(), other?.close()]);
});

/** Puts the object on both origins, each marking its answers with X-Origin. */
function putBoth(path: string): void {
  wild.put(path, { headers: { 'x-origin': 'wild' } });
  other.put(path, { headers: { 'x-origin': 'other' } });
}

const get = (path: string, host: string, via: TestEdge = edge): Promise<Got> => via.get(path, { host });

test('host lookup: the exact name, then the nearest wildcard; a wildcard covers neither its bare name nor a one-label suffix', () => {
  const set = new DomainSet(
    ['a.b.example.com', '*.b.example.com', '*.example.com', '*.com', 'plain'].map((name) => ({ name, origins: [] })),
    1,
  );
  const served = (host: string) => set.lookup(host)?.name;
  assert.equal(served('a.b.example.com'), 'a.b.example.com');
  assert.equal(served('x.a.b.example.com'), '*.b.example.com', 'a wildcard also covers deeper hosts');
  assert.equal(served('c.b.example.com'), '*.b.example.com');
  assert.equal(served('b.example.com'), '*.example.com', 'the nearer wildcard does not cover its own bare name');
  assert.equal(served('x.y.example.com'), '*.example.com');
  assert.equal(served('example.com'), undefined, 'nor does *.example.com, and *.com is never tried');
  assert.equal(served('other.com'), undefined);
  assert.equal(served('wexample.com'), undefined);
  assert.equal(served('plain'), 'plain');
  assert.equal(new DomainSet([{ name: 'only.exact', origins: [] }], 1).lookup('a.only.exact'), undefined);
});

test('a wildcard domain serves the hosts below it, and the origin gets the host that was asked for', async () => {
  putBoth('/w/a');
  const a = await get('/w/a', 'a.wild.test');
  assert.equal(a.status, 200);
  assert.equal(a.xcache, 'MISS');
  assert.equal(a.headers['x-origin'], 'wild');
  const deep = await get('/w/a', 'x.y.wild.test');
  assert.equal(deep.status, 200);
  assert.equal(deep.xcache, 'MISS', 'each host has its own cache key');
  assert.equal(deep.headers['x-origin'], 'wild');
  assert.deepEqual(wild.hosts('/w/a'), ['a.wild.test', 'x.y.wild.test']);

  assert.equal((await get('/w/a', 'A.Wild.Test:8080')).xcache, 'HIT', 'lower-cased and without the port, like any host');
  assert.equal((await get('/w/a', 'wild.test')).status, 404, 'the bare name is not covered');
  assert.equal((await get('/w/a', 'notwild.test')).status, 404);
  assert.equal(wild.hits('/w/a').full, 2);
});

test('an exact name wins over a wildcard, and the nearest wildcard over a farther one', async () => {
  putBoth('/w/b');
  assert.equal((await get('/w/b', EXACT)).headers['x-origin'], 'other');
  assert.equal((await get('/w/b', 'a.deep.wild.test')).headers['x-origin'], 'other');
  assert.equal((await get('/w/b', 'b.c.deep.wild.test')).headers['x-origin'], 'other');
  assert.equal((await get('/w/b', 'deep.wild.test')).headers['x-origin'], 'wild', '*.deep.wild.test does not cover deep.wild.test');
  assert.equal((await get('/w/b', 'sub.exact.wild.test')).headers['x-origin'], 'wild', 'an exact name covers nothing below it');
  assert.deepEqual(other.hosts('/w/b'), [EXACT, 'a.deep.wild.test', 'b.c.deep.wild.test']);
});

test('purges and revalidations by concrete host reach the objects a wildcard domain cached, and only that host', async () => {
  putBoth('/wp/a');
  putBoth('/wp/dir/b');
  for (const host of ['a.wild.test', 'b.wild.test']) {
    for (const path of ['/wp/a', '/wp/dir/b']) assert.equal((await get(path, host)).xcache, 'MISS');
  }
  assert.deepEqual(await edge.driver.purge([{ host: WILD, path: '/wp/a' }]), [okWith('purged 0')], 'a wildcard is not a cache key');
  assert.deepEqual(await edge.driver.purge([{ host: 'a.wild.test', path: '/wp/a' }]), [okWith('purged 1')]);
  assert.equal((await get('/wp/a', 'a.wild.test')).xcache, 'MISS');
  assert.equal((await get('/wp/a', 'b.wild.test')).xcache, 'HIT');

  assert.deepEqual(await edge.driver.purgeDirectory([{ host: 'b.wild.test', path: '/wp/' }]), [okWith('purged 2')]);
  assert.equal((await get('/wp/dir/b', 'b.wild.test')).xcache, 'MISS');
  assert.equal((await get('/wp/dir/b', 'a.wild.test')).xcache, 'HIT');

  assert.deepEqual(await edge.driver.revalidateDirectory([{ host: 'a.wild.test', path: '/wp/dir/' }]), [okWith('marked 1')]);
  assert.equal((await get('/wp/dir/b', 'a.wild.test')).xcache, 'REVALIDATED');
  assert.equal((await get('/wp/dir/b', 'b.wild.test')).xcache, 'HIT');
  assert.deepEqual(wild.hits('/wp/dir/b'), { full: 3, notModified: 1 });
});

test('a prefetch for a host below a wildcard finds its origin through the same lookup and stores under the host', async () => {
  putBoth('/wf/a');
  const results = await edge.driver.prefetch([
    { host: 'p.wild.test', path: '/wf/a' },
    { host: 'q.deep.wild.test', path: '/wf/a' },
    { host: 'wild.test', path: '/wf/a' },
  ]);
  assert.deepEqual(results, [
    okWith('origin 200'),
    okWith('origin 200'),
    { ok: false, classify: 'INNER_ERROR', retryable: true, message: 'domain wild.test not configured on this node' },
  ]);
  assert.deepEqual(wild.hosts('/wf/a'), ['p.wild.test']);
  assert.deepEqual(other.hosts('/wf/a'), ['q.deep.wild.test']);
  const hit = await get('/wf/a', 'p.wild.test');
  assert.equal(hit.xcache, 'HIT');
  assert.equal(hit.headers['x-origin'], 'wild');
  assert.equal((await get('/wf/a', 'q.deep.wild.test')).headers['x-origin'], 'other');
  assert.equal((await get('/wf/a', 'r.wild.test')).xcache, 'MISS', 'other hosts of the wildcard were not prefetched');
});

test('applyDomains: a host that another domain now serves, or none, loses what it cached; the others keep theirs', async () => {
  const own = await startTestEdge([{ name: WILD, sources: [source(wild.port)] }]);
  try {
    putBoth('/wd/a');
    for (const host of ['m.wild.test', 'n.wild.test']) assert.equal((await get('/wd/a', host, own)).xcache, 'MISS');
    await own.driver.applyDomains(
      [
        { name: WILD, sources: [source(wild.port)] },
        { name: 'm.wild.test', sources: [source(other.port)] },
      ],
      2,
    );
    const moved = await get('/wd/a', 'm.wild.test', own);
    assert.equal(moved.xcache, 'MISS', 'not the copy fetched through the wildcard');
    assert.equal(moved.headers['x-origin'], 'other');
    assert.equal((await get('/wd/a', 'n.wild.test', own)).xcache, 'HIT');

    await own.driver.applyDomains([{ name: 'm.wild.test', sources: [source(other.port)] }], 3);
    assert.equal((await get('/wd/a', 'n.wild.test', own)).status, 404, 'the wildcard is gone');
    assert.equal((await get('/wd/a', 'm.wild.test', own)).xcache, 'HIT', 'the exact domain kept its objects');
    await own.driver.applyDomains([{ name: WILD, sources: [source(wild.port)] }], 4);
    assert.equal((await get('/wd/a', 'n.wild.test', own)).xcache, 'MISS', 'dropped, not just hidden');
    assert.equal((await get('/wd/a', 'm.wild.test', own)).headers['x-origin'], 'wild', 'back to the wildcard, fetched afresh');
  } finally {
    await own.close();
  }
});

test('an answer fetched through a wildcard is not stored when another domain takes the host over meanwhile', async () => {
  const own = await startTestEdge([{ name: WILD, sources: [source(wild.port)] }]);
  try {
    wild.put('/wr/a', { delayMs: 300, headers: { 'x-origin': 'wild' } });
    other.put('/wr/a', { headers: { 'x-origin': 'other' } });
    const pending = get('/wr/a', 's.wild.test', own);
    while (wild.arrived('/wr/a') === 0) await sleep(5); // the fetch is in flight
    await own.driver.applyDomains(
      [
        { name: WILD, sources: [source(wild.port)] },
        { name: 's.wild.test', sources: [source(other.port)] },
      ],
      2,
    );
    const served = await pending;
    assert.equal(served.status, 200);
    assert.equal(served.headers['x-origin'], 'wild', 'the requester still gets the answer');
    const next = await get('/wr/a', 's.wild.test', own);
    assert.equal(next.xcache, 'MISS');
    assert.equal(next.headers['x-origin'], 'other');
  } finally {
    await own.close();
  }
});
