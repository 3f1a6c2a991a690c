// How enterprise projects and domain resources scope what a caller sees (huawei-cdn-api.md §1): domain
// lists judged domain by domain when the policies name domains (Allow and Deny), the URL records and
// cachectl's task views of a project-scoped user, a task outside the project asked for, totals across
// whole days, and a grant for a project that no longer exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, waitDomainOnline, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, type Call } from '../support/signed-client.js';
import { addPolicy, addProject, addUser, iamStoreOf, moveDomain } from '../support/iam-fixtures.js';

let s: TestServer;
let origin: TestOrigin;
let projectP: string;
const DOMAINS = ['a.static.example.com', 'b.static.example.com', 'www.example.com', 'img.example.com'];
/** Task ids by domain, created by the administrator. */
const taskOf = new Map<string, string>();

const userWith = async (name: string, document: object, project = '*'): Promise<Call> => {
  const iam = iamStoreOf(s);
  return client(s.server.url, await addUser(iam, s.accountId, { name, policies: [await addPolicy(iam, s.accountId, `p-${name}`, document)], project }));
};

before(async () => {
  s = await startTestServer();
  origin = await startOrigin();
  projectP = await addProject(iamStoreOf(s), s.accountId, 'static');
  for (const name of DOMAINS) {
    const res = await s.call('POST', '/v1.0/cdn/domains', { body: { domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }] } } });
    assert.equal(res.status, 200, res.text);
    await waitDomainOnline(s.call, name);
  }
  // The static domains go to project P (the move is an administrator's call; here, straight in the store).
  for (const name of DOMAINS.slice(0, 2)) await moveDomain(iamStoreOf(s), name, projectP);
  for (const name of DOMAINS) {
    const res = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [`http://${name}/x.txt`] } } });
    assert.equal(res.status, 200, res.text);
    taskOf.set(name, res.json.refresh_task);
  }
});
after(async () => {
  await s?.close();
  await origin?.close();
});

const listed = async (call: Call, query: Array<[string, string]> = []) => {
  const res = await call('GET', '/v1.0/cdn/domains', { query });
  assert.equal(res.status, 200, res.text);
  return { total: res.json.total as number, names: (res.json.domains as Array<{ domain_name: string }>).map((d) => d.domain_name).sort() };
};

test('a policy that names domains lists only those domains, Deny taking some away; the total and the pages count what is shown', async () => {
  const wildcard = await userWith('lister', { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:configuration:queryDomains'], Resource: ['CDN:*:*:domain:*.static.example.com'] }] });
  assert.deepEqual(await listed(wildcard), { total: 2, names: ['a.static.example.com', 'b.static.example.com'] });
  const page = await wildcard('GET', '/v1.0/cdn/domains', { query: [['page_size', '1'], ['page_number', '2']] });
  assert.equal(page.json.total, 2);
  assert.equal(page.json.domains.length, 1);
  // A domain outside the pattern: its detail is refused as the listing leaves it out.
  const other = await wildcard('GET', '/v1.0/cdn/configuration/domains/www.example.com');
  assert.equal(other.status, 403);
  assert.equal(other.json.error_code, 'CDN.0021');

  const allButOne = await userWith('most', {
    Version: '1.1',
    Statement: [
      { Effect: 'Allow', Action: ['cdn:configuration:query*'] },
      { Effect: 'Deny', Action: ['cdn:configuration:queryDomains'], Resource: ['CDN:*:*:domain:b.static.*'] },
    ],
  });
  assert.deepEqual(await listed(allButOne), { total: 3, names: ['a.static.example.com', 'img.example.com', 'www.example.com'] });
  // Filters still apply on top.
  assert.deepEqual(await listed(allButOne, [['domain_name', 'static']]), { total: 1, names: ['a.static.example.com'] });
  // And the project filter with it.
  assert.deepEqual(await listed(allButOne, [['enterprise_project_id', '0']]), { total: 2, names: ['img.example.com', 'www.example.com'] });
});

test("a project-scoped user's URL records, task views and waits: its project's tasks only; others are CDN.0020", async () => {
  const scoped = await userWith('p-admin', { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'] }] }, projectP);
  const records = await scoped('GET', '/v1.0/cdn/contentgateway/url-tasks', { query: [['limit', '100']] });
  assert.equal(records.status, 200, records.text);
  assert.deepEqual((records.json.result as Array<{ url: string }>).map((r) => new URL(r.url).host).sort(), ['a.static.example.com', 'b.static.example.com']);
  assert.equal(records.json.total, 2);

  const inP = taskOf.get('a.static.example.com')!;
  const outside = taskOf.get('www.example.com')!;
  for (const path of [`/cachectl/v1/tasks/${inP}/nodes`, `/cachectl/v1/tasks/${inP}/wait`, `/v1.0/cdn/historytasks/${inP}/detail`]) {
    assert.equal((await scoped('GET', path)).status, 200, path);
  }
  for (const path of [`/cachectl/v1/tasks/${outside}/nodes`, `/cachectl/v1/tasks/${outside}/wait`, `/v1.0/cdn/historytasks/${outside}/detail`]) {
    const res = await scoped('GET', path);
    assert.equal(res.status, 403, path);
    assert.equal(res.json.error_code, 'CDN.0020', path);
  }
  // The detail of a task of another project than the one asked for: not in what the caller looks at.
  const elsewhere = await s.call('GET', `/v1.0/cdn/historytasks/${outside}/detail`, { query: [['enterprise_project_id', projectP]] });
  assert.equal(elsewhere.status, 404);
  assert.equal(elsewhere.json.error_code, 'CDN.0003');
  assert.equal((await s.call('GET', `/v1.0/cdn/historytasks/${inP}/detail`, { query: [['enterprise_project_id', projectP]] })).status, 200);
});

test('history totals of some projects count the tasks themselves, across whole days too', async () => {
  const scoped = await userWith('p-reader', { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:configuration:queryCacheHistoryTask'] }] }, projectP);
  // A window of several whole days, where the account-wide day counters would give every project's tasks.
  const now = Date.now();
  const query: Array<[string, string]> = [['start_date', String(now - 5 * 86_400_000)], ['end_date', String(now + 86_400_000)]];
  const own = await scoped('GET', '/v1.0/cdn/historytasks', { query });
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.total, 2);
  assert.deepEqual((own.json.tasks as Array<{ id: string }>).map((t) => t.id).sort(), [taskOf.get('a.static.example.com'), taskOf.get('b.static.example.com')].sort());
  const all = await s.call('GET', '/v1.0/cdn/historytasks', { query });
  assert.equal(all.json.total, 4);
});

test('a grant for a project the account no longer has shows nothing, and refuses that project as unknown', async () => {
  const ghost = await userWith('ghost', { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'] }] }, '11111111-2222-3333-4444-555555555555');
  assert.deepEqual(await listed(ghost), { total: 0, names: [] });
  const history = await ghost('GET', '/v1.0/cdn/historytasks', { query: [['enterprise_project_id', 'all']] });
  assert.equal(history.status, 200);
  assert.equal(history.json.total, 0);
  const unknown = await ghost('GET', '/v1.0/cdn/historytasks', { query: [['enterprise_project_id', '11111111-2222-3333-4444-555555555555']] });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.error_code, 'CDN.0001');
});
