// What a user may do (Permissions.decide) from the policies attached to its groups: action wildcards, Deny
// over Allow, domain resources with wildcards, g:EnterpriseProjectId conditions, attachments per project,
// CDN.0020 (allowed in another project) against CDN.0021 (allowed nowhere), and the optimistic coarse check
// made before a call names its domain or project. Pure: documents in, verdicts out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachectlError } from '../../src/errors.js';
import { ACTIONS, ALL_ACTIONS, type ActionInfo } from '../../src/services/iam/actions.js';
import { Call } from '../../src/services/iam/call.js';
import { Permissions, type Grant, type Target } from '../../src/services/iam/permissions.js';
import { parsePolicyDocument } from '../../src/services/iam/policy-document.js';
import { SYSTEM_POLICIES, systemPolicy } from '../../src/services/iam/system-policies.js';

interface StatementJson {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource?: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

/** One policy attached for every project ('*') or for one. */
const grant = (statements: StatementJson[], project = '*'): Grant => ({ document: parsePolicyDocument({ Version: '1.1', Statement: statements }), project });
const allow = (Action: string[], more: Partial<StatementJson> = {}): StatementJson => ({ Effect: 'Allow', Action, ...more });
const deny = (Action: string[], more: Partial<StatementJson> = {}): StatementJson => ({ Effect: 'Deny', Action, ...more });
const of = (...grants: Grant[]) => Permissions.of(grants);

const { refreshCache, preheatCache, queryDomains, queryCacheHistoryTask, queryQuota, deleteDomains, createDomains, createUser, listNodes } = ACTIONS;

/** The actions allowed with no domain and project named (the coarse check), by name. */
const coarseAllowed = (p: Permissions) => ALL_ACTIONS.filter((a) => p.decide(a) === 'allow').map((a) => a.name);

test('action wildcards: cdn:*:* is every CDN action and none of cachectl’s; query* only the queries; * everything', () => {
  const cdnAll = of(grant([allow(['cdn:*:*'])]));
  assert.deepEqual(coarseAllowed(cdnAll), ALL_ACTIONS.filter((a) => a.name.startsWith('cdn:')).map((a) => a.name));
  assert.equal(cdnAll.decide(createUser), 'action');
  assert.equal(cdnAll.decide(listNodes), 'action');

  const queries = of(grant([allow(['cdn:configuration:query*'])]));
  assert.deepEqual(coarseAllowed(queries), ['cdn:configuration:queryCacheHistoryTask', 'cdn:configuration:queryRefreshAndPreheatHistoryTask', 'cdn:configuration:queryQuota', 'cdn:configuration:queryDomains']);

  const everything = of(grant([allow(['*'])]));
  assert.deepEqual(coarseAllowed(everything), ALL_ACTIONS.map((a) => a.name));

  // '?' is one character; matching ignores case, as Huawei's service does.
  const one = of(grant([allow(['cdn:configuration:?reheatCache', 'CDN:Configuration:REFRESHCACHE'])]));
  assert.deepEqual(coarseAllowed(one), ['cdn:configuration:refreshCache', 'cdn:configuration:preheatCache']);
  // A wildcard in the middle segment.
  assert.deepEqual(coarseAllowed(of(grant([allow(['cdn:*:queryQuota'])]))), ['cdn:configuration:queryQuota']);
});

test('nothing allowed is refused: no policies, or policies for other actions', () => {
  assert.deepEqual(coarseAllowed(of()), []);
  assert.equal(of().decide(refreshCache, { domain: 'www.example.com', project: '0' }), 'action');
  assert.equal(of(grant([allow(['cdn:configuration:queryDomains'])])).decide(refreshCache, { domain: 'www.example.com', project: '0' }), 'action');
});

test('Deny wins over Allow, in one policy or across policies, in whichever order', () => {
  const t: Target = { domain: 'www.example.com', project: '0' };
  const admin = grant([allow(['cdn:*:*'])]);
  const noDelete = grant([deny(['cdn:configuration:deleteDomains'])]);
  for (const p of [of(admin, noDelete), of(noDelete, admin), of(grant([deny(['cdn:configuration:deleteDomains']), allow(['cdn:*:*'])]))]) {
    assert.equal(p.decide(deleteDomains), 'action', 'refused already by the coarse check');
    assert.equal(p.decide(deleteDomains, t), 'action');
    assert.equal(p.decide(createDomains, t), 'allow');
    assert.equal(p.decide(refreshCache, t), 'allow');
  }
  // A Deny with a wildcard takes every action it matches.
  const readOnly = of(admin, grant([deny(['cdn:configuration:*Domains'])]));
  assert.deepEqual(
    [queryDomains, createDomains, deleteDomains, refreshCache].map((a) => readOnly.decide(a, t)),
    ['action', 'action', 'action', 'allow'],
  );
  // A Deny alone allows nothing.
  assert.deepEqual(coarseAllowed(of(noDelete)), []);
});

test('domain resources: *.static.example.com allows a.static.example.com, not static.example.com nor a.example.com', () => {
  const p = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:*.static.example.com'] })]));
  const on = (domain: string) => p.decide(refreshCache, { domain, project: '0' });
  assert.equal(on('a.static.example.com'), 'allow');
  assert.equal(on('b.a.static.example.com'), 'allow', '* spans labels');
  assert.equal(on('A.Static.Example.COM'), 'allow', 'domain names ignore case');
  assert.equal(on('static.example.com'), 'action');
  assert.equal(on('a.example.com'), 'action');
  assert.equal(on('astatic.example.com'), 'action');
  assert.equal(on('a.static.example.com.evil.test'), 'action');
  // The coarse check, before the body names the domains: allowed (the fine check on each domain follows).
  assert.equal(p.decide(refreshCache), 'allow');
  // Preheat is not in the policy, on any domain.
  assert.equal(p.decide(preheatCache), 'action');
  assert.equal(p.decide(preheatCache, { domain: 'a.static.example.com', project: '0' }), 'action');
});

test("domain resources: '?', several patterns, '*', and the exact name; actions without a domain ignore resources", () => {
  const p = of(grant([allow(['cdn:configuration:refreshCache', 'cdn:configuration:queryCacheHistoryTask'], { Resource: ['cdn:*:*:domain:img?.example.com', 'CDN:*:*:domain:www.example.com'] })]));
  const on = (domain: string) => p.decide(refreshCache, { domain, project: '0' });
  assert.deepEqual(['img1.example.com', 'img12.example.com', 'img.example.com', 'www.example.com', 'www.example.com.cn'].map(on), ['allow', 'action', 'action', 'allow', 'action']);
  // History queries take no resource (huawei-cdn-api.md §18.3): the statement's domains do not narrow them.
  assert.equal(p.decide(queryCacheHistoryTask, { project: '0' }), 'allow');
  const any = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:www.example.com', '*'] })]));
  assert.equal(any.decide(refreshCache, { domain: 'other.example.org', project: '0' }), 'allow', "'*' among the resources: every domain");
});

test('Deny on a domain pattern: refused on those domains only, and not before the domain is known', () => {
  const p = of(grant([allow(['cdn:*:*'])]), grant([deny(['cdn:configuration:refreshCache', 'cdn:configuration:preheatCache'], { Resource: ['CDN:*:*:domain:*.secret.example.com'] })]));
  assert.equal(p.decide(refreshCache), 'allow', 'the coarse check does not refuse what a Deny may not cover');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: '0' }), 'allow');
  assert.equal(p.decide(refreshCache, { domain: 'x.secret.example.com', project: '0' }), 'action');
  assert.equal(p.decide(preheatCache, { domain: 'x.secret.example.com', project: '0' }), 'action');
  assert.equal(p.decide(queryDomains, { domain: 'x.secret.example.com', project: '0' }), 'allow');
});

