// The policy matrix (issue 14): a user holding each system policy, and users holding custom ones (a domain
// wildcard, Deny over Allow, a grant for one enterprise project, a condition on the project), call every
// credentialed route of the API; the outcome of each call is the one the table below says. A refused call
// answers 403 with the code of the table (CDN.0021: the policies do not allow the action; CDN.0020: not in
// this enterprise project) naming the action, and leaves every row, the quota use and the edges as they
// were. The table must name every route the server registers: a route added without a row fails here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBuiltinEdge, type BuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import { startTestServer, waitDomainOnline, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, type ApiResponse, type Call } from '../support/signed-client.js';
import { addGroup, addPolicy, addProject, addUser, attach, iamStoreOf, type IamStore } from '../support/iam-fixtures.js';
import { quiesce, snapshot } from '../support/store-snapshot.js';

/** Who calls: a policy, attached for every project or for one, and the project of what the calls act on. */
interface Column {
  /** System policy name, or a custom policy document. */
  policy: string | object;
  /** The project the policy is attached for ('*': all). */
  grantedFor: 'P' | '*';
  /** The enterprise project of the domains and tasks the calls name (and of the lists they ask for). */
  target: 'P' | '0';
}

const WILDCARD = { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:configuration:refreshCache'], Resource: ['CDN:*:*:domain:*.static.example.com'] }] };
const DENY_WINS = {
  Version: '1.1',
  Statement: [
    { Effect: 'Allow', Action: ['cdn:*:*'] },
    { Effect: 'Deny', Action: ['cdn:configuration:deleteDomains', 'cdn:configuration:refreshCache'] },
  ],
};
/** Filled in with project P's id once it exists. */
const inProjectP = (p: string) => ({ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { StringEquals: { 'g:EnterpriseProjectId': [p] } } }] });

// The columns of the table, in order.
const COLUMNS: Record<string, Column> = {
  admin: { policy: 'CDN Administrator', grantedFor: '*', target: '0' },
  rp: { policy: 'CDN RefreshAndPreheatAccess', grantedFor: '*', target: '0' },
  ro: { policy: 'CDN ReadOnlyAccess', grantedFor: '*', target: '0' },
  dro: { policy: 'CDN DomainReadOnlyAccess', grantedFor: '*', target: '0' },
  cctl: { policy: 'cachectl Administrator', grantedFor: '*', target: '0' },
  wild: { policy: WILDCARD, grantedFor: '*', target: '0' },
  deny: { policy: DENY_WINS, grantedFor: '*', target: '0' },
  projP: { policy: 'CDN Administrator', grantedFor: 'P', target: 'P' },
  proj0: { policy: 'CDN Administrator', grantedFor: 'P', target: '0' },
  condP: { policy: 'condition', grantedFor: '*', target: 'P' },
  cond0: { policy: 'condition', grantedFor: '*', target: '0' },
  aud: { policy: 'cachectl AuditReadOnlyAccess', grantedFor: '*', target: '0' },
};
const COLUMN_NAMES = Object.keys(COLUMNS);

/** What one call is about: its project's shared domain and task, and fresh names. */
interface Target {
  project: string;
  domain: { id: string; name: string };
  taskId: string;
  unique(): string;
}

interface Request {
  path: string;
  query?: Array<[string, string]>;
  body?: unknown;
  /** After an allowed call: undo what it made that would disturb the calls after it. */
  cleanup?(res: ApiResponse): Promise<void>;
}

interface Row {
  route: string;
  request(t: Target): Promise<Request> | Request;
  /** One outcome per column, in COLUMNS order: A (answered 200), 21 (CDN.0021), 20 (CDN.0020), 04 (CDN.0004). */
  outcomes: string;
}

let s: TestServer;
let origin: TestOrigin;
let extraEdge: BuiltinEdge;
let iam: IamStore;
let tenant: { id: string; name: string };
const targets: Record<'P' | '0', Omit<Target, 'unique'>> = {} as never;
const callers: Record<string, Call> = {};
let serial = 0;

