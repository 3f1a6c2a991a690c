// Enterprise projects and access keys (cachectl's own API): projects listed with the default '0', added
// with a UUID, deleted only when empty; a domain moved between projects; keys per user (at most 2),
// disabled and enabled, expiring, their last use shown and their secret never; an account removed with
// everything it held.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client } from '../support/signed-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { addTenant, addUser, domainBody, type Tenant } from '../support/iam-fixture.js';

let ts: TestServer;
let acme: Tenant;
let other: Tenant;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '1' });
  acme = await addTenant(ts, 'acme-keys');
  other = await addTenant(ts, 'other-keys');
});
after(async () => ts?.close());

test('projects: the default is listed and kept; one with a domain or an attachment is kept until they go', async () => {
  const made = await acme.call('POST', '/cachectl/v1/projects', { body: { name: 'shop', description: 'the shop' } });
  assert.equal(made.status, 200, made.text);
  const id = made.json.project.id;
  assert.match(id, UUID);
  const list = await acme.call('GET', '/cachectl/v1/projects');
  assert.deepEqual(list.json.projects.map((p: any) => [p.id, p.name]), [
    ['0', 'default'],
    [id, 'shop'],
  ]);
  for (const name of ['shop', 'default']) assert.equal((await acme.call('POST', '/cachectl/v1/projects', { body: { name } })).json.error_code, 'CDN.0001', name);
  const keepDefault = await acme.call('DELETE', '/cachectl/v1/projects/0');
  assert.equal(keepDefault.status, 403);
  assert.equal(keepDefault.json.error_code, 'CDN.0004');

  // A domain moved into it keeps it; the move of another tenant's domain, or to an unknown project, is refused.
  assert.equal((await acme.call('POST', '/v1.0/cdn/domains', { body: domainBody('www.acme-keys.test') })).status, 200);
  assert.equal((await other.call('POST', '/v1.0/cdn/domains', { body: domainBody('www.other-keys.test') })).status, 200);
  const moved = await acme.call('PUT', '/cachectl/v1/domains/www.acme-keys.test/project', { body: { enterprise_project_id: id } });
  assert.equal(moved.status, 200, moved.text);
  assert.deepEqual(moved.json.domain, { domain_name: 'www.acme-keys.test', enterprise_project_id: id, previous: '0' });
  const detail = await acme.call('GET', '/v1.0/cdn/domains', { query: [['domain_name', 'www.acme-keys.test'], ['enterprise_project_id', id]] });
  assert.deepEqual(detail.json.domains.map((d: any) => d.domain_name), ['www.acme-keys.test']);
  assert.equal((await acme.call('PUT', '/cachectl/v1/domains/www.other-keys.test/project', { body: { enterprise_project_id: id } })).status, 404);
  assert.equal((await acme.call('PUT', '/cachectl/v1/domains/www.acme-keys.test/project', { body: { enterprise_project_id: 'nosuch' } })).json.error_code, 'CDN.0001');
  assert.equal((await other.call('DELETE', `/cachectl/v1/projects/${id}`)).status, 404, "another tenant's project is not found");

  const busy = await acme.call('DELETE', `/cachectl/v1/projects/${id}`);
  assert.equal(busy.status, 400);
  assert.match(busy.json.error_msg, /has 1 domain: move them first/);
  assert.equal((await acme.call('PUT', '/cachectl/v1/domains/www.acme-keys.test/project', { body: { enterprise_project_id: '0' } })).status, 200);
  await addUser(ts, acme.call, 'shopkeeper', ['CDN ReadOnlyAccess'], id);
  const attached = await acme.call('DELETE', `/cachectl/v1/projects/${id}`);
  assert.match(attached.json.error_msg, /policies attached for it to group shopkeeper-group: detach them first/);
  assert.equal((await acme.call('DELETE', `/cachectl/v1/groups/shopkeeper-group/policies/${encodeURIComponent('CDN ReadOnlyAccess')}`, { query: [['enterprise_project_id', id]] })).status, 200);
  assert.deepEqual((await acme.call('DELETE', `/cachectl/v1/projects/${id}`)).json, { deleted: id });
  assert.equal((await acme.call('GET', '/cachectl/v1/projects')).json.projects.length, 1);
});

