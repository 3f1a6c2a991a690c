// IAM sub-users as Huawei's SDKs meet them (huawei-cdn-api.md §1, §10, §12, §18): a sub-user's password
// token (POST /v3/auth/tokens with the user, the account and the password) and a sub-user's AK/SK, used
// on create and list calls through the official SDK core; refusals as CDN.0021 (the policies do not
// allow the action) and CDN.0020 (not in this enterprise project), 403 with the hybrid error body and
// the action named, creating nothing; and `enterprise_project_id` (`all`, empty, one project) on the
// history and domain lists returning exactly the projects the user may see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client } from '../support/signed-client.js';
import { addGroup, addPolicy, addProject, addUser, attach, iamStoreOf, type TestUser } from '../support/iam-fixtures.js';
import { quiesce, snapshot } from '../support/store-snapshot.js';
import { REQUEST_ID, clientError, passwordToken, credentials, endpointClient, get, post, send, silenceSdkLogger, type HcClient, type SdkAnswer } from './sdk-core.js';

silenceSdkLogger();

let s: TestServer;
let origin: TestOrigin;
let accountId: string;
const account = 'acme';
/** The account's own administrator (its first user, in its admin group). */
let admin: HcClient;
let projectP: string;
let projectQ: string;
/** CDN Administrator for project P only. */
let ops: TestUser;
/** CDN RefreshAndPreheatAccess in every project. */
let purger: TestUser;
/** CDN ReadOnlyAccess for projects P and 0 (two attachments). */
let viewer: TestUser;
const domainOf = { p: 'www.p.iam-subusers.test', q: 'www.q.iam-subusers.test', d: 'www.default.iam-subusers.test' };
/** A task of each project, created by the administrator. */
const taskOf: Record<string, string> = {};

const sdk = (u: TestUser) => endpointClient(s.server.url, credentials(u.accessKey, u.secretKey, accountId));
const refreshBody = (host: string, path = '/a.txt') => ({ refresh_task: { urls: [`http://${host}${path}`] } });

before(async () => {
  s = await startTestServer();
  origin = await startOrigin();
  // A tenant account made by the platform administrator, as an operator would.
  const made = await s.call('POST', '/cachectl/v1/accounts', { body: { name: account, password: 'acme-admin-password' } });
  assert.equal(made.status, 200, made.text);
  accountId = made.json.account.id;
  admin = endpointClient(s.server.url, credentials(made.json.access_key, made.json.secret_key, accountId));

  const iam = iamStoreOf(s);
  projectP = await addProject(iam, accountId, 'web');
  projectQ = await addProject(iam, accountId, 'media');
  await addGroup(iam, accountId, 'ops-p');
  await attach(iam, accountId, 'ops-p', 'CDN Administrator', projectP);
  await addGroup(iam, accountId, 'purgers');
  await attach(iam, accountId, 'purgers', 'CDN RefreshAndPreheatAccess');
  await addGroup(iam, accountId, 'viewers');
  await attach(iam, accountId, 'viewers', 'CDN ReadOnlyAccess', projectP);
  await attach(iam, accountId, 'viewers', 'CDN ReadOnlyAccess', '0');
  ops = await addUser(iam, accountId, { name: 'ops', groups: ['ops-p'], password: 'ops-password-1' });
  purger = await addUser(iam, accountId, { name: 'ci', groups: ['purgers'] });
  viewer = await addUser(iam, accountId, { name: 'viewer', groups: ['viewers'] });

  const projects = { p: projectP, q: projectQ, d: undefined };
  for (const [k, name] of Object.entries(domainOf)) {
    const project = projects[k as keyof typeof projects];
    await post(admin, '/v1.0/cdn/domains', {
      domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }], ...(project && { enterprise_project_id: project }) },
    });
  }
  await quiesce(s);
  for (const [k, name] of Object.entries(domainOf)) taskOf[k] = (await post(admin, '/v1.0/cdn/content/refresh-tasks', refreshBody(name, '/setup.txt'))).refresh_task;
  await quiesce(s);
});
after(async () => {
  await s?.close();
  await origin?.close();
});

/** The sub-user's password token, through an unsigned SDK client as the core's IamService sends it. */
async function tokenOf(user: string, password: string): Promise<{ hc: HcClient; token: string; issued: SdkAnswer }> {
  const hc = endpointClient(s.server.url, credentials('unused', 'unused')).withCredential(undefined);
  const issued = await passwordToken(hc, { name: user, password, account });
  assert.equal(issued.httpStatusCode, 201);
  return { hc, token: issued['X-Subject-Token'], issued };
}

const ids = (answer: SdkAnswer, key: 'tasks' | 'domains') => (answer[key] as Array<{ id: string }>).map((t) => t.id).sort();
const names = (answer: SdkAnswer) => (answer.domains as Array<{ domain_name: string }>).map((d) => d.domain_name).sort();

