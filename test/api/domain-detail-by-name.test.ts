// v2 ShowDomainDetailByName (huawei-cdn-api.md §11.3): the DomainsDetail shape, and who may read it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestServer, addDomain, waitDomainOnline, type TestServer } from '../support/test-server.js';
import { client, type ApiResponse, type Call } from '../support/signed-client.js';

let s: TestServer;
let other: Call;
before(async () => {
  s = await startTestServer({ 'builtin-edges': '1' });
  const res = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'someone-else' } });
  assert.equal(res.status, 200, res.text);
  other = client(s.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key });
});
after(async () => {
  await s?.close();
});

const createDomain = (call: Call, name: string, sources: unknown[]) => call('POST', '/v1.0/cdn/domains', { body: { domain: { domain_name: name, business_type: 'web', sources } } });

function assertRefused(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.error_code, code, res.text);
}

test('v2 detail by name: the DomainsDetail shape, origins with priority 70/30 and their ports', async () => {
  const made = await createDomain(s.call, 'v2.answers.test', [
    { ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: 8080, https_port: 8443 },
    { ip_or_domain: 'backup.example.net', origin_type: 'domain', active_standby: 0, http_port: 8081 },
  ]);
  assert.equal(made.status, 200, made.text);
  // Settled first: v2 and v1 are read one after the other, and the edges' apply would change both between.
  await waitDomainOnline(s.call, 'v2.answers.test');
  const res = await s.call('GET', '/v1.0/cdn/configuration/domains/V2.Answers.test', { query: [['enterprise_project_id', 'all']] });
  assert.equal(res.status, 200, res.text);
  const d = res.json.domain;
  assert.deepEqual(Object.keys(d), ['id', 'domain_name', 'business_type', 'domain_status', 'cname', 'sources', 'https_status', 'create_time', 'update_time', 'disabled', 'locked', 'service_area']);
  assert.equal(d.id, made.json.domain.id);
  assert.equal(d.domain_name, 'v2.answers.test');
  assert.equal(d.business_type, 'web');
  assert.equal(d.service_area, 'mainland_china');
  assert.equal(d.disabled, 0);
  const v1 = await s.call('GET', `/v1.0/cdn/domains/${d.id}/detail`);
  assert.deepEqual([d.create_time, d.update_time, d.domain_status, d.cname], [v1.json.domain.create_time, v1.json.domain.modify_time, v1.json.domain.domain_status, v1.json.domain.cname]);
  assert.deepEqual(d.sources, [
    { origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, http_port: 8080, https_port: 8443, host_name: 'v2.answers.test' },
    { origin_type: 'domain', origin_addr: 'backup.example.net', priority: 30, http_port: 8081, https_port: 443, host_name: 'v2.answers.test' },
  ]);

  await s.call('PUT', `/v1.0/cdn/domains/${d.id}/disable`);
  const disabled = await s.call('GET', '/v1.0/cdn/configuration/domains/v2.answers.test');
  assert.deepEqual([disabled.json.domain.domain_status, disabled.json.domain.disabled], ['offline', 1]);
});

test('v2 detail by name: unsigned is refused 401; an unknown name or another account\'s domain is CDN.0105, as by id', async () => {
  await addDomain(s.call, 'mine.answers.test', 8080);
  const path = '/v1.0/cdn/configuration/domains/mine.answers.test';
  const unsigned = await request(new URL(path, s.server.url));
  const body = (await unsigned.body.json()) as any;
  assert.equal(unsigned.statusCode, 401);
  assert.equal(body.error_code, 'APIGW.0301');
  assert.ok(!JSON.stringify(body).includes('mine.answers.test'), 'nothing about the domain is told');

  const foreign = await other('GET', path);
  assertRefused(foreign, 400, 'CDN.0105');
  assert.ok(!foreign.text.includes('"domain":'), foreign.text);
  assertRefused(await s.call('GET', '/v1.0/cdn/configuration/domains/nobody.answers.test'), 400, 'CDN.0105');
  // The same answer the v1 detail gives for an id that is not the caller's.
  const id = (await s.call('GET', '/v1.0/cdn/domains', { query: [['domain_name', 'mine.answers.test'], ['exact_match', 'true']] })).json.domains[0].id;
  assertRefused(await other('GET', `/v1.0/cdn/domains/${id}/detail`), 400, 'CDN.0105');
  // A valid name may be 200 characters long (§11.1); the path takes it.
  const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(59)}.answers.test`;
  assert.equal(longest.length, 200);
  assertRefused(await s.call('GET', `/v1.0/cdn/configuration/domains/${longest}`), 400, 'CDN.0105');
  assert.equal((await s.call('GET', `/v1.0/cdn/configuration/domains/${'a'.repeat(256)}`)).status, 400);
});
