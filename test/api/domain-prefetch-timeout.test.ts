// cachectl's per-domain prefetch timeout (PUT/GET /cachectl/v1/domains/{name}/prefetch-timeout): set and
// cleared by the domain's own account, bounds checked, another account's domain answered as missing,
// and what the engine reads from the store, wildcard domains included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { client, type Call } from '../support/signed-client.js';
import { PrefetchTimeouts } from '../../src/engine/prefetch-timeouts.js';

let s: TestServer;
let other: Call;
before(async () => {
  s = await startTestServer({ 'builtin-edges': '0', 'prefetch-timeout-ms': '45000' });
  const res = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'someone-else' } });
  assert.equal(res.status, 200, res.text);
  other = client(s.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key });
  await addDomain(s.call, 'www.timeouts.test', 8080);
  await addDomain(s.call, '*.wild.timeouts.test', 8080);
});
after(async () => {
  await s?.close();
});

const path = (name: string) => `/cachectl/v1/domains/${name}/prefetch-timeout`;

test('a domain takes the server setting until it sets its own; null goes back to it', async () => {
  const initial = await s.call('GET', path('www.timeouts.test'));
  assert.equal(initial.status, 200, initial.text);
  assert.deepEqual(initial.json, { domain_name: 'www.timeouts.test', prefetch_timeout_ms: null, effective_prefetch_timeout_ms: 45_000 });
  const set = await s.call('PUT', path('WWW.timeouts.test'), { body: { prefetch_timeout_ms: 1_800_000 } });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.json, { domain_name: 'www.timeouts.test', prefetch_timeout_ms: 1_800_000, effective_prefetch_timeout_ms: 1_800_000 });
  const cleared = await s.call('PUT', path('www.timeouts.test'), { body: { prefetch_timeout_ms: null } });
  assert.deepEqual(cleared.json, { domain_name: 'www.timeouts.test', prefetch_timeout_ms: null, effective_prefetch_timeout_ms: 45_000 });
});

test('bad values are a 400 in the error shape; another account\'s domain is unknown (CDN.0105)', async () => {
  for (const body of [{ prefetch_timeout_ms: 999 }, { prefetch_timeout_ms: 86_400_001 }, { prefetch_timeout_ms: '60000' }, {}]) {
    const res = await s.call('PUT', path('www.timeouts.test'), { body });
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    assert.equal(typeof res.json.error_code, 'string', res.text);
    assert.equal(typeof res.json.error_msg, 'string', res.text);
  }
  // As Huawei answers an unknown domain: 400 CDN.0105.
  for (const [call, name] of [[other, 'www.timeouts.test'], [s.call, 'nothing.timeouts.test']] as const) {
    for (const res of [await call('PUT', path(name), { body: { prefetch_timeout_ms: 60_000 } }), await call('GET', path(name))]) {
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error_code, 'CDN.0105', res.text);
    }
  }
});

test('unsigned calls are refused (401 APIGW.0301) and change nothing', async () => {
  for (const [method, body] of [['GET', undefined], ['PUT', JSON.stringify({ prefetch_timeout_ms: 60_000 })]] as const) {
    const res = await request(new URL(path('www.timeouts.test'), s.server.url), { method, ...(body && { body, headers: { 'content-type': 'application/json' } }) });
    assert.equal(res.statusCode, 401, method);
    assert.equal(((await res.body.json()) as any).error_code, 'APIGW.0301', method);
  }
  const now = await s.call('GET', path('www.timeouts.test'));
  assert.notEqual(now.json.prefetch_timeout_ms, 60_000);
});

test('the engine reads each host\'s timeout from the store: exact domain, then the covering wildcard, else the server\'s', async () => {
  assert.equal((await s.call('PUT', path('www.timeouts.test'), { body: { prefetch_timeout_ms: 120_000 } })).status, 200);
  assert.equal((await s.call('PUT', path('*.wild.timeouts.test'), { body: { prefetch_timeout_ms: 300_000 } })).status, 200);
  // A second reader on the same store, as another serve process would have.
  const timeouts = new PrefetchTimeouts(s.server.store.db, 45_000, () => undefined);
  await timeouts.reload();
  assert.equal(timeouts.of('www.timeouts.test'), 120_000);
  assert.equal(timeouts.of('WWW.Timeouts.test'), 120_000);
  assert.equal(timeouts.of('a.wild.timeouts.test'), 300_000);
  assert.equal(timeouts.of('b.a.wild.timeouts.test'), 300_000);
  assert.equal(timeouts.of('wild.timeouts.test'), 45_000);
  assert.equal(timeouts.of('else.test'), 45_000);
});