const ep = (t: Target): Array<[string, string]> => [['enterprise_project_id', t.project]];
const sources = () => [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }];

/** A domain of the project made by the platform administrator: online, or disabled (offline). */
async function freshDomain(t: Target, state: 'online' | 'offline'): Promise<{ id: string; name: string }> {
  const name = `${t.unique()}.static.example.com`;
  const res = await s.call('POST', '/v1.0/cdn/domains', { body: { domain: { domain_name: name, business_type: 'web', sources: sources(), enterprise_project_id: t.project } } });
  assert.equal(res.status, 200, res.text);
  await waitDomainOnline(s.call, name);
  if (state === 'offline') assert.equal((await s.call('PUT', `/v1.0/cdn/domains/${res.json.domain.id}/disable`)).status, 200);
  return { id: res.json.domain.id, name };
}

// Objects of the callers' account for one call to change or delete, so that no call disturbs another.
const freshUser = (t: Target, groups: string[] = []) => addUser(iam, s.accountId, { name: t.unique(), groups });
const freshGroup = async (t: Target) => {
  const name = t.unique();
  await addGroup(iam, s.accountId, name);
  return name;
};
const freshPolicy = async (t: Target) => {
  const name = t.unique();
  return { name, id: await addPolicy(iam, s.accountId, name, WILDCARD) };
};

const nodeBody = (name: string) => ({ name, driver: 'builtin', traffic_url: extraEdge.trafficUrl, control_url: extraEdge.controlUrl });
const removeNode = (name: string) => async () => assert.equal((await s.call('DELETE', `/cachectl/v1/nodes/${name}`)).status, 200);