test('conditions on g:EnterpriseProjectId: each operator, on Allow', () => {
  const cases: Array<[string, string[], Record<string, boolean>]> = [
    ['StringEquals', ['Prod'], { Prod: true, prod: false, 'Prod-2': false, '0': false }],
    ['StringNotEquals', ['Prod'], { Prod: false, prod: true, '0': true }],
    ['StringEqualsIgnoreCase', ['Prod'], { Prod: true, prod: true, PROD: true, 'prod-2': false }],
    ['StringNotEqualsIgnoreCase', ['Prod'], { Prod: false, prod: false, test: true }],
    ['StringMatch', ['prod-*', 'te?t'], { 'prod-eu': true, 'PROD-eu': false, prod: false, test: true, tent: true, teest: false }],
    ['StringLike', ['prod-*'], { 'prod-eu': true, prod: false }],
    ['StringNotMatch', ['prod-*'], { 'prod-eu': false, staging: true }],
    ['StringNotLike', ['prod-*', '0'], { 'prod-eu': false, '0': false, staging: true }],
    ['StringStartWith', ['prod', 'eu-'], { prod: true, 'prod-eu': true, 'eu-prod': true, 'my-prod': false }],
    ['StringEndWith', ['-eu'], { 'prod-eu': true, 'eu-prod': false, '-eu': true }],
  ];
  for (const [operator, values, expected] of cases) {
    const p = of(grant([allow(['cdn:configuration:refreshCache'], { Condition: { [operator]: { 'g:EnterpriseProjectId': values } } })]));
    for (const [project, allowed] of Object.entries(expected)) {
      assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project }), allowed ? 'allow' : 'project', `${operator} ${JSON.stringify(values)} on project '${project}'`);
    }
    assert.equal(p.decide(refreshCache), 'allow', `${operator}: the coarse check does not know the project yet`);
  }
});

