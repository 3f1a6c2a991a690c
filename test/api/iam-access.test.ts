// Who may call the identity management routes (users, groups, policies, projects, keys, domain move):
// an account's administrators, and nobody else. A user with only CDN RefreshAndPreheatAccess is refused
// with CDN.0021, another tenant finds none of the account's objects (CDN.0003) and may not name the
// account (CDN.0004), an unsigned call is 401; each refusal leaves the account's identity as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { addTenant, addUser, domainBody, identitySnapshot, unsigned, type SubUser, type Tenant } from '../support/iam-fixture.js';

let ts: TestServer;
let acme: Tenant;
let other: Tenant;
let purger: SubUser;
let project: string;
let opsKey: string;

const DOMAIN = 'www.acme-iam-access.test';

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '1' });
  acme = await addTenant(ts, 'acme');
  other = await addTenant(ts, 'other');
  purger = await addUser(ts, acme.call, 'purger', ['CDN RefreshAndPreheatAccess']);
  const ops = await addUser(ts, acme.call, 'ops', ['CDN ReadOnlyAccess']);
  opsKey = ops.accessKey;
  const made = [
    await acme.call('POST', '/cachectl/v1/policies', { body: { name: 'purge-static', policy: { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:configuration:refreshCache'] }] } } }),
    await acme.call('POST', '/cachectl/v1/projects', { body: { name: 'shop' } }),
    await acme.call('POST', '/v1.0/cdn/domains', { body: domainBody(DOMAIN) }),
  ];
  for (const m of made) assert.equal(m.status, 200, m.text);
  project = made[1].json.project.id;
});
after(async () => ts?.close());

interface Route {
  method: string;
  path: string;
  body?: unknown;
  /** The route names one of the account's objects: another tenant gets 404. */
  named: boolean;
}

const routes = (): Route[] => [
  { method: 'GET', path: '/cachectl/v1/users', named: false },
  { method: 'POST', path: '/cachectl/v1/users', body: { name: 'intruder' }, named: false },
  { method: 'GET', path: '/cachectl/v1/users/ops', named: true },
  { method: 'PUT', path: '/cachectl/v1/users/ops', body: { enabled: false }, named: true },
  { method: 'DELETE', path: '/cachectl/v1/users/ops', named: true },
  { method: 'GET', path: '/cachectl/v1/groups', named: false },
  { method: 'POST', path: '/cachectl/v1/groups', body: { name: 'intruders' }, named: false },
  { method: 'GET', path: '/cachectl/v1/groups/ops-group', named: true },
  { method: 'PUT', path: '/cachectl/v1/groups/ops-group', body: { description: 'changed' }, named: true },
  { method: 'DELETE', path: '/cachectl/v1/groups/ops-group', named: true },
  { method: 'PUT', path: '/cachectl/v1/groups/admin/members/purger', named: true },
  { method: 'DELETE', path: '/cachectl/v1/groups/ops-group/members/ops', named: true },
  { method: 'GET', path: '/cachectl/v1/groups/ops-group/policies', named: true },
  { method: 'POST', path: '/cachectl/v1/groups/purger-group/policies', body: { policy: 'CDN Administrator' }, named: true },
  { method: 'DELETE', path: `/cachectl/v1/groups/ops-group/policies/${encodeURIComponent('CDN ReadOnlyAccess')}`, named: true },
  { method: 'GET', path: '/cachectl/v1/policies', named: false },
  { method: 'POST', path: '/cachectl/v1/policies', body: { name: 'all', policy: { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'] }] } }, named: false },
  { method: 'GET', path: '/cachectl/v1/policies/purge-static', named: true },
  { method: 'PUT', path: '/cachectl/v1/policies/purge-static', body: { policy: { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'] }] } }, named: true },
  { method: 'DELETE', path: '/cachectl/v1/policies/purge-static', named: true },
  { method: 'GET', path: '/cachectl/v1/projects', named: false },
  { method: 'POST', path: '/cachectl/v1/projects', body: { name: 'sneaky' }, named: false },
  { method: 'DELETE', path: `/cachectl/v1/projects/${project}`, named: true },
  { method: 'PUT', path: `/cachectl/v1/domains/${DOMAIN}/project`, body: { enterprise_project_id: project }, named: true },
  { method: 'GET', path: '/cachectl/v1/keys', named: false },
  { method: 'POST', path: '/cachectl/v1/keys', body: { user: 'purger' }, named: false },
  { method: 'PUT', path: `/cachectl/v1/keys/${opsKey}`, body: { enabled: false }, named: true },
  { method: 'DELETE', path: `/cachectl/v1/keys/${opsKey}`, named: true },
];

test('a user with only CDN RefreshAndPreheatAccess is refused every route with CDN.0021; nothing changes', async () => {
  const before = await identitySnapshot(acme.call);
  for (const r of routes()) {
    const res = await purger.call(r.method, r.path, { body: r.body });
    assert.equal(res.status, 403, `${r.method} ${r.path}: ${res.text}`);
    assert.equal(res.json.error_code, 'CDN.0021', `${r.method} ${r.path}`);
    assert.match(res.json.error_msg, /cachectl:\w+:\w+/, 'the refusal names the action');
  }
  assert.equal(await identitySnapshot(acme.call), before);
});

test("another tenant finds none of the account's objects, and may not name the account; nothing changes", async () => {
  const before = await identitySnapshot(acme.call);
  for (const r of routes()) {
    const named = await other.call(r.method, r.path, { body: r.body, query: [['account', 'acme']] });
    assert.equal(named.status, 403, `${r.method} ${r.path}?account=acme: ${named.text}`);
    assert.equal(named.json.error_code, 'CDN.0004');
    if (!r.named) continue;
    const res = await other.call(r.method, r.path, { body: r.body });
    assert.equal(res.status, 404, `${r.method} ${r.path}: ${res.text}`);
    assert.equal(res.json.error_code, 'CDN.0003');
  }
  // Its own listings show its own objects only.
  const users = await other.call('GET', '/cachectl/v1/users');
  assert.deepEqual(users.json.users.map((u: any) => u.name), ['admin']);
  const keys = await other.call('GET', '/cachectl/v1/keys');
  assert.deepEqual(keys.json.keys.map((k: any) => k.account), ['other']);
  const policies = await other.call('GET', '/cachectl/v1/policies');
  assert.deepEqual(policies.json.policies.filter((p: any) => p.type === 'custom'), []);
  assert.equal(await identitySnapshot(acme.call), before);
});

test('an unsigned call is refused with 401 on every route; nothing changes', async () => {
  const before = await identitySnapshot(acme.call);
  for (const r of routes()) {
    const res = await unsigned(ts, r.method, r.path, r.body);
    assert.equal(res.status, 401, `${r.method} ${r.path}`);
    assert.equal(res.code, 'APIGW.0301');
  }
  assert.equal(await identitySnapshot(acme.call), before);
});

test('the platform admin acts on another account with ?account=; an unknown one is 404', async () => {
  const users = await ts.call('GET', '/cachectl/v1/users', { query: [['account', 'acme']] });
  assert.equal(users.status, 200, users.text);
  assert.deepEqual(users.json.users.map((u: any) => u.name).sort(), ['admin', 'ops', 'purger']);
  const own = await ts.call('GET', '/cachectl/v1/users');
  assert.deepEqual(own.json.users.map((u: any) => u.name), ['admin']);
  const unknown = await ts.call('GET', '/cachectl/v1/users', { query: [['account', 'nobody']] });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error_code, 'CDN.0003');
});

test('a delegated identity manager (cachectl Administrator) manages users, but may not make or act as an administrator (CDN.0004); nothing changes', async () => {
  const manager = await addUser(ts, acme.call, 'manager', ['cachectl Administrator']);
  // What the delegation is for: a user of its own, with a key.
  const made = await manager.call('POST', '/cachectl/v1/users', { body: { name: 'helper', password: 'helper-password-1' } });
  assert.equal(made.status, 200, made.text);
  const helperKey = await manager.call('POST', '/cachectl/v1/keys', { body: { user: 'helper' } });
  assert.equal(helperKey.status, 200, helperKey.text);
  const adminKey = (await acme.call('GET', '/cachectl/v1/keys', { query: [['user', 'admin']] })).json.keys[0].access_key as string;

  const before = await identitySnapshot(acme.call);
  const attempts: Array<[string, string, unknown?]> = [
    ['PUT', '/cachectl/v1/groups/admin/members/manager'],
    ['POST', '/cachectl/v1/users', { name: 'sneaky', groups: ['admin'] }],
    ['PUT', '/cachectl/v1/users/admin', { password: 'taken-over-password' }],
    ['PUT', '/cachectl/v1/users/admin', { enabled: false }],
    ['DELETE', '/cachectl/v1/users/admin'],
    ['POST', '/cachectl/v1/keys', { user: 'admin' }],
    ['PUT', `/cachectl/v1/keys/${adminKey}`, { enabled: false }],
    ['DELETE', `/cachectl/v1/keys/${adminKey}`],
    ['POST', '/cachectl/v1/groups/admin/policies', { policy: 'CDN ReadOnlyAccess' }],
    ['DELETE', `/cachectl/v1/groups/admin/policies/${encodeURIComponent('CDN Administrator')}`],
  ];
  for (const [method, path, body] of attempts) {
    const res = await manager.call(method, path, body === undefined ? {} : { body });
    assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
    assert.equal(res.json.error_code, 'CDN.0004', `${method} ${path}`);
  }
  assert.equal(await identitySnapshot(acme.call), before);
});
