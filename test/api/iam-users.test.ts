// IAM users (cachectl's own API): add with groups, list, show, change, delete; tokens and keys revoked at
// once when a user is disabled, its password changed or it is deleted; the admin group's safeguards; the
// audit row of each change, written with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client } from '../support/signed-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { addTenant, addUser, login, withToken, type Tenant } from '../support/iam-fixture.js';

let ts: TestServer;
let acme: Tenant;

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '1' });
  acme = await addTenant(ts, 'acme-users');
  assert.equal((await acme.call('POST', '/cachectl/v1/groups', { body: { name: 'purgers' } })).status, 200);
});
after(async () => ts?.close());

const auditOf = (resource: string) =>
  ts.server.store.db.selectFrom('audit_events').select(['action', 'resource', 'user_name', 'access_key', 'status', 'account_id']).where('resource', '=', resource).orderBy('id').execute();

test('users: add (a generated password shown once, or the given one), list, show, change, delete', async () => {
  const made = await acme.call('POST', '/cachectl/v1/users', { body: { name: 'ops', groups: ['purgers'], description: 'operations' } });
  assert.equal(made.status, 200, made.text);
  assert.deepEqual({ ...made.json.user, id: undefined, created_at: undefined }, { id: undefined, name: 'ops', description: 'operations', enabled: true, groups: ['purgers'], created_at: undefined });
  assert.equal(typeof made.json.password, 'string');
  assert.ok(made.json.password.length >= 16);
  // The generated password signs in.
  assert.equal((await login(ts, 'acme-users', 'ops', made.json.password)).status, 201);

  const given = await acme.call('POST', '/cachectl/v1/users', { body: { name: 'dev', password: 'dev-password-1', enabled: false } });
  assert.equal(given.status, 200, given.text);
  assert.equal(given.json.password, undefined, 'a given password is not echoed');
  assert.equal(given.json.user.enabled, false);
  assert.equal((await login(ts, 'acme-users', 'dev', 'dev-password-1')).status, 401, 'a disabled user cannot sign in');

  const list = await acme.call('GET', '/cachectl/v1/users');
  assert.deepEqual(list.json.users.map((u: any) => [u.name, u.enabled, u.groups]), [
    ['admin', true, ['admin']],
    ['ops', true, ['purgers']],
    ['dev', false, []],
  ]);
  assert.ok(!list.text.includes('password'), 'no password or hash in a listing');

  const changed = await acme.call('PUT', '/cachectl/v1/users/dev', { body: { enabled: true, description: 'developer' } });
  assert.equal(changed.status, 200, changed.text);
  assert.deepEqual([changed.json.user.enabled, changed.json.user.description], [true, 'developer']);
  assert.equal((await login(ts, 'acme-users', 'dev', 'dev-password-1')).status, 201);
  const shown = await acme.call('GET', '/cachectl/v1/users/dev');
  assert.equal(shown.json.user.description, 'developer');

  const gone = await acme.call('DELETE', '/cachectl/v1/users/dev');
  assert.deepEqual(gone.json, { deleted: 'dev', access_keys: [] });
  assert.equal((await acme.call('GET', '/cachectl/v1/users/dev')).status, 404);

  // Each change has its audit row, by the account's administrator, with the key it signed with; the
  // user's own sign-ins (refused while disabled, then issued) are recorded between them.
  const rows = await auditOf('user/dev');
  assert.deepEqual(
    rows.map((r) => [r.action, r.user_name, r.status, r.account_id]),
    [
      ['cachectl:users:create', 'admin', 200, acme.id],
      ['iam:tokens:create', 'dev', 401, acme.id],
      ['cachectl:users:update', 'admin', 200, acme.id],
      ['iam:tokens:create', 'dev', 201, acme.id],
      ['cachectl:users:delete', 'admin', 200, acme.id],
    ],
  );
  assert.match(rows[0].access_key ?? '', /^[A-Z0-9]{20}$/);
});

test('bad input is refused with CDN.0001 naming it, and creates nothing', async () => {
  const before = (await acme.call('GET', '/cachectl/v1/users')).json.users.length;
  for (const [body, pattern] of [
    [{ name: 'ops' }, /user 'ops' exists/],
    [{ name: 'bad name' }, /user name 'bad name'/],
    [{ name: 'shorty', password: 'short' }, /at least 8 characters/],
    [{ name: 'lonely', groups: ['purgers', 'nosuch'] }, /no group 'nosuch'/],
  ] as const) {
    const res = await acme.call('POST', '/cachectl/v1/users', { body });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error_code, 'CDN.0001');
    assert.match(res.json.error_msg, pattern);
  }
  const typo = await acme.call('POST', '/cachectl/v1/users', { body: { name: 'typo', group: ['purgers'] } });
  assert.equal(typo.status, 400, 'an unknown field is refused');
  assert.equal((await acme.call('GET', '/cachectl/v1/users')).json.users.length, before);
  assert.equal((await acme.call('PUT', '/cachectl/v1/users/nosuch', { body: { enabled: false } })).status, 404);
  assert.equal((await acme.call('DELETE', '/cachectl/v1/users/nosuch')).status, 404);
});