test('conditions: several in one statement must all hold; a Deny with a condition refuses in those projects only', () => {
  const both = of(grant([allow(['cdn:*:*'], { Condition: { StringStartWith: { 'g:EnterpriseProjectId': ['prod'] }, StringNotEquals: { 'g:EnterpriseProjectId': ['prod-legacy'] } } })]));
  assert.deepEqual(['prod-eu', 'prod-legacy', 'staging'].map((project) => both.decide(refreshCache, { project })), ['allow', 'project', 'project']);
  const noProdPurge = of(grant([allow(['cdn:*:*'])]), grant([deny(['cdn:configuration:refreshCache'], { Condition: { StringEquals: { 'g:EnterpriseProjectId': ['prod'] } } })]));
  assert.equal(noProdPurge.decide(refreshCache, { domain: 'www.example.com', project: 'prod' }), 'project');
  assert.equal(noProdPurge.decide(refreshCache, { domain: 'www.example.com', project: 'staging' }), 'allow');
  assert.equal(noProdPurge.decide(refreshCache), 'allow', 'not refused before the project is known');
  assert.equal(noProdPurge.decide(preheatCache, { domain: 'www.example.com', project: 'prod' }), 'allow');
});

test('attachments per project: allowed in the attached project, CDN.0020 in another, CDN.0021 where no project has it', () => {
  const p = of(grant([allow(['cdn:configuration:refreshCache', 'cdn:configuration:queryCacheHistoryTask'])], 'p1'), grant([allow(['cdn:configuration:queryDomains'])]));
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: 'p1' }), 'allow');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: 'p2' }), 'project', 'allowed elsewhere: CDN.0020');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: '0' }), 'project');
  assert.equal(p.decide(preheatCache, { domain: 'www.example.com', project: 'p1' }), 'action', 'allowed nowhere: CDN.0021');
  assert.equal(p.decide(queryDomains, { domain: 'www.example.com', project: 'p2' }), 'allow', 'attached for every project');
  assert.equal(p.decide(refreshCache), 'allow', 'the coarse check: allowed in some project');
  assert.deepEqual(p.projectsFor(refreshCache, ['0', 'p1', 'p2']), ['p1']);
  assert.deepEqual(p.projectsFor(queryDomains, ['0', 'p1', 'p2']), ['0', 'p1', 'p2']);
  assert.deepEqual(p.projectsFor(preheatCache, ['0', 'p1', 'p2']), []);
  // The same policy attached for two projects.
  const two = of(grant([allow(['cdn:configuration:refreshCache'])], 'p1'), grant([allow(['cdn:configuration:refreshCache'])], 'p2'));
  assert.deepEqual(two.projectsFor(refreshCache, ['0', 'p1', 'p2', 'p3']), ['p1', 'p2']);
});

test('CDN.0020 or CDN.0021 when a domain pattern and a project both narrow the Allow', () => {
  const p = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:*.static.example.com'] })], 'p1'));
  assert.equal(p.decide(refreshCache, { domain: 'a.static.example.com', project: 'p1' }), 'allow');
  assert.equal(p.decide(refreshCache, { domain: 'a.static.example.com', project: 'p2' }), 'project', 'the domain is allowed, in another project');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: 'p1' }), 'action', 'that domain is allowed in no project');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: 'p2' }), 'action');
});

test('the coarse check is optimistic for what the call does not name yet, and the fine check decides', () => {
  const p = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:www.example.com'], Condition: { StringEquals: { 'g:EnterpriseProjectId': ['p1'] } } })]));
  assert.equal(p.decide(refreshCache), 'allow');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com' }), 'allow', 'domain known, project not yet');
  assert.equal(p.decide(refreshCache, { domain: 'img.example.com' }), 'action');
  assert.equal(p.decide(refreshCache, { project: 'p1' }), 'allow', 'project known (a listing), domain not');
  assert.equal(p.decide(refreshCache, { project: 'p2' }), 'project');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: 'p1' }), 'allow');
  assert.equal(p.decide(refreshCache, { domain: 'www.example.com', project: 'p2' }), 'project');
  // A Deny that covers every domain and project refuses at once.
  assert.equal(of(grant([allow(['*'])]), grant([deny(['cdn:configuration:refreshCache'])])).decide(refreshCache), 'action');
});

test('a verdict does not depend on the actions asked before (the per-action cache)', () => {
  const p = of(grant([allow(['cdn:configuration:query*'])]), grant([deny(['cdn:configuration:queryQuota'])]));
  const first = ALL_ACTIONS.map((a) => p.decide(a, { project: '0' }));
  const again = [...ALL_ACTIONS].reverse().map((a) => p.decide(a, { project: '0' })).reverse();
  assert.deepEqual(again, first);
  assert.equal(p.decide(queryQuota), 'action');
  assert.equal(p.decide(queryDomains), 'allow');
});