test("a sub-user's password token carries that user: it creates and lists in its project, and nothing beyond", async () => {
  const { hc, token, issued } = await tokenOf('ops', 'ops-password-1');
  assert.equal(issued.token.user.name, 'ops');
  assert.equal(issued.token.user.id, ops.id);
  assert.equal(issued.token.domain.id, accountId);
  const withToken = { 'X-Auth-Token': token };

  const created = await post(hc, '/v1.0/cdn/content/refresh-tasks', refreshBody(domainOf.p, '/token.txt'), { enterprise_project_id: projectP }, withToken);
  assert.match(created.refresh_task, /^\d+$/);
  assert.match(created['X-Request-Id'], REQUEST_ID);
  // The creator is stored with the task (cachectl's own views show it; the Huawei bodies do not).
  const row = await s.server.store.db.selectFrom('tasks').selectAll().where('id', '=', Number(created.refresh_task)).executeTakeFirstOrThrow();
  assert.equal(row.created_by_user, 'ops');
  assert.equal(row.created_by_key, null);
  assert.equal(row.enterprise_project_id, projectP);

  const history = await send(hc, { method: 'GET', url: '/v1.0/cdn/historytasks', contentType: 'application/json', queryParams: { enterprise_project_id: 'all', page_size: 100 }, pathParams: {}, headers: withToken });
  assert.deepEqual(ids(history, 'tasks'), [taskOf.p, created.refresh_task].sort(), 'only the tasks of project P');

  const refused = await clientError(post(hc, '/v1.0/cdn/content/refresh-tasks', refreshBody(domainOf.q), {}, withToken));
  assert.equal(refused.httpStatusCode, 403);
  assert.equal(refused.errorCode, 'CDN.0020');
});

test("a sub-user's AK/SK: signed by the SDK core, allowed what its policy allows, CDN.0021 naming the action otherwise", async () => {
  const hc = sdk(purger);
  await quiesce(s);
  const before = await snapshot(s);
  // RefreshAndPreheatAccess: create and read history in every project, nothing on domains.
  const created = await post(hc, '/v1.0/cdn/content/refresh-tasks', refreshBody(domainOf.q, '/ak.txt'));
  assert.match(created.refresh_task, /^\d+$/);
  const row = await s.server.store.db.selectFrom('tasks').selectAll().where('id', '=', Number(created.refresh_task)).executeTakeFirstOrThrow();
  assert.equal(row.created_by_user, 'ci');
  assert.equal(row.created_by_key, purger.accessKey);
  const detail = await get(hc, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', { page_size: 10, page_number: 1 }, { history_tasks_id: created.refresh_task });
  assert.equal(detail.id, created.refresh_task);
  const history = await get(hc, '/v1.0/cdn/historytasks', { enterprise_project_id: 'all', page_size: 100 });
  assert.ok(ids(history, 'tasks').includes(taskOf.q) && ids(history, 'tasks').includes(taskOf.d) && ids(history, 'tasks').includes(taskOf.p), 'every project');
  await quiesce(s);
  const afterAllowed = await snapshot(s);
  assert.notDeepEqual(afterAllowed.tasks, before.tasks, 'the allowed create made a task');

  const refused = await clientError(get(hc, '/v1.0/cdn/domains', { page_size: 10, page_number: 1 }));
  assert.equal(refused.httpStatusCode, 403);
  assert.equal(refused.errorCode, 'CDN.0021');
  assert.match(refused.errorMsg ?? '', /cdn:configuration:queryDomains/);
  assert.match(refused.requestId ?? '', REQUEST_ID);
  const domainCreate = await clientError(
    post(hc, '/v1.0/cdn/domains', { domain: { domain_name: 'new.iam-subusers.test', business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1 }] } }),
  );
  assert.equal(domainCreate.errorCode, 'CDN.0021');
  assert.match(domainCreate.errorMsg ?? '', /cdn:configuration:createDomains/);
  assert.deepEqual(await snapshot(s), afterAllowed, 'the refused calls changed nothing');
});