test("disabling a user, changing its password or deleting it revokes its tokens at once; a disabled user's keys are refused", async () => {
  const op = await addUser(ts, acme.call, 'operator', ['CDN ReadOnlyAccess']);
  const quota = async (t: string) => (await withToken(ts, t)('GET', '/v1.0/cdn/quota')).status;

  const first = await login(ts, 'acme-users', 'operator', op.password);
  assert.equal(await quota(first.token!), 200);
  assert.equal((await op.call('GET', '/v1.0/cdn/quota')).status, 200);
  assert.equal((await acme.call('PUT', '/cachectl/v1/users/operator', { body: { enabled: false } })).status, 200);
  assert.equal(await quota(first.token!), 401, 'the token is refused on the next call');
  assert.equal((await op.call('GET', '/v1.0/cdn/quota')).status, 401, "the user's key too");
  assert.equal((await acme.call('PUT', '/cachectl/v1/users/operator', { body: { enabled: true } })).status, 200);
  assert.equal(await quota(first.token!), 401, 'enabling again does not bring a revoked token back');
  assert.equal((await op.call('GET', '/v1.0/cdn/quota')).status, 200, 'the key works again');

  const second = await login(ts, 'acme-users', 'operator', op.password);
  assert.equal(await quota(second.token!), 200);
  assert.equal((await acme.call('PUT', '/cachectl/v1/users/operator', { body: { password: 'a-new-password-2' } })).status, 200);
  assert.equal(await quota(second.token!), 401, 'a password change revokes the tokens');
  assert.equal((await login(ts, 'acme-users', 'operator', op.password)).status, 401);
  const third = await login(ts, 'acme-users', 'operator', 'a-new-password-2');
  assert.equal(await quota(third.token!), 200);

  const deleted = await acme.call('DELETE', '/cachectl/v1/users/operator');
  assert.deepEqual(deleted.json.access_keys, [op.accessKey]);
  assert.equal(await quota(third.token!), 401, 'deleting the user revokes its tokens');
  assert.equal((await op.call('GET', '/v1.0/cdn/quota')).status, 401, 'and its keys');
  assert.equal((await acme.call('GET', '/cachectl/v1/keys', { query: [['user', 'operator']] })).status, 404);
});

test('the admin group keeps an enabled member, is neither renamed nor deleted, and a user cannot delete itself', async () => {
  const refused = async (method: string, path: string, body: unknown, pattern: RegExp, as = acme.call) => {
    const res = await as(method, path, { body });
    assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
    assert.equal(res.json.error_code, 'CDN.0004');
    assert.match(res.json.error_msg, pattern);
  };
  await refused('PUT', '/cachectl/v1/users/admin', { enabled: false }, /'admin' group must keep an enabled member/);
  await refused('DELETE', '/cachectl/v1/groups/admin/members/admin', undefined, /'admin' group must keep an enabled member/);
  await refused('DELETE', '/cachectl/v1/users/admin', undefined, /cannot delete itself/);
  await refused('DELETE', '/cachectl/v1/groups/admin', undefined, /cannot be deleted/);
  await refused('PUT', '/cachectl/v1/groups/admin', { name: 'admins' }, /cannot be renamed/);

  // A second administrator, disabled: still the last enabled one.
  const second = await acme.call('POST', '/cachectl/v1/users', { body: { name: 'second', password: 'second-password', groups: ['admin'] } });
  assert.equal(second.status, 200, second.text);
  const secondKey = await acme.call('POST', '/cachectl/v1/keys', { body: { user: 'second' } });
  const asSecond = client(ts.server.url, { accessKey: secondKey.json.access_key, secretKey: secondKey.json.secret_key });
  assert.equal((await acme.call('PUT', '/cachectl/v1/users/second', { body: { enabled: false } })).status, 200);
  await refused('DELETE', '/cachectl/v1/groups/admin/members/admin', undefined, /must keep an enabled member/);
  assert.equal((await acme.call('PUT', '/cachectl/v1/users/second', { body: { enabled: true } })).status, 200);
  // Now the first may leave, and the second may delete it; the second is then the last.
  assert.equal((await acme.call('DELETE', '/cachectl/v1/groups/admin/members/admin')).status, 200);
  assert.equal((await asSecond('PUT', '/cachectl/v1/groups/admin/members/admin')).status, 200);
  assert.equal((await asSecond('DELETE', '/cachectl/v1/users/admin')).status, 200);
  await refused('PUT', '/cachectl/v1/users/second', { enabled: false }, /must keep an enabled member/, asSecond);
  const admins = await asSecond('GET', '/cachectl/v1/groups/admin');
  assert.deepEqual(admins.json.group.members, ['second']);
});
