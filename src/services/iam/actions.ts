// The actions a policy can name: Huawei's CDN actions (huawei-cdn-api.md §1, §18) for the Huawei routes, and
// cachectl's own for its management routes. `domain`: the action is checked against the domain it acts on
// (policy Resource `CDN:*:*:domain:<name>`); the others take no resource.
export interface ActionInfo {
  name: string;
  domain: boolean;
  /** Read-only: not audited unless reads are (--audit-reads). */
  read: boolean;
}

const cdn = (verb: string, domain: boolean, read: boolean): ActionInfo => ({ name: `cdn:configuration:${verb}`, domain, read });
const own = (name: string, read: boolean): ActionInfo => ({ name: `cachectl:${name}`, domain: false, read });

export const ACTIONS = {
  refreshCache: cdn('refreshCache', true, false),
  preheatCache: cdn('preheatCache', true, false),
  queryCacheHistoryTask: cdn('queryCacheHistoryTask', false, true),
  queryRefreshAndPreheatHistoryTask: cdn('queryRefreshAndPreheatHistoryTask', false, true),
  queryQuota: cdn('queryQuota', false, true),
  queryDomains: cdn('queryDomains', true, true),
  createDomains: cdn('createDomains', true, false),
  deleteDomains: cdn('deleteDomains', true, false),
  enableDomains: cdn('enableDomains', true, false),
  disableDomains: cdn('disableDomains', true, false),
  modifyOriginServerInfo: cdn('modifyOriginServerInfo', true, false),
  modifyOriginConfInfo: cdn('modifyOriginConfInfo', true, false),
  listNodes: own('nodes:list', true),
  addNode: own('nodes:add', false),
  removeNode: own('nodes:remove', false),
  checkNode: own('nodes:check', false),
  listAccounts: own('accounts:list', true),
  createAccount: own('accounts:create', false),
  deleteAccount: own('accounts:delete', false),
  setAccountQuotas: own('accounts:setQuotas', false),
  listUsers: own('users:list', true),
  createUser: own('users:create', false),
  updateUser: own('users:update', false),
  deleteUser: own('users:delete', false),
  listGroups: own('groups:list', true),
  createGroup: own('groups:create', false),
  updateGroup: own('groups:update', false),
  deleteGroup: own('groups:delete', false),
  listPolicies: own('policies:list', true),
  createPolicy: own('policies:create', false),
  updatePolicy: own('policies:update', false),
  deletePolicy: own('policies:delete', false),
  attachPolicy: own('policies:attach', false),
  detachPolicy: own('policies:detach', false),
  listProjects: own('projects:list', true),
  createProject: own('projects:create', false),
  deleteProject: own('projects:delete', false),
  moveDomain: own('domains:move', false),
  listKeys: own('keys:list', true),
  createKey: own('keys:create', false),
  updateKey: own('keys:update', false),
  deleteKey: own('keys:delete', false),
  readAudit: own('audit:list', true),
} as const satisfies Record<string, ActionInfo>;

export type ActionKey = keyof typeof ACTIONS;

export const ALL_ACTIONS: readonly ActionInfo[] = Object.values(ACTIONS);