test('the administrator may do everything, whatever is attached; the system policies allow what their names say', () => {
  const admin = Permissions.administrator();
  assert.ok(admin.administrator);
  for (const a of ALL_ACTIONS) assert.equal(admin.decide(a, { domain: 'www.example.com', project: 'any' }), 'allow', a.name);
  assert.deepEqual(admin.projectsFor(refreshCache, ['0', 'p1']), ['0', 'p1']);
  assert.equal(of().administrator, false);

  const system = (name: string) => of({ document: systemPolicy(name)!.document, project: '*' });
  assert.equal(SYSTEM_POLICIES.length, new Set(SYSTEM_POLICIES.map((p) => p.id)).size);
  assert.deepEqual(coarseAllowed(system('CDN Administrator')), ALL_ACTIONS.filter((a) => a.name.startsWith('cdn:')).map((a) => a.name));
  assert.deepEqual(coarseAllowed(system('CDN RefreshAndPreheatAccess')), [
    'cdn:configuration:refreshCache',
    'cdn:configuration:preheatCache',
    'cdn:configuration:queryCacheHistoryTask',
    'cdn:configuration:queryRefreshAndPreheatHistoryTask',
  ]);
  assert.deepEqual(coarseAllowed(system('cdn readonlyaccess')), ALL_ACTIONS.filter((a) => a.name.startsWith('cdn:') && a.read).map((a) => a.name), 'CDN ReadOnlyAccess: every CDN read');
  assert.deepEqual(coarseAllowed(system('cachectl AuditReadOnlyAccess')), ['cachectl:audit:list']);
  assert.equal(systemPolicy('system:cdn-administrator')?.name, 'CDN Administrator');
  assert.equal(systemPolicy('no such policy'), undefined);
});

test('Call.check: CDN.0021 naming the action and domain, CDN.0020 naming the project; nothing thrown when allowed', () => {
  const permissions = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:*.static.example.com'] })], 'p1'));
  const actor = { accountId: 'a', userId: 'u', userName: 'ci', accessKey: 'AK', sourceIp: '127.0.0.1', userAgent: 'test', requestId: 'r' };
  const call = new Call(actor, permissions, refreshCache);
  call.check({});
  call.check({ domain: 'a.static.example.com', project: 'p1' });
  const code = (target: Target, action?: ActionInfo): CachectlError => {
    try {
      call.check(target, action);
    } catch (err) {
      assert.ok(err instanceof CachectlError);
      return err;
    }
    assert.fail(`not refused: ${JSON.stringify(target)}`);
  };
  const wrongDomain = code({ domain: 'www.example.com', project: 'p1' });
  assert.deepEqual([wrongDomain.code, wrongDomain.statusCode], ['CDN.0021', 403]);
  assert.match(wrongDomain.message, /cdn:configuration:refreshCache on domain www\.example\.com/);
  const wrongProject = code({ domain: 'a.static.example.com', project: 'p2' });
  assert.deepEqual([wrongProject.code, wrongProject.statusCode], ['CDN.0020', 403]);
  assert.match(wrongProject.message, /enterprise project p2: cdn:configuration:refreshCache on domain a\.static\.example\.com/);
  const otherAction = code({}, preheatCache);
  assert.equal(otherAction.code, 'CDN.0021');
  assert.match(otherAction.message, /cdn:configuration:preheatCache/);
});

test('remembered verdicts: one per action, domain and project, and still right past the memo’s size', () => {
  // The domain of one question is the project of the other: a memo keyed loosely would answer both alike.
  const p = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:a.example.com'] })], 'a.example.com'));
  assert.equal(p.decide(refreshCache, { domain: 'a.example.com' }), 'allow');
  assert.equal(p.decide(refreshCache, { project: 'a.example.com' }), 'allow');
  assert.equal(p.decide(refreshCache, { domain: 'b.example.com' }), 'action');
  assert.equal(p.decide(refreshCache, { project: 'b.example.com' }), 'project');
  assert.equal(p.decide(preheatCache, { domain: 'a.example.com' }), 'action');
  const wide = of(grant([allow(['cdn:configuration:refreshCache'], { Resource: ['CDN:*:*:domain:*.static.example.com'] })]));
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 3000; i++) {
      assert.equal(wide.decide(refreshCache, { domain: `h${i}.static.example.com`, project: '0' }), 'allow');
      assert.equal(wide.decide(refreshCache, { domain: `h${i}.example.com`, project: '0' }), 'action');
    }
  }
});