test('keys: at most 2 per user, listed without secrets, disabled and enabled, expiring; last use shown', async () => {
  assert.equal((await acme.call('POST', '/cachectl/v1/users', { body: { name: 'ci', password: 'ci-password-1', groups: ['admin'] } })).status, 200);
  const first = await acme.call('POST', '/cachectl/v1/keys', { body: { user: 'ci', description: 'pipeline' } });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual([first.json.account, first.json.user, first.json.description, first.json.expires_at], ['acme-keys', 'ci', 'pipeline', null]);
  const second = await acme.call('POST', '/cachectl/v1/keys', { body: { user: 'ci' } });
  assert.equal(second.status, 200);
  const third = await acme.call('POST', '/cachectl/v1/keys', { body: { user: 'ci' } });
  assert.equal(third.status, 400);
  assert.equal(third.json.error_code, 'CDN.0001');
  assert.match(third.json.error_msg, /user 'ci' has 2 access keys/);
  assert.equal((await acme.call('DELETE', `/cachectl/v1/keys/${second.json.access_key}`)).status, 200);

  const ci = client(ts.server.url, { accessKey: first.json.access_key, secretKey: first.json.secret_key });
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 200);
  await ts.server.auth.flushKeyUses();
  const listed = await acme.call('GET', '/cachectl/v1/keys', { query: [['user', 'ci']] });
  assert.equal(listed.json.keys.length, 1);
  const k = listed.json.keys[0];
  assert.deepEqual([k.access_key, k.account, k.user, k.description, k.enabled, k.expires_at], [first.json.access_key, 'acme-keys', 'ci', 'pipeline', true, null]);
  assert.equal(typeof k.last_used_at, 'number', 'the last use is shown');
  assert.equal(typeof k.created_at, 'number');
  const everything = await acme.call('GET', '/cachectl/v1/keys');
  assert.ok(!everything.text.includes(first.json.secret_key) && !everything.text.includes('secret'), 'never a secret');

  const disabled = await acme.call('PUT', `/cachectl/v1/keys/${first.json.access_key}`, { body: { enabled: false } });
  assert.equal(disabled.json.key.enabled, false);
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 401, 'a disabled key is refused on the next call');
  assert.equal((await acme.call('PUT', `/cachectl/v1/keys/${first.json.access_key}`, { body: { enabled: true } })).status, 200);
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 200, 'and works again once enabled');

  // An expiry in the future is kept and shown; one in the past is refused; null clears it.
  const later = Date.now() + 86_400_000;
  const expiring = await acme.call('PUT', `/cachectl/v1/keys/${first.json.access_key}`, { body: { expires_at: new Date(later).toISOString() } });
  assert.equal(expiring.json.key.expires_at, later);
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 200);
  const past = await acme.call('PUT', `/cachectl/v1/keys/${first.json.access_key}`, { body: { expires_at: Date.now() - 1000 } });
  assert.equal(past.json.error_code, 'CDN.0001');
  assert.match(past.json.error_msg, /expires_at must be in the future/);
  // The day comes (written to the store, as time passing would): the key is refused.
  await ts.server.store.db.updateTable('access_keys').set({ expires_at: Date.now() - 1 }).where('access_key', '=', first.json.access_key).execute();
  ts.server.auth.invalidate();
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 401, 'an expired key is refused');
  const cleared = await acme.call('PUT', `/cachectl/v1/keys/${first.json.access_key}`, { body: { expires_at: null } });
  assert.equal(cleared.json.key.expires_at, null);
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 200);

  // A key made with an expiry; another tenant neither sees nor changes acme's keys.
  const dated = await acme.call('POST', '/cachectl/v1/keys', { body: { user: 'ci', expires_at: later } });
  assert.equal(dated.json.expires_at, later);
  assert.equal((await other.call('PUT', `/cachectl/v1/keys/${first.json.access_key}`, { body: { enabled: false } })).status, 404);
  assert.equal((await other.call('DELETE', `/cachectl/v1/keys/${first.json.access_key}`)).status, 404);
  assert.equal((await ci('GET', '/v1.0/cdn/quota')).status, 200);
});

test('the platform admin lists every key, adds one for an account (its first user), and removes any', async () => {
  const all = await ts.call('GET', '/cachectl/v1/keys');
  assert.deepEqual([...new Set(all.json.keys.map((k: any) => k.account))].sort(), ['acme-keys', 'admin', 'other-keys']);
  const made = await ts.call('POST', '/cachectl/v1/keys', { body: { account: 'other-keys' } });
  assert.equal(made.status, 200, made.text);
  assert.deepEqual([made.json.account, made.json.user], ['other-keys', 'admin']);
  const mine = await ts.call('GET', '/cachectl/v1/keys', { query: [['account', 'other-keys']] });
  assert.equal(mine.json.keys.length, 2);
  assert.equal((await ts.call('DELETE', `/cachectl/v1/keys/${made.json.access_key}`)).status, 200);
  const clash = await ts.call('POST', '/cachectl/v1/keys', { body: { account: 'other-keys' }, query: [['account', 'acme-keys']] });
  assert.equal(clash.json.error_code, 'CDN.0001');
});

test('accounts rm takes the account with its users, keys, groups, memberships, attachments, policies and projects', async () => {
  const gone = await addTenant(ts, 'gone');
  await addUser(ts, gone.call, 'worker', ['CDN ReadOnlyAccess']);
  assert.equal((await gone.call('POST', '/cachectl/v1/policies', { body: { name: 'p', policy: { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'] }] } } })).status, 200);
  assert.equal((await gone.call('POST', '/cachectl/v1/groups/worker-group/policies', { body: { policy: 'p' } })).status, 200);
  assert.equal((await gone.call('POST', '/cachectl/v1/projects', { body: { name: 'proj' } })).status, 200);
  const db = ts.server.store.db;
  const groupIds = (await db.selectFrom('iam_groups').select('id').where('account_id', '=', gone.id).execute()).map((g) => g.id);
  assert.equal(groupIds.length, 2);

  const rm = await ts.call('DELETE', '/cachectl/v1/accounts/gone');
  assert.equal(rm.status, 200, rm.text);
  assert.equal(rm.json.access_keys.length, 2);
  for (const table of ['users', 'access_keys', 'tokens', 'iam_groups', 'iam_policies', 'projects'] as const) {
    const left = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', gone.id).executeTakeFirstOrThrow();
    assert.equal(Number(left.n), 0, table);
  }
  for (const table of ['iam_group_members', 'iam_group_policies'] as const) {
    const left = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('group_id', 'in', groupIds).executeTakeFirstOrThrow();
    assert.equal(Number(left.n), 0, table);
  }
  const audit = await db.selectFrom('audit_events').select(['action', 'user_name']).where('resource', '=', 'account/gone').orderBy('id').execute();
  assert.deepEqual(audit.map((r) => r.action), ['cachectl:accounts:create', 'cachectl:accounts:delete']);
  assert.equal((await gone.call('GET', '/v1.0/cdn/quota')).status, 401);
});
