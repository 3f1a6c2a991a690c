// Changing a domain's origins (proposed spec §11.5): v1 UpdateDomainOrigin by id and the v1.1 full-config
// update by name (sources only). Who may call them, what bad input gets (and that it changes nothing),
// the answers, the state rules, and that the built-in edges fetch from the new origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, type ApiResponse, type Call } from '../support/signed-client.js';
import { freshDatabase } from '../support/postgres.js';

let s: TestServer;
let other: Call;
let a: TestOrigin;
let b: TestOrigin;
before(async () => {
  s = await startTestServer({ 'builtin-edges': '1' });
  const res = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'someone-else' } });
  assert.equal(res.status, 200, res.text);
  other = client(s.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key });
  [a, b] = await Promise.all([startOrigin(), startOrigin()]);
});
after(async () => {
  await s?.close();
  await Promise.all([a?.close(), b?.close()]);
});

const originPath = (id: string) => `/v1.0/cdn/domains/${id}/origin`;
const configsPath = (name: string) => `/v1.1/cdn/configuration/domains/${name}/configs`;
const ip = (port: number, active = 1) => ({ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: active, http_port: port });

function assertRefused(res: ApiResponse, status: number, code: string, msg?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.error_code, code, res.text);
  assert.equal(res.json.error?.error_code, code, 'the hybrid CDN error body');
  if (msg) assert.match(res.json.error_msg, msg);
}

async function detail(id: string) {
  const res = await s.call('GET', `/v1.0/cdn/domains/${id}/detail`);
  assert.equal(res.status, 200, res.text);
  return res.json.domain;
}

