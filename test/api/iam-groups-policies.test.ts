// IAM groups and policies (cachectl's own API): groups and members; custom policies validated when
// written (CDN.0001 naming the defect, nothing stored), system policies read-only; attachments for every
// enterprise project or one, which decide what a member may do; a policy in use is not deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { addTenant, addUser, domainBody, type Tenant } from '../support/iam-fixture.js';

let ts: TestServer;
let acme: Tenant;
let other: Tenant;

const allow = (actions: string[], resources?: string[]) => ({ Version: '1.1', Statement: [{ Effect: 'Allow', Action: actions, ...(resources && { Resource: resources }) }] });

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '1' });
  acme = await addTenant(ts, 'acme-groups');
  other = await addTenant(ts, 'other-groups');
});
after(async () => ts?.close());

test('groups: add, list, rename, members in and out, delete (with its memberships)', async () => {
  const made = await acme.call('POST', '/cachectl/v1/groups', { body: { name: 'web', description: 'web team' } });
  assert.equal(made.status, 200, made.text);
  assert.deepEqual([made.json.group.name, made.json.group.description, made.json.group.members], ['web', 'web team', []]);
  assert.equal((await acme.call('POST', '/cachectl/v1/groups', { body: { name: 'web' } })).json.error_code, 'CDN.0001');
  assert.equal((await acme.call('POST', '/cachectl/v1/users', { body: { name: 'wendy', password: 'wendy-password' } })).status, 200);

  const joined = await acme.call('PUT', '/cachectl/v1/groups/web/members/wendy');
  assert.deepEqual(joined.json.group.members, ['wendy']);
  assert.equal((await acme.call('PUT', '/cachectl/v1/groups/web/members/nobody')).status, 404);
  const renamed = await acme.call('PUT', '/cachectl/v1/groups/web', { body: { name: 'frontend' } });
  assert.equal(renamed.json.group.name, 'frontend');
  assert.deepEqual((await acme.call('GET', '/cachectl/v1/users/wendy')).json.user.groups, ['frontend']);
  assert.deepEqual((await acme.call('GET', '/cachectl/v1/groups')).json.groups.map((g: any) => [g.name, g.members]), [
    ['admin', ['admin']],
    ['frontend', ['wendy']],
  ]);
  const left = await acme.call('DELETE', '/cachectl/v1/groups/frontend/members/wendy');
  assert.deepEqual(left.json.group.members, []);
  assert.equal((await acme.call('DELETE', '/cachectl/v1/groups/frontend/members/wendy')).status, 404, 'not a member any more');
  assert.equal((await acme.call('PUT', '/cachectl/v1/groups/frontend/members/wendy')).status, 200);
  assert.deepEqual((await acme.call('DELETE', '/cachectl/v1/groups/frontend')).json, { deleted: 'frontend' });
  assert.deepEqual((await acme.call('GET', '/cachectl/v1/users/wendy')).json.user.groups, []);
});

test('policies: the system ones are listed and read-only; a custom one is stored in Huawei form, changed, deleted', async () => {
  const list = await acme.call('GET', '/cachectl/v1/policies');
  const system = list.json.policies.filter((p: any) => p.type === 'system').map((p: any) => p.name);
  for (const name of ['CDN Administrator', 'CDN RefreshAndPreheatAccess', 'CDN ReadOnlyAccess']) assert.ok(system.includes(name), name);
  const admin = await acme.call('GET', `/cachectl/v1/policies/${encodeURIComponent('CDN Administrator')}`);
  assert.deepEqual(admin.json.policy.policy, allow(['cdn:*:*']));
  for (const method of ['PUT', 'DELETE']) {
    const res = await acme.call(method, `/cachectl/v1/policies/${encodeURIComponent('CDN ReadOnlyAccess')}`, { body: method === 'PUT' ? { description: 'x' } : undefined });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.error_code, 'CDN.0004');
  }

  const doc = { Version: '1.1', Statement: [{ Effect: 'Allow', Action: 'cdn:configuration:refreshCache', Resource: ['CDN:*:*:domain:*.static.example.com'], Condition: { StringEquals: { 'g:EnterpriseProjectId': ['0'] } } }] };
  const made = await acme.call('POST', '/cachectl/v1/policies', { body: { name: 'static purge', description: 'purge static', policy: doc } });
  assert.equal(made.status, 200, made.text);
  assert.equal(made.json.policy.type, 'custom');
  // Stored as written, a single action made a list.
  assert.deepEqual(made.json.policy.policy.Statement[0].Action, ['cdn:configuration:refreshCache']);
  assert.deepEqual(made.json.policy.policy.Statement[0].Condition, doc.Statement[0].Condition);
  const byId = await acme.call('GET', `/cachectl/v1/policies/${made.json.policy.id}`);
  assert.equal(byId.json.policy.name, 'static purge');
  const asText = await acme.call('PUT', `/cachectl/v1/policies/${encodeURIComponent('static purge')}`, { body: { policy: JSON.stringify(allow(['cdn:configuration:preheatCache'])) } });
  assert.equal(asText.status, 200, asText.text);
  assert.deepEqual(asText.json.policy.policy, allow(['cdn:configuration:preheatCache']));
  assert.equal((await other.call('GET', `/cachectl/v1/policies/${made.json.policy.id}`)).status, 404, "another tenant's policy is not found by id either");
  assert.deepEqual((await acme.call('DELETE', `/cachectl/v1/policies/${encodeURIComponent('static purge')}`)).json, { deleted: 'static purge' });
  assert.equal((await acme.call('GET', `/cachectl/v1/policies/${made.json.policy.id}`)).status, 404);
});