test('CDN.0021 and CDN.0020 answer 403 with the hybrid body naming the action, and create nothing, book no quota, reach no edge', async () => {
  await quiesce(s);
  const before = await snapshot(s);
  const quotaBefore = await get(admin, '/v1.0/cdn/quota');
  // ReadOnlyAccess may not refresh: CDN.0021.
  const asViewer = client(s.server.url, viewer);
  const denied = await asViewer('POST', '/v1.0/cdn/content/refresh-tasks', { body: refreshBody(domainOf.p) });
  assert.equal(denied.status, 403);
  assert.equal(denied.json.error_code, 'CDN.0021');
  assert.equal(denied.json.error.error_code, 'CDN.0021');
  assert.equal(denied.json.error.error_msg, denied.json.error_msg);
  assert.match(denied.json.error_msg, /cdn:configuration:refreshCache/);
  assert.match(String(denied.headers['x-request-id']), REQUEST_ID);
  // CDN Administrator for P only, on a domain of Q: CDN.0020, whole (a URL of P beside it changes nothing).
  const asOps = client(s.server.url, ops);
  const outside = await asOps('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [`http://${domainOf.p}/x.txt`, `http://${domainOf.q}/x.txt`] } } });
  assert.equal(outside.status, 403);
  assert.equal(outside.json.error_code, 'CDN.0020');
  assert.equal(outside.json.error.error_code, 'CDN.0020');
  assert.match(outside.json.error_msg, /cdn:configuration:refreshCache/);
  assert.match(outside.json.error_msg, new RegExp(projectQ));
  const preheat = await clientError(post(sdk(ops), '/v1.0/cdn/content/preheating-tasks', { preheating_task: { urls: [`http://${domainOf.d}/x.txt`] } }));
  assert.equal(preheat.errorCode, 'CDN.0020');
  // Reads outside the project: a list of another project, the detail of another project's task.
  const list = await clientError(get(sdk(ops), '/v1.0/cdn/historytasks', { enterprise_project_id: projectQ }));
  assert.equal(list.errorCode, 'CDN.0020');
  const detail = await clientError(get(sdk(ops), '/v1.0/cdn/historytasks/{history_tasks_id}/detail', {}, { history_tasks_id: taskOf.q }));
  assert.equal(detail.errorCode, 'CDN.0020');
  const domains = await clientError(get(sdk(ops), '/v1.0/cdn/domains', { enterprise_project_id: '0' }));
  assert.equal(domains.errorCode, 'CDN.0020');
  // A project the account does not have: CDN.0001, whoever asks.
  for (const hc of [sdk(ops), admin]) {
    const unknown = await clientError(get(hc, '/v1.0/cdn/historytasks', { enterprise_project_id: 'no-such-project' }));
    assert.equal(unknown.httpStatusCode, 400);
    assert.equal(unknown.errorCode, 'CDN.0001');
  }

  assert.deepEqual(await snapshot(s), before, 'no task, URL, quota use, domain change or edge operation');
  const quotaAfter = await get(admin, '/v1.0/cdn/quota');
  assert.deepEqual(quotaAfter.quotas, quotaBefore.quotas);
});

test('enterprise_project_id on the history and domain lists: all (or empty) is every project the user may see, one id is that project', async () => {
  const cases: Array<{ who: string; hc: HcClient; visible: Array<keyof typeof domainOf> }> = [
    { who: 'the account administrator', hc: admin, visible: ['p', 'q', 'd'] },
    { who: 'ops (P only)', hc: sdk(ops), visible: ['p'] },
    { who: 'viewer (P and the default project)', hc: sdk(viewer), visible: ['p', 'd'] },
  ];
  const all = await get(admin, '/v1.0/cdn/historytasks', { page_size: 1000 });
  const projectOfTask = new Map<string, string>();
  for (const t of all.tasks as Array<{ id: string }>) {
    const row = await s.server.store.db.selectFrom('tasks').select('enterprise_project_id').where('id', '=', Number(t.id)).executeTakeFirstOrThrow();
    projectOfTask.set(t.id, row.enterprise_project_id!);
  }
  const projectOf = { p: projectP, q: projectQ, d: '0' };
  for (const { who, hc, visible } of cases) {
    const wanted = new Set(visible.map((k) => projectOf[k]));
    const expectTasks = [...projectOfTask].filter(([, p]) => wanted.has(p)).map(([id]) => id).sort();
    for (const value of ['all', '']) {
      const history = await get(hc, '/v1.0/cdn/historytasks', { enterprise_project_id: value, page_size: 1000 });
      assert.deepEqual(ids(history, 'tasks'), expectTasks, `${who}: history with enterprise_project_id='${value}'`);
      assert.equal(history.total, expectTasks.length, `${who}: the total counts the same tasks`);
      const domains = await get(hc, '/v1.0/cdn/domains', { enterprise_project_id: value, page_size: 100, page_number: 1 });
      assert.deepEqual(names(domains), visible.map((k) => domainOf[k]).sort(), `${who}: domains with enterprise_project_id='${value}'`);
      assert.equal(domains.total, visible.length);
      for (const d of domains.domains as Array<{ domain_name: string; enterprise_project_id: string }>) {
        const key = (Object.keys(domainOf) as Array<keyof typeof domainOf>).find((k) => domainOf[k] === d.domain_name)!;
        assert.equal(d.enterprise_project_id, projectOf[key], 'each domain shows its project');
      }
    }
    // One project by id: only it.
    const one = await get(hc, '/v1.0/cdn/domains', { enterprise_project_id: projectP, page_size: 100, page_number: 1 });
    assert.deepEqual(names(one), [domainOf.p], `${who}: domains of P`);
    const urls = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { enterprise_project_id: projectP, limit: 100 }, {}, ['X-request-id']);
    assert.ok(urls.result.length > 0 && urls.result.every((r: { url: string }) => r.url.includes(domainOf.p)), `${who}: URL records of P only`);
  }
  // A paged list counts what the user may see, not the account's rows.
  const page = await get(sdk(viewer), '/v1.0/cdn/domains', { page_size: 1, page_number: 2 });
  assert.equal(page.total, 2);
  assert.equal(page.domains.length, 1);
});