//                                                                               admin rp  ro  dro cctl wild deny projP proj0 condP cond0 aud
const TABLE: Row[] = [
  { route: 'POST /v1.0/cdn/content/refresh-tasks', outcomes: '                    A  A   21  21  21   A    21   A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/content/refresh-tasks', body: { refresh_task: { urls: [`http://${t.domain.name}/a.txt`] } } }) },
  { route: 'POST /v1.0/cdn/content/preheating-tasks', outcomes: '                 A  A   21  21  21   21   A    A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/content/preheating-tasks', body: { preheating_task: { urls: [`http://${t.domain.name}/a.txt`] } } }) },
  { route: 'POST /v1.0/cdn/refreshtasks', outcomes: '                             A  A   21  21  21   A    21   A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/refreshtasks', body: { refreshTask: { urls: [`http://${t.domain.name}/a.txt`] } } }) },
  { route: 'POST /v1.0/cdn/preheatingtasks', outcomes: '                          A  A   21  21  21   21   A    A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/preheatingtasks', body: { preheatingTask: { urls: [`http://${t.domain.name}/a.txt`] } } }) },
  { route: 'GET /v1.0/cdn/historytasks', outcomes: '                               A  A   A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/historytasks', query: ep(t) }) },
  { route: 'GET /v1.0/cdn/historytasks/:history_tasks_id/detail', outcomes: '      A  A   A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/v1.0/cdn/historytasks/${t.taskId}/detail` }) },
  { route: 'GET /v1.0/cdn/contentgateway/url-tasks', outcomes: '                   A  A   A   21  21   21   A    A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/contentgateway/url-tasks', query: ep(t) }) },
  // Quotas are the account's: anyone who may read them in some project reads them.
  { route: 'GET /v1.0/cdn/quota', outcomes: '                                      A  21  A   21  21   21   A    A     A     A     A   21', request: (t) => ({ path: '/v1.0/cdn/quota', query: ep(t) }) },
  {
    route: 'POST /v1.0/cdn/domains',
    outcomes: '                                                                       A  21  21  21  21   21   A    A     20    A     20   21',
    request: (t) => ({ path: '/v1.0/cdn/domains', body: { domain: { domain_name: `${t.unique()}.static.example.com`, business_type: 'web', sources: sources(), enterprise_project_id: t.project } } }),
  },
  { route: 'GET /v1.0/cdn/domains', outcomes: '                                    A  21  A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: '/v1.0/cdn/domains', query: ep(t) }) },
  { route: 'GET /v1.0/cdn/domains/:domain_id/detail', outcomes: '                  A  21  A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/v1.0/cdn/domains/${t.domain.id}/detail` }) },
  { route: 'GET /v1.0/cdn/configuration/domains/:domain_name', outcomes: '         A  21  A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/v1.0/cdn/configuration/domains/${t.domain.name}` }) },
  { route: 'PUT /v1.0/cdn/domains/:domain_id/origin', outcomes: '                  A  21  21  21  21   21   A    A     20    A     20   21', request: (t) => ({ path: `/v1.0/cdn/domains/${t.domain.id}/origin`, body: { origin: { sources: sources() } } }) },
  {
    route: 'PUT /v1.1/cdn/configuration/domains/:domain_name/configs',
    outcomes: '                                                                       A  21  21  21  21   21   A    A     20    A     20   21',
    request: (t) => ({ path: `/v1.1/cdn/configuration/domains/${t.domain.name}/configs`, body: { configs: { sources: [{ origin_addr: '127.0.0.1', origin_type: 'ipaddr', priority: 70, http_port: origin.port }] } } }),
  },
  { route: 'PUT /v1.0/cdn/domains/:domain_id/enable', outcomes: '                  A  21  21  21  21   21   A    A     20    A     20   21', request: async (t) => ({ path: `/v1.0/cdn/domains/${(await freshDomain(t, 'offline')).id}/enable` }) },
  { route: 'PUT /v1.0/cdn/domains/:domain_id/disable', outcomes: '                 A  21  21  21  21   21   A    A     20    A     20   21', request: async (t) => ({ path: `/v1.0/cdn/domains/${(await freshDomain(t, 'online')).id}/disable` }) },
  { route: 'DELETE /v1.0/cdn/domains/:domain_id', outcomes: '                      A  21  21  21  21   21   21   A     20    A     20   21', request: async (t) => ({ path: `/v1.0/cdn/domains/${(await freshDomain(t, 'offline')).id}` }) },
  // The IAM discovery calls the SDKs make first: any authenticated caller.
  { route: 'GET /v3/auth/domains', outcomes: '                                     A  A   A   A   A    A    A    A     A     A     A   A', request: () => ({ path: '/v3/auth/domains' }) },
  { route: 'GET /v3/projects', outcomes: '                                         A  A   A   A   A    A    A    A     A     A     A   A', request: () => ({ path: '/v3/projects', query: [['name', 'cn-north-4']] }) },
  { route: 'GET /v3/auth/catalog', outcomes: '                                     A  A   A   A   A    A    A    A     A     A     A   A', request: () => ({ path: '/v3/auth/catalog' }) },
  // cachectl's own platform routes (the callers are users of the platform's admin account).
  { route: 'GET /cachectl/v1/accounts', outcomes: '                                21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/accounts' }) },
  { route: 'POST /cachectl/v1/accounts', outcomes: '                               21  21  21  21  A    21   21   21    21    21    21   21', request: (t) => ({ path: '/cachectl/v1/accounts', body: { name: t.unique() } }) },
  {
    route: 'DELETE /cachectl/v1/accounts/:name',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => {
      const name = t.unique();
      assert.equal((await s.call('POST', '/cachectl/v1/accounts', { body: { name } })).status, 200);
      return { path: `/cachectl/v1/accounts/${name}` };
    },
  },
  { route: 'PUT /cachectl/v1/accounts/:name/quotas', outcomes: '                   21  21  21  21  A    21   21   21    21    21    21   21', request: (t) => ({ path: `/cachectl/v1/accounts/${tenant.name}/quotas`, body: { preheat: 1000 + serial } }) },
  { route: 'GET /cachectl/v1/keys', outcomes: '                                    21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/keys' }) },
  {
    route: 'POST /cachectl/v1/keys',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => {
      const user = await addUser(iam, tenant.id, { name: t.unique() });
      return {
        path: '/cachectl/v1/keys',
        body: { account: tenant.name, user: user.name },
        cleanup: async (res) => assert.equal((await s.call('DELETE', `/cachectl/v1/keys/${res.json.access_key}`)).status, 200),
      };
    },
  },
  { route: 'DELETE /cachectl/v1/keys/:access_key', outcomes: '                    21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/keys/${(await addUser(iam, tenant.id, { name: t.unique() })).accessKey}` }) },
  { route: 'GET /cachectl/v1/nodes', outcomes: '                                   21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/nodes' }) },
  {
    route: 'POST /cachectl/v1/nodes',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: (t) => {
      const name = t.unique();
      return { path: '/cachectl/v1/nodes', body: nodeBody(name), cleanup: removeNode(name) };
    },
  },
  {
    route: 'DELETE /cachectl/v1/nodes/:name',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => {
      const name = t.unique();
      assert.equal((await s.call('POST', '/cachectl/v1/nodes', { body: nodeBody(name) })).status, 200);
      await quiesce(s);
      return { path: `/cachectl/v1/nodes/${name}`, cleanup: async () => undefined };
    },
  },
  { route: 'POST /cachectl/v1/nodes/:name/check', outcomes: '                     21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: `/cachectl/v1/nodes/${s.server.edges[0].name}/check` }) },
  // cachectl's own views of a task: as the Huawei task detail.
  { route: 'GET /cachectl/v1/tasks/:id/nodes', outcomes: '                        A  A   A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/cachectl/v1/tasks/${t.taskId}/nodes` }) },
  { route: 'GET /cachectl/v1/tasks/:id/wait', outcomes: '                         A  A   A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/cachectl/v1/tasks/${t.taskId}/wait`, query: [['timeout_ms', '0']] }) },
  { route: 'GET /cachectl/v1/domains/:domain_name/prefetch-timeout', outcomes: '  A  21  A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/cachectl/v1/domains/${t.domain.name}/prefetch-timeout` }) },
  { route: 'PUT /cachectl/v1/domains/:domain_name/prefetch-timeout', outcomes: '  A  21  21  21  21   21   A    A     20    A     20   21', request: (t) => ({ path: `/cachectl/v1/domains/${t.domain.name}/prefetch-timeout`, body: { prefetch_timeout_ms: 60_000 } }) },
  { route: 'GET /cachectl/v1/tasks/:id', outcomes: '                              A  A   A   A   21   21   A    A     20    A     20   21', request: (t) => ({ path: `/cachectl/v1/tasks/${t.taskId}` }) },
  // The audit trail and the identity management: cachectl's own actions, which only cachectl's policies
  // allow. The calls act on the callers' own account; each change is made to an object of its own.
  { route: 'GET /cachectl/v1/audit', outcomes: '                                  21  21  21  21  A    21   21   21    21    21    21   A', request: () => ({ path: '/cachectl/v1/audit' }) },
  { route: 'GET /cachectl/v1/users', outcomes: '                                  21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/users' }) },
  { route: 'POST /cachectl/v1/users', outcomes: '                                 21  21  21  21  A    21   21   21    21    21    21   21', request: (t) => ({ path: '/cachectl/v1/users', body: { name: t.unique() } }) },
  { route: 'GET /cachectl/v1/users/:name', outcomes: '                            21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/users/u-ro' }) },
  { route: 'PUT /cachectl/v1/users/:name', outcomes: '                            21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/users/${(await freshUser(t)).name}`, body: { enabled: false } }) },
  { route: 'DELETE /cachectl/v1/users/:name', outcomes: '                         21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/users/${(await freshUser(t)).name}` }) },
  { route: 'GET /cachectl/v1/groups', outcomes: '                                 21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/groups' }) },
  { route: 'POST /cachectl/v1/groups', outcomes: '                                21  21  21  21  A    21   21   21    21    21    21   21', request: (t) => ({ path: '/cachectl/v1/groups', body: { name: t.unique() } }) },
  { route: 'GET /cachectl/v1/groups/:name', outcomes: '                           21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/groups/u-ro-group' }) },
  { route: 'PUT /cachectl/v1/groups/:name', outcomes: '                           21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/groups/${await freshGroup(t)}`, body: { description: 'changed' } }) },
  { route: 'DELETE /cachectl/v1/groups/:name', outcomes: '                        21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/groups/${await freshGroup(t)}` }) },
  {
    route: 'PUT /cachectl/v1/groups/:name/members/:user',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => ({ path: `/cachectl/v1/groups/${await freshGroup(t)}/members/${(await freshUser(t)).name}` }),
  },
  {
    route: 'DELETE /cachectl/v1/groups/:name/members/:user',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => {
      const group = await freshGroup(t);
      return { path: `/cachectl/v1/groups/${group}/members/${(await freshUser(t, [group])).name}` };
    },
  },
  { route: 'GET /cachectl/v1/groups/:name/policies', outcomes: '                  21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/groups/u-ro-group/policies' }) },
  { route: 'POST /cachectl/v1/groups/:name/policies', outcomes: '                 21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/groups/${await freshGroup(t)}/policies`, body: { policy: 'CDN ReadOnlyAccess' } }) },
  {
    route: 'DELETE /cachectl/v1/groups/:name/policies/:policy',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => {
      const group = await freshGroup(t);
      const policy = await freshPolicy(t);
      await attach(iam, s.accountId, group, policy.id);
      return { path: `/cachectl/v1/groups/${group}/policies/${policy.name}` };
    },
  },
  { route: 'GET /cachectl/v1/policies', outcomes: '                               21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/policies' }) },
  { route: 'POST /cachectl/v1/policies', outcomes: '                              21  21  21  21  A    21   21   21    21    21    21   21', request: (t) => ({ path: '/cachectl/v1/policies', body: { name: t.unique(), policy: WILDCARD } }) },
  { route: 'GET /cachectl/v1/policies/:name', outcomes: '                         21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/policies/custom-wild' }) },
  { route: 'PUT /cachectl/v1/policies/:name', outcomes: '                         21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/policies/${(await freshPolicy(t)).name}`, body: { description: 'changed' } }) },
  { route: 'DELETE /cachectl/v1/policies/:name', outcomes: '                      21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/policies/${(await freshPolicy(t)).name}` }) },
  { route: 'GET /cachectl/v1/projects', outcomes: '                               21  21  21  21  A    21   21   21    21    21    21   21', request: () => ({ path: '/cachectl/v1/projects' }) },
  { route: 'POST /cachectl/v1/projects', outcomes: '                              21  21  21  21  A    21   21   21    21    21    21   21', request: (t) => ({ path: '/cachectl/v1/projects', body: { name: t.unique() } }) },
  { route: 'DELETE /cachectl/v1/projects/:id', outcomes: '                          21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/projects/${await addProject(iam, s.accountId, t.unique())}` }) },
  // Moving a domain is cachectl's own action, whatever the caller may do with the domain itself.
  {
    route: 'PUT /cachectl/v1/domains/:domain_name/project',
    outcomes: '                                                                       21  21  21  21  A    21   21   21    21    21    21   21',
    request: async (t) => {
      const other = t.project === targets.P.project ? targets['0'].project : targets.P.project;
      return { path: `/cachectl/v1/domains/${(await freshDomain(t, 'online')).name}/project`, body: { enterprise_project_id: other } };
    },
  },
  { route: 'PUT /cachectl/v1/keys/:access_key', outcomes: '                        21  21  21  21  A    21   21   21    21    21    21   21', request: async (t) => ({ path: `/cachectl/v1/keys/${(await freshUser(t)).accessKey}`, body: { enabled: false } }) },
];

before(async () => {
  s = await startTestServer();
  origin = await startOrigin();
  origin.put('/a.txt');
  extraEdge = await startBuiltinEdge({ name: 'extra', host: '127.0.0.1', trafficPort: 0, adminPort: 0, maxBytes: 1 << 20, originAllow: OriginAllowList.parse('loopback') });
  iam = iamStoreOf(s);
  const made = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'matrix-tenant' } });
  assert.equal(made.status, 200, made.text);
  tenant = { id: made.json.account.id, name: 'matrix-tenant' };

  // The callers are users of the platform's admin account: its platform routes reach their policy check.
  const account = s.accountId;
  const projectP = await addProject(iam, account, 'matrix-p');
  const condition = await addPolicy(iam, account, 'cdn-in-project-p', inProjectP(projectP));
  for (const [name, column] of Object.entries(COLUMNS)) {
    const policy = typeof column.policy === 'string' ? (column.policy === 'condition' ? condition : column.policy) : await addPolicy(iam, account, `custom-${name}`, column.policy);
    callers[name] = client(s.server.url, await addUser(iam, account, { name: `u-${name}`, policies: [policy], project: column.grantedFor === 'P' ? projectP : '*' }));
  }
  for (const [key, project] of [['0', '0'], ['P', projectP]] as const) {
    const t = { project, unique: () => `shared-${key.toLowerCase()}` } as Target;
    const domain = await freshDomain(t, 'online');
    const task = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [`http://${domain.name}/a.txt`] } } });
    assert.equal(task.status, 200, task.text);
    targets[key] = { project, domain, taskId: task.json.refresh_task };
  }
  await quiesce(s);
});
after(async () => {
  await s?.close();
  await extraEdge?.close();
  await origin?.close();
});

