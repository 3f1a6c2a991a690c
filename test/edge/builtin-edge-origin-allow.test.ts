// The built-in edge checks the address it actually connects to against --origin-allow, on every connect:
// a name the control plane let through may resolve elsewhere later (DNS rebinding). `localhost` is a
// real name the system resolver answers with a loopback address, so an edge that allows only public
// addresses must not fetch from it, while one that allows loopback does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin, startTestEdge } from './builtin-edge-fixture.js';
import type { TestEdge, TestOrigin } from './builtin-edge-fixture.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';

const BY_NAME = 'by-name.test';
const BY_IP = 'by-ip.test';
const METADATA = 'metadata-ip.test';

let origin: TestOrigin;
let publicOnly: TestEdge;
let loopback: TestEdge;
let namedTrusted: TestEdge;

before(async () => {
  origin = await startOrigin();
  const domains = [
    { name: BY_NAME, sources: [{ address: 'localhost', type: 'domain' as const, primary: true, httpPort: origin.port, httpsPort: 443 }] },
    { name: BY_IP, sources: [{ address: '127.0.0.1', type: 'ipaddr' as const, primary: true, httpPort: origin.port, httpsPort: 443 }] },
    // A primary the edge may not reach, then a standby it may: the refusal fails over like a dead origin.
    {
      name: METADATA,
      sources: [
        { address: '169.254.169.254', type: 'ipaddr' as const, primary: true, httpPort: 80, httpsPort: 443 },
        { address: '127.0.0.1', type: 'ipaddr' as const, primary: false, httpPort: origin.port, httpsPort: 443 },
      ],
    },
  ];
  publicOnly = await startTestEdge(domains, { name: 'public-only', originAllow: OriginAllowList.parse('public') });
  loopback = await startTestEdge(domains, { name: 'loopback', originAllow: OriginAllowList.parse('loopback') });
  namedTrusted = await startTestEdge(domains, { name: 'named', originAllow: OriginAllowList.parse('public,localhost') });
});

after(async () => {
  await Promise.all([publicOnly?.close(), loopback?.close(), namedTrusted?.close()]);
  await origin?.close();
});

test('a name that resolves to a refused address is not fetched (502), by users or prefetch', async () => {
  origin.put('/n');
  const r = await publicOnly.get('/n', { host: BY_NAME });
  assert.equal(r.status, 502);
  assert.equal(origin.hits('/n').full, 0, 'the origin was never asked');
  const [result] = await publicOnly.driver.prefetch([{ host: BY_NAME, path: '/n' }]);
  assert.equal(result.ok, false, JSON.stringify(result));
  assert.equal(origin.hits('/n').full, 0, 'nor by a prefetch');
});

test('an IP origin the edge may not reach is not fetched', async () => {
  origin.put('/i');
  assert.equal((await publicOnly.get('/i', { host: BY_IP })).status, 502);
  assert.equal(origin.hits('/i').full, 0);
});

test('the same origins are fetched where loopback is allowed, or the name is listed', async () => {
  origin.put('/ok');
  assert.equal((await loopback.get('/ok', { host: BY_NAME })).status, 200);
  assert.equal((await loopback.get('/ok', { host: BY_IP })).status, 200);
  assert.equal((await namedTrusted.get('/ok', { host: BY_NAME })).status, 200, 'a listed name is trusted wherever it resolves');
  assert.equal((await namedTrusted.get('/ok2', { host: BY_IP })).status, 502, 'but its address alone is not');
});

test('a refused primary (a metadata address) fails over to an allowed standby; the metadata address is never connected to', async () => {
  origin.put('/m');
  const r = await loopback.get('/m', { host: METADATA });
  assert.equal(r.status, 200);
  assert.equal(r.body, '/m v1');
});