async function waitStatus(id: string, status: string) {
  for (let i = 0; ; i++) {
    const d = await detail(id);
    if (d.domain_status === status) return d;
    assert.ok(i < 500, `domain never ${status}: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function edgeGet(host: string, path: string) {
  const res = await request(s.server.edges[0].trafficUrl + path, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
}

test('v1 origin change: the ResourceBody answer, stored and pushed, the edge fetches new objects from the new origin', async () => {
  const host = 'change.origins.test';
  const id = await addDomain(s.call, host, a.port);
  const before = await detail(id);
  a.put('/one');
  assert.equal((await edgeGet(host, '/one')).body, '/one v1');

  b.put('/two');
  const res = await s.call('PUT', originPath(id), {
    query: [['enterprise_project_id', 'all']],
    body: { origin: { sources: [{ ...ip(b.port), https_port: 8443 }, { ip_or_domain: 'Standby.Origins-Backup.test', origin_type: 'domain', active_standby: 0 }] } },
  });
  assert.equal(res.status, 200, res.text);
  assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{32}$/);
  assert.deepEqual(res.json, {
    origin: {
      sources: [
        { domain_id: id, ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, enable_obs_web_hosting: 0, http_port: b.port, https_port: 8443 },
        { domain_id: id, ip_or_domain: 'standby.origins-backup.test', origin_type: 'domain', active_standby: 0, enable_obs_web_hosting: 0, http_port: 80, https_port: 443 },
      ],
    },
  });
  const after = await waitStatus(id, 'online');
  assert.deepEqual(after.sources, res.json.origin.sources, 'the detail shows what the change answered');
  assert.ok(after.modify_time >= before.modify_time);
  assert.equal((await edgeGet(host, '/two')).body, '/two v1');
  assert.deepEqual([a.hits('/two').full, b.hits('/two').full], [0, 1], 'fetched from the new origin only');
  assert.equal((await edgeGet(host, '/one')).body, '/one v1', 'what was cached is still served');
  assert.deepEqual([a.hits('/one'), b.hits('/one')], [{ full: 1, notModified: 0 }, { full: 0, notModified: 0 }], 'from cache: neither origin asked');
});

test('who may change origins: unsigned 401, another account and unknown ids/names CDN.0105 (as detail answers), nothing changed', async () => {
  const host = 'mine.origins.test';
  const id = await addDomain(s.call, host, a.port);
  const body = { origin: { sources: [ip(b.port)] } };
  const configs = { configs: { sources: [{ origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, http_port: b.port }] } };

  for (const [path, payload] of [[originPath(id), body], [configsPath(host), configs]] as const) {
    const unsigned = await request(new URL(path, s.server.url), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    const answer = (await unsigned.body.json()) as any;
    assert.equal(unsigned.statusCode, 401);
    assert.equal(answer.error_code, 'APIGW.0301');
    const foreign = await other('PUT', path, { body: payload });
    assertRefused(foreign, 400, 'CDN.0105');
    assert.ok(!foreign.text.includes('127.0.0.1') && !foreign.text.includes('"domain'), foreign.text);
  }
  // The same answer the v1 detail gives another account.
  assertRefused(await other('GET', `/v1.0/cdn/domains/${id}/detail`), 400, 'CDN.0105');
  assertRefused(await s.call('PUT', originPath('0123456789abcdef0123456789abcdef'), { body }), 400, 'CDN.0105');
  assertRefused(await s.call('PUT', configsPath('nobody.origins.test'), { body: configs }), 400, 'CDN.0105');

  const d = await detail(id);
  assert.equal(d.domain_status, 'online');
  assert.deepEqual(d.sources.map((x: any) => x.http_port), [a.port], 'unchanged');
});

test('bad origins are refused in the spec\'s codes, as create refuses them, and change nothing', async () => {
  const host = 'bad.origins.test';
  const id = await addDomain(s.call, host, a.port);
  const was = await detail(id);
  const put = (sources: unknown) => s.call('PUT', originPath(id), { body: { origin: { sources } } });
  const cases: Array<[string, Promise<ApiResponse>, string, RegExp?]> = [
    ['no body', s.call('PUT', originPath(id)), 'CDN.0001'],
    ['no origin', s.call('PUT', originPath(id), { body: { sources: [ip(b.port)] } }), 'CDN.0001'],
    ['not JSON', s.call('PUT', originPath(id), { body: '{"origin":' }), 'CDN.0001'],
    ['sources not a list', put({ ip_or_domain: '127.0.0.1' }), 'CDN.0001'],
    ['port as text', put([{ ...ip(1), http_port: 'eighty' }]), 'CDN.0001'],
    ['empty list', put([]), 'CDN.0103', /at least one origin/],
    ['no address', put([{ origin_type: 'ipaddr', active_standby: 1 }]), 'CDN.0103', /ip_or_domain/],
    ['bad type', put([{ ...ip(b.port), origin_type: 'ftp' }]), 'CDN.0129'],
    ['not an IP', put([{ ...ip(b.port), ip_or_domain: 'origin.example.com' }]), 'CDN.0103', /not an IP address/],
    ['not a name', put([{ ip_or_domain: 'bad_name..test', origin_type: 'domain', active_standby: 1 }]), 'CDN.0103'],
    ['the domain itself', put([{ ip_or_domain: 'BAD.origins.test', origin_type: 'domain', active_standby: 1 }]), 'CDN.0109'],
    ['standbys only', put([ip(b.port, 0)]), 'CDN.0103', /primary/],
    ['active_standby 2', put([ip(b.port, 2)]), 'CDN.0103'],
    ['port 0', put([{ ...ip(1), http_port: 0 }]), 'CDN.0103', /http_port/],
    ['https port too big', put([{ ...ip(b.port), https_port: 65536 }]), 'CDN.0103', /https_port/],
    ['web hosting 2', put([{ ip_or_domain: 'bucket.obs.example.com', origin_type: 'obs_bucket', active_standby: 1, enable_obs_web_hosting: 2 }]), 'CDN.0103'],
    ['cloud metadata', put([{ ...ip(80), ip_or_domain: '169.254.169.254' }]), 'CDN.0121'],
    ['private, not allowed here', put([{ ...ip(80), ip_or_domain: '10.1.2.3' }]), 'CDN.0121'],
    ['too many', put(Array.from({ length: 51 }, () => ip(b.port))), 'CDN.0130'],
  ];
  for (const [what, call, code, msg] of cases) {
    const res = await call;
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assertRefused(res, 400, code, msg);
  }
  const now = await detail(id);
  assert.deepEqual(now, was, 'nothing changed');
});

test('a disabled domain keeps its status and takes the new origins when enabled', async () => {
  const host = 'disabled.origins.test';
  const id = await addDomain(s.call, host, a.port);
  assert.equal((await s.call('PUT', `/v1.0/cdn/domains/${id}/disable`)).status, 200);
  const res = await s.call('PUT', originPath(id), { body: { origin: { sources: [ip(b.port)] } } });
  assert.equal(res.status, 200, res.text);
  const d = await detail(id);
  assert.deepEqual([d.domain_status, d.disabled, d.sources[0].http_port], ['offline', 1, b.port]);
  assert.equal((await edgeGet(host, '/x')).status, 404, 'still not served');
  assert.equal((await s.call('PUT', `/v1.0/cdn/domains/${id}/enable`)).status, 200);
  await waitStatus(id, 'online');
  b.put('/x');
  assert.equal((await edgeGet(host, '/x')).body, '/x v1');
  assert.deepEqual([a.hits('/x').full, b.hits('/x').full], [0, 1]);
});

test('v1.1 full-config update: sources in the v2 shape, answered {} with X-Request-Id; the v2 detail shows them', async () => {
  const host = 'full.origins.test';
  const id = await addDomain(s.call, host, a.port);
  const res = await s.call('PUT', configsPath('Full.Origins.test'), {
    query: [['enterprise_project_id', 'all']],
    body: {
      configs: {
        sources: [
          { origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, weight: 50, http_port: b.port, https_port: 8443, host_name: host },
          { origin_type: 'domain', origin_addr: 'standby.full-backup.test', priority: 30 },
        ],
      },
    },
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, {});
  assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{32}$/);
  await waitStatus(id, 'online');
  const v2 = await s.call('GET', `/v1.0/cdn/configuration/domains/${host}`);
  assert.deepEqual(v2.json.domain.sources, [
    { origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, http_port: b.port, https_port: 8443, host_name: host },
    { origin_type: 'domain', origin_addr: 'standby.full-backup.test', priority: 30, http_port: 80, https_port: 443, host_name: host },
  ]);
  b.put('/v11');
  assert.equal((await edgeGet(host, '/v11')).body, '/v11 v1');
  assert.equal(b.hits('/v11').full, 1);
});

test('v1.1 full-config update: other config keys, host_name, priority and unequal weights are refused, naming the field; nothing changed', async () => {
  const host = 'refused.origins.test';
  const id = await addDomain(s.call, host, a.port);
  const was = await detail(id);
  const src = { origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, http_port: b.port };
  const put = (configs: unknown) => s.call('PUT', configsPath(host), { body: { configs } });
  assertRefused(await put({ sources: [src], cache_rules: [], origin_protocol: 'https' }), 400, 'CDN.0001', /configs\.cache_rules, configs\.origin_protocol: not supported/);
  assertRefused(await put({ business_type: 'download' }), 400, 'CDN.0001', /configs\.business_type/);
  assertRefused(await put({}), 400, 'CDN.0001', /configs\.sources is required/);
  assertRefused(await s.call('PUT', configsPath(host), { body: { sources: [src] } }), 400, 'CDN.0001');
  assertRefused(await put({ sources: [{ ...src, priority: 50 }] }), 400, 'CDN.0103', /priority must be 70/);
  assertRefused(await put({ sources: [{ ...src, host_name: 'other.example.com' }] }), 400, 'CDN.0001', /host_name/);
  assertRefused(await put({ sources: [{ ...src, weight: 0 }] }), 400, 'CDN.0103', /weight/);
  assertRefused(await put({ sources: [{ ...src, weight: 90 }, { ...src, weight: 10 }] }), 400, 'CDN.0001', /different weights/);
  assertRefused(await put({ sources: [{ ...src, obs_web_hosting_status: 'maybe' }] }), 400, 'CDN.0103');
  assertRefused(await put({ sources: [{ ...src, origin_addr: '169.254.169.254' }] }), 400, 'CDN.0121');
  assertRefused(await put({ sources: [{ ...src, origin_type: 'domain', origin_addr: host }] }), 400, 'CDN.0109');
  assert.deepEqual(await detail(id), was, 'nothing changed');
});

test('postgres: the change is stored and pushed, a refusal changes nothing', async (t) => {
  const db = await freshDatabase();
  const pg = await startTestServer({ 'builtin-edges': '1', 'database-url': db.url });
  t.after(async () => {
    await pg.close();
    await db.drop();
  });
  const host = 'pg.origins.test';
  const id = await addDomain(pg.call, host, a.port);
  assertRefused(await pg.call('PUT', originPath(id), { body: { origin: { sources: [ip(b.port, 0)] } } }), 400, 'CDN.0103');
  const res = await pg.call('PUT', originPath(id), { body: { origin: { sources: [ip(b.port)] } } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.origin.sources[0].http_port, b.port);
  for (let i = 0; ; i++) {
    const d = (await pg.call('GET', `/v1.0/cdn/domains/${id}/detail`)).json.domain;
    if (d.domain_status === 'online') {
      assert.equal(d.sources[0].http_port, b.port);
      break;
    }
    assert.ok(i < 500, JSON.stringify(d));
    await new Promise((r) => setTimeout(r, 20));
  }
  b.put('/pg');
  const got = await request(pg.server.edges[0].trafficUrl + '/pg', { headers: { host } });
  assert.equal(await got.body.text(), '/pg v1');
});