test('the table names every credentialed route the server registers, and no other', () => {
  const registered = s.server.app.credentialedRoutes.map((r) => `${r.method} ${r.url}`);
  const rows = TABLE.map((r) => r.route);
  const missing = registered.filter((r) => !rows.includes(r));
  assert.deepEqual(missing, [], `routes without a row in the policy matrix (add one per route): ${missing.join(', ')}`);
  assert.deepEqual(rows.filter((r) => !registered.includes(r)), [], 'rows for routes the server does not register');
  assert.equal(new Set(rows).size, rows.length, 'one row per route');
  for (const row of TABLE) assert.equal(row.outcomes.trim().split(/\s+/).length, COLUMN_NAMES.length, `${row.route}: one outcome per column`);
});

const CODES: Record<string, string> = { '21': 'CDN.0021', '20': 'CDN.0020', '04': 'CDN.0004' };

for (const row of TABLE) {
  test(`policy matrix: ${row.route}`, async () => {
    const [method, pattern] = row.route.split(' ');
    const route = s.server.app.credentialedRoutes.find((r) => r.method === method && r.url === pattern);
    assert.ok(route, `${row.route} is registered`);
    const outcomes = row.outcomes.trim().split(/\s+/);
    const seen: string[] = [];
    for (const [i, name] of COLUMN_NAMES.entries()) {
      const column = COLUMNS[name];
      const target: Target = { ...targets[column.target], unique: () => `m${++serial}-${name.toLowerCase()}` };
      const req = await row.request(target);
      const expected = outcomes[i];
      await quiesce(s);
      const before = expected === 'A' ? undefined : await snapshot(s);
      const res = await callers[name](method, req.path, { query: req.query, body: req.body });
      const got = res.status === 200 ? 'A' : (Object.entries(CODES).find(([, code]) => code === res.json?.error_code)?.[0] ?? `${res.status} ${res.text.slice(0, 200)}`);
      seen.push(got);
      if (expected === 'A') {
        assert.equal(res.status, 200, `${name}: ${row.route} answered ${res.status} ${res.text.slice(0, 300)}`);
        await req.cleanup?.(res);
        continue;
      }
      assert.equal(res.status, 403, `${name}: ${row.route} answered ${res.status} ${res.text.slice(0, 300)}`);
      assert.equal(res.json.error_code, CODES[expected], `${name}: ${row.route}: ${res.text.slice(0, 300)}`);
      assert.equal(res.json.error.error_code, CODES[expected], 'the hybrid body');
      if (expected !== '04' && route.action) assert.ok(res.json.error_msg.includes(route.action.name), `${name}: the refusal names ${route.action.name}: ${res.json.error_msg}`);
      await quiesce(s);
      assert.deepEqual(await snapshot(s), before, `${name}: the refused ${row.route} changed nothing`);
    }
    // The whole row at once, so that a changed outcome shows against its neighbours.
    assert.deepEqual(seen, outcomes);
  });
}
