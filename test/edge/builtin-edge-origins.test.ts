// The built-in edge towards its origins: which domain a Host goes to, primaries before standbys,
// failover when a primary refuses connections, and the answers when no origin can be had.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deadPort, source, startOrigin, startTestEdge } from './builtin-edge-fixture.js';
import type { Got, TestEdge, TestOrigin } from './builtin-edge-fixture.js';

const SITE = 'site.test';
const FAILOVER = 'failover.test';
const ALL_DOWN = 'alldown.test';
const BOTH_UP = 'bothup.test';

let origin: TestOrigin;
let standby: TestOrigin;
let edge: TestEdge;
let impatient: TestEdge;

before(async () => {
  origin = await startOrigin();
  standby = await startOrigin();
  // Separate dead ports: an address that refused a connection is tried last for a while, which must not
  // make the failover case pass by accident.
  edge = await startTestEdge([
    { name: SITE, sources: [source(origin.port)] },
    { name: FAILOVER, sources: [source(standby.port, false), source(await deadPort(), true)] },
    { name: ALL_DOWN, sources: [source(await deadPort(), true), source(await deadPort(), false)] },
    { name: BOTH_UP, sources: [source(standby.port, false), source(origin.port, true)] },
  ]);
  impatient = await startTestEdge([{ name: SITE, sources: [source(origin.port)] }], { originTimeoutMs: 300 });
});

after(async () => {
  await Promise.all([edge?.close(), impatient?.close()]);
  await Promise.all([origin?.close(), standby?.close()]);
});

const get = (path: string, { host = SITE, via = edge }: { host?: string; via?: TestEdge } = {}): Promise<Got> => via.get(path, { host });

test('an unknown Host gets 404', async () => {
  const r = await get('/anything', { host: 'nobody.test' });
  assert.equal(r.status, 404);
  assert.equal(origin.hits('/anything').full, 0);
  assert.equal((await get('/anything', { host: 'SITE.test:8080' })).status, 404, 'known after lower-casing and port stripping: origin 404');
  assert.equal(origin.hits('/anything').full, 1);
  assert.deepEqual(origin.hosts('/anything'), [SITE], 'the origin gets the normalised host');
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
  assert.equal((await get('/slow/a', { via: impatient })).status, 504);
});