test('a policy document with a defect is refused with CDN.0001 naming it, and nothing is stored', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ Version: '1.0', Statement: [{ Effect: 'Allow', Action: ['*'] }] }, /Version must be "1\.1"/],
    [{ Version: '1.1', Statement: [] }, /Statement must be a list/],
    [{ Version: '1.1', Statement: [{ Effect: 'allow', Action: ['*'] }] }, /Statement\[0\]\.Effect must be "Allow" or "Deny"/],
    [{ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['refresh'] }] }, /Action 'refresh' is not of the form service:resource:action/],
    [{ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'], Resource: ['domain:x'] }] }, /Resource 'domain:x'/],
    [{ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'], Condition: { NumberEquals: { 'g:EnterpriseProjectId': ['1'] } } }] }, /operator 'NumberEquals' is not supported/],
    [{ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'], Condition: { StringEquals: { 'g:UserName': ['x'] } } }] }, /key 'g:UserName' is not supported/],
    [{ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['*'], Principal: '*' }] }, /unknown field 'Principal'/],
    ['{"Version": "1.1",', /not valid JSON/],
  ];
  for (const [policy, pattern] of cases) {
    const res = await acme.call('POST', '/cachectl/v1/policies', { body: { name: 'broken', policy } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error_code, 'CDN.0001');
    assert.match(res.json.error_msg, pattern);
  }
  for (const [name, pattern] of [
    ['CDN Administrator', /system policy/],
    ['', /policy name/],
  ] as const) {
    const res = await acme.call('POST', '/cachectl/v1/policies', { body: { name, policy: allow(['*']) } });
    assert.equal(res.json.error_code, 'CDN.0001');
    assert.match(res.json.error_msg, pattern);
  }
  assert.deepEqual((await acme.call('GET', '/cachectl/v1/policies')).json.policies.filter((p: any) => p.type === 'custom'), []);
});

test("attached per enterprise project: a member may purge in that project's domains only (CDN.0020 elsewhere); detach; a policy in use is not deleted", async () => {
  const project = (await acme.call('POST', '/cachectl/v1/projects', { body: { name: 'shop' } })).json.project.id;
  for (const body of [domainBody('a.acme-groups.test'), domainBody('b.acme-groups.test', project)]) assert.equal((await acme.call('POST', '/v1.0/cdn/domains', { body })).status, 200);
  assert.equal((await acme.call('POST', '/cachectl/v1/policies', { body: { name: 'purge', policy: allow(['cdn:configuration:refreshCache']) } })).status, 200);
  const shopper = await addUser(ts, acme.call, 'shopper', ['purge'], project);

  const attached = await acme.call('GET', '/cachectl/v1/groups/shopper-group/policies');
  assert.deepEqual(attached.json.policies.map((p: any) => [p.policy, p.type, p.enterprise_project_id]), [['purge', 'custom', project]]);

  const purge = (host: string) => shopper.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${host}/x.css`] } } });
  assert.equal((await purge('b.acme-groups.test')).status, 200);
  const elsewhere = await purge('a.acme-groups.test');
  assert.equal(elsewhere.status, 403, elsewhere.text);
  assert.equal(elsewhere.json.error_code, 'CDN.0020');

  // Refusals of the attachment: an unknown project, policy or group; another tenant's project.
  const attach = (body: unknown, group = 'shopper-group') => acme.call('POST', `/cachectl/v1/groups/${group}/policies`, { body });
  assert.equal((await attach({ policy: 'purge', enterprise_project_id: 'nosuch' })).json.error_code, 'CDN.0001');
  const theirs = (await other.call('POST', '/cachectl/v1/projects', { body: { name: 'theirs' } })).json.project.id;
  assert.equal((await attach({ policy: 'purge', enterprise_project_id: theirs })).json.error_code, 'CDN.0001');
  assert.equal((await attach({ policy: 'nosuch' })).status, 404);
  assert.equal((await attach({ policy: 'purge' }, 'nosuch')).status, 404);

  const inUse = await acme.call('DELETE', '/cachectl/v1/policies/purge');
  assert.equal(inUse.status, 400);
  assert.match(inUse.json.error_msg, /attached to group shopper-group: detach it first/);

  // For every project ('*', the default) as well: both domains.
  assert.equal((await attach({ policy: 'purge' })).status, 200);
  assert.equal((await purge('a.acme-groups.test')).status, 200);
  const detachAll = await acme.call('DELETE', '/cachectl/v1/groups/shopper-group/policies/purge');
  assert.deepEqual(detachAll.json.policies.map((p: any) => p.enterprise_project_id), [project]);
  assert.equal((await purge('a.acme-groups.test')).status, 403, 'detached: refused at once');
  assert.equal((await acme.call('DELETE', '/cachectl/v1/groups/shopper-group/policies/purge')).status, 404, 'not attached for every project any more');
  const detachOne = await acme.call('DELETE', '/cachectl/v1/groups/shopper-group/policies/purge', { query: [['enterprise_project_id', project]] });
  assert.deepEqual(detachOne.json.policies, []);
  assert.equal((await purge('b.acme-groups.test')).json.error_code, 'CDN.0021');
  assert.equal((await acme.call('DELETE', '/cachectl/v1/policies/purge')).status, 200);
});
