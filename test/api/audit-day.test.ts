// The scripted day: 50 calls of a dozen kinds by three users of one account (an administrator, a CI
// user with CDN RefreshAndPreheatAccess, a viewer with CDN ReadOnlyAccess), some refused, leave exactly
// the expected audit rows: one per change, failed change call and login; none for reads; no secret.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestServer, waitDomainOnline } from '../support/test-server.js';
import { client, type ApiResponse } from '../support/signed-client.js';
import { startOrigin } from '../support/origin.js';
import { addUser, iamStoreOf, type TestUser } from '../support/iam-fixtures.js';
import { auditRows } from '../support/audit-rows.js';

const s = await startTestServer();
const origin = await startOrigin();
after(async () => {
  await s.close();
  await origin.close();
});

interface Expected {
  action: string;
  resource: string;
  user: string;
  status: number;
  error_code: string | null;
}

test('a day of calls by three users leaves exactly the expected audit rows, and no secret', async () => {
  const ops = await addUser(iamStoreOf(s), s.accountId, { name: 'ops', groups: ['admin'] });
  const ci = await addUser(iamStoreOf(s), s.accountId, { name: 'ci', policies: ['CDN RefreshAndPreheatAccess'] });
  const viewer = await addUser(iamStoreOf(s), s.accountId, { name: 'viewer', policies: ['CDN ReadOnlyAccess'] });
  const as = (u: TestUser) => client(s.server.url, { accessKey: u.accessKey, secretKey: u.secretKey });
  const api = { ops: as(ops), ci: as(ci), viewer: as(viewer) };
  const expected: Expected[] = [];
  const tokens: string[] = [];
  let calls = 0;

  /** One call: its status as expected, and the audit row it must leave (none for `row` null). */
  const step = async (res: ApiResponse, status: number, row: Omit<Expected, 'status' | 'error_code'> | null, code?: string): Promise<ApiResponse> => {
    calls++;
    assert.equal(res.status, status, `call ${calls}: ${res.text}`);
    if (status >= 400 && code !== undefined) assert.equal(res.json?.error_code, code, `call ${calls}`);
    if (row) expected.push({ ...row, status, error_code: status >= 400 ? String(res.json.error_code) : null });
    return res;
  };
  const login = async (user: string, password: string) => {
    const body = { auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: 'admin' } } } }, scope: { domain: { name: 'admin' } } } };
    const res = await request(`${s.server.url}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.body.text();
    const token = res.headers['x-subject-token'];
    if (typeof token === 'string') tokens.push(token);
    return { status: res.statusCode, headers: res.headers, text, json: JSON.parse(text) } as ApiResponse;
  };
  const loginRow = (user: string) => ({ action: 'iam:tokens:create', resource: `user/${user}`, user });
  const row = (action: string, resource: string, user: TestUser) => ({ action, resource, user: user.name });
  const cdn = (verb: string) => `cdn:configuration:${verb}`;
  const source = { ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port };
  const domainBody = (name: string) => ({ domain: { domain_name: name, business_type: 'web', sources: [source] } });
  const refresh = (urls: string[], type = 'file') => ({ body: { refresh_task: { type, urls } } });
  const preheat = (urls: string[]) => ({ body: { preheating_task: { urls } } });
  const REFUSED = 'CDN.0021';

  // Logins: two issued, a wrong password, an unknown user.
  await step(await login('ops', ops.password), 201, loginRow('ops'));
  await step(await login('ci', 'not-the-password'), 401, loginRow('ci'), 'APIGW.0301');
  await step(await login('viewer', viewer.password), 201, loginRow('viewer'));
  await step(await login('ghost', 'whatever-it-is'), 401, loginRow('ghost'), 'APIGW.0301');

  // Domains: three created, two refused by policy, one that exists.
  const ids: Record<string, string> = {};
  for (const n of ['d1', 'd2', 'd3']) {
    const res = await step(await api.ops('POST', '/v1.0/cdn/domains', { body: domainBody(`${n}.day.test`) }), 200, row(cdn('createDomains'), `domain/${n}.day.test`, ops));
    ids[n] = res.json.domain.id;
  }
  await step(await api.viewer('POST', '/v1.0/cdn/domains', { body: domainBody('d4.day.test') }), 403, row(cdn('createDomains'), 'domain/d4.day.test', viewer), REFUSED);
  await step(await api.ci('POST', '/v1.0/cdn/domains', { body: domainBody('d4.day.test') }), 403, row(cdn('createDomains'), 'domain/d4.day.test', ci), REFUSED);
  await step(await api.ops('POST', '/v1.0/cdn/domains', { body: domainBody('d1.day.test') }), 400, row(cdn('createDomains'), 'domain/d1.day.test', ops));
  for (const n of ['d1', 'd2', 'd3']) await waitDomainOnline(api.ops, `${n}.day.test`);

  // Tasks: refreshes and prefetches by the CI user and the administrator; the viewer is refused; a
  // URL of no domain of the account fails.
  const task = async (who: TestUser, kind: 'refresh' | 'preheat', urls: string[], type?: string) => {
    const res = await step(
      await api[who.name as 'ops'](
        'POST',
        kind === 'refresh' ? '/v1.0/cdn/content/refresh-tasks' : '/v1.0/cdn/content/preheating-tasks',
        kind === 'refresh' ? refresh(urls, type) : preheat(urls),
      ),
      200,
      null,
    );
    const id = String(kind === 'refresh' ? res.json.refresh_task : res.json.preheating_task);
    expected.push({ ...row(cdn(kind === 'refresh' ? 'refreshCache' : 'preheatCache'), `task/${id}`, who), status: 200, error_code: null });
    return id;
  };
  const t1 = await task(ci, 'refresh', ['http://d1.day.test/a']);
  await task(ci, 'refresh', ['http://d2.day.test/b', 'http://d2.day.test/c']);
  await task(ops, 'refresh', ['http://d3.day.test/dir/'], 'directory');
  await step(await api.viewer('POST', '/v1.0/cdn/content/refresh-tasks', refresh(['http://d1.day.test/a'])), 403, row(cdn('refreshCache'), 'task/', viewer), REFUSED);
  await step(await api.ci('POST', '/v1.0/cdn/content/refresh-tasks', refresh(['http://elsewhere.example.com/x'])), 400, row(cdn('refreshCache'), 'task/', ci));
  await task(ci, 'preheat', ['http://d1.day.test/p.txt']);
  await step(await api.viewer('POST', '/v1.0/cdn/content/preheating-tasks', preheat(['http://d1.day.test/p.txt'])), 403, row(cdn('preheatCache'), 'task/', viewer), REFUSED);

  // Reads: none recorded, allowed or refused.
  await step(await api.viewer('GET', '/v1.0/cdn/domains'), 200, null);
  await step(await api.viewer('GET', '/v1.0/cdn/historytasks'), 200, null);
  await step(await api.ci('GET', '/v1.0/cdn/historytasks'), 200, null);
  await step(await api.ci('GET', '/v1.0/cdn/domains'), 403, null, REFUSED);
  await step(await api.viewer('GET', `/cachectl/v1/tasks/${t1}`), 200, null);

  // Disable, enable, origins, the prefetch timeout, delete: the administrator's go through, the
  // others' are refused; a call the domain's state forbids fails. Failed v1 calls name the domain by id.
  const byId = (n: string) => `domain/${ids[n]}`;
  await step(await api.ops('PUT', `/v1.0/cdn/domains/${ids.d1}/disable`), 200, row(cdn('disableDomains'), 'domain/d1.day.test', ops));
  await step(await api.ci('PUT', `/v1.0/cdn/domains/${ids.d2}/disable`), 403, row(cdn('disableDomains'), byId('d2'), ci), REFUSED);
  await step(await api.ops('PUT', `/v1.0/cdn/domains/${ids.d2}/disable`), 200, row(cdn('disableDomains'), 'domain/d2.day.test', ops));
  await step(await api.viewer('PUT', `/v1.0/cdn/domains/${ids.d3}/disable`), 403, row(cdn('disableDomains'), byId('d3'), viewer), REFUSED);
  await step(await api.ops('PUT', `/v1.0/cdn/domains/${ids.d1}/enable`), 200, row(cdn('enableDomains'), 'domain/d1.day.test', ops));
  await step(await api.ops('PUT', `/v1.0/cdn/domains/${ids.d3}/enable`), 400, row(cdn('enableDomains'), byId('d3'), ops));
  await step(await api.ci('PUT', `/v1.0/cdn/domains/${ids.d2}/enable`), 403, row(cdn('enableDomains'), byId('d2'), ci), REFUSED);
  await step(await api.ops('PUT', `/v1.0/cdn/domains/${ids.d1}/origin`, { body: { origin: { sources: [source] } } }), 200, row(cdn('modifyOriginServerInfo'), 'domain/d1.day.test', ops));
  await step(await api.ci('PUT', `/v1.0/cdn/domains/${ids.d1}/origin`, { body: { origin: { sources: [source] } } }), 403, row(cdn('modifyOriginServerInfo'), byId('d1'), ci), REFUSED);
  const configs = { configs: { sources: [{ origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, http_port: origin.port }] } };
  await step(await api.ops('PUT', '/v1.1/cdn/configuration/domains/d3.day.test/configs', { body: configs }), 200, row(cdn('modifyOriginServerInfo'), 'domain/d3.day.test', ops));
  await step(await api.viewer('PUT', '/v1.1/cdn/configuration/domains/d3.day.test/configs', { body: configs }), 403, row(cdn('modifyOriginServerInfo'), 'domain/d3.day.test', viewer), REFUSED);
  const timeoutPath = '/cachectl/v1/domains/d3.day.test/prefetch-timeout';
  await step(await api.ops('PUT', timeoutPath, { body: { prefetch_timeout_ms: 60_000 } }), 200, row(cdn('modifyOriginConfInfo'), 'domain/d3.day.test', ops));
  await step(await api.viewer('PUT', timeoutPath, { body: { prefetch_timeout_ms: 60_000 } }), 403, row(cdn('modifyOriginConfInfo'), 'domain/d3.day.test', viewer), REFUSED);
  await step(await api.ops('PUT', timeoutPath, { body: { prefetch_timeout_ms: 5 } }), 400, row(cdn('modifyOriginConfInfo'), 'domain/d3.day.test', ops), 'CDN.0001');
  await step(await api.ops('DELETE', `/v1.0/cdn/domains/${ids.d2}`), 200, row(cdn('deleteDomains'), 'domain/d2.day.test', ops));
  await step(await api.ops('DELETE', `/v1.0/cdn/domains/${ids.d3}`), 400, row(cdn('deleteDomains'), byId('d3'), ops));
  await step(await api.viewer('DELETE', `/v1.0/cdn/domains/${ids.d1}`), 403, row(cdn('deleteDomains'), byId('d1'), viewer), REFUSED);

  // More tasks and a second login of the CI user.
  await task(ops, 'preheat', ['http://d3.day.test/q.txt']);
  await task(ci, 'refresh', ['http://d1.day.test/later']);
  await step(await login('ci', ci.password), 201, loginRow('ci'));

  // Edge nodes (the account is the platform's): the administrator adds, checks and removes one.
  const node = { name: 'n1', driver: 'builtin', traffic_url: 'http://127.0.0.1:9/', control_url: 'http://127.0.0.1:9/' };
  await step(await api.ops('POST', '/cachectl/v1/nodes', { body: node }), 200, row('cachectl:nodes:add', 'node/n1', ops));
  await step(await api.viewer('POST', '/cachectl/v1/nodes', { body: { ...node, name: 'n2' } }), 403, row('cachectl:nodes:add', 'node/n2', viewer), REFUSED);
  await step(await api.ops('POST', '/cachectl/v1/nodes/n1/check'), 200, row('cachectl:nodes:check', 'node/n1', ops));
  await step(await api.ci('POST', '/cachectl/v1/nodes/n1/check'), 403, row('cachectl:nodes:check', 'node/n1', ci), REFUSED);
  await step(await api.ops('DELETE', '/cachectl/v1/nodes/n1'), 200, row('cachectl:nodes:remove', 'node/n1', ops));
  await step(await api.ops('DELETE', '/cachectl/v1/nodes/n1'), 404, row('cachectl:nodes:remove', 'node/n1', ops), 'CDN.0003');

  // Reading the trail is a read: not on it.
  await step(await api.ops('GET', '/cachectl/v1/audit'), 200, null);
  await step(await api.viewer('GET', '/cachectl/v1/audit'), 403, null, REFUSED);
  assert.equal(calls, 50);

  const rows = await auditRows(s.server);
  assert.deepEqual(
    rows.map((r) => ({ action: r.action, resource: r.resource, user: r.user_name, status: Number(r.status), error_code: r.error_code })),
    expected,
  );
  assert.equal(rows.length, 43);
  const users: Record<string, TestUser | undefined> = { ops, ci, viewer };
  for (const r of rows) {
    assert.equal(r.account_id, s.accountId, JSON.stringify(r));
    assert.equal(r.user_id, users[r.user_name ?? '']?.id ?? null, JSON.stringify(r));
    // A signed call names its key; a login none.
    assert.equal(r.access_key, r.action === 'iam:tokens:create' ? null : users[r.user_name!]!.accessKey, JSON.stringify(r));
    assert.ok(r.request_id.length === 32 && r.source_ip === '127.0.0.1', JSON.stringify(r));
  }
  const table = JSON.stringify(rows);
  for (const secret of [ops.secretKey, ci.secretKey, viewer.secretKey, ops.password, ci.password, viewer.password, 'not-the-password', 'whatever-it-is', ...tokens]) {
    assert.ok(!table.includes(secret), 'a secret is in the audit table');
  }
  assert.equal(tokens.length, 3);
});
