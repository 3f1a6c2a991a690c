// GET /cachectl/v1/audit: who may read it (the account's own rows; the platform admin any account's),
// its filters, keyset paging and NDJSON export; retention pruning (several pruners at once); the
// --audit-reads switch; what is never recorded (unauthenticated calls); GET /cachectl/v1/tasks/:id.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestServer, addDomain } from '../support/test-server.js';
import { client, type Call } from '../support/signed-client.js';
import { startOrigin } from '../support/origin.js';
import { addUser, iamStoreOf } from '../support/iam-fixtures.js';
import { auditRows } from '../support/audit-rows.js';
import { AccountService } from '../../src/services/account-service.js';
import { SecretSealer } from '../../src/services/secret-sealer.js';
import { Call as ServiceCall } from '../../src/services/iam/call.js';
import { ACTIONS } from '../../src/services/iam/actions.js';
import { AuditService } from '../../src/services/audit-service.js';
import { insertAuditEvents, type AuditRow } from '../../src/store/repositories/audit-repository.js';

const s = await startTestServer();
const origin = await startOrigin();
after(async () => {
  await s.close();
  await origin.close();
});

const DAY = 86_400_000;
const tenant = await new AccountService(s.server.store.db, SecretSealer.none()).createAccount(ServiceCall.internal('', ACTIONS.createAccount), { name: 'tenant', user: 'boss' });
const tenantCall = client(s.server.url, { accessKey: tenant.accessKey, secretKey: tenant.secretKey });

/** A row of the account at `time`. */
const at = (accountId: string, time: number, over: Partial<AuditRow> = {}): AuditRow => ({
  time,
  account_id: accountId,
  user_id: null,
  user_name: 'u1',
  access_key: null,
  source_ip: '127.0.0.1',
  user_agent: 'test',
  request_id: 'r',
  action: 'cdn:configuration:refreshCache',
  resource: 'task/1',
  status: 200,
  error_code: null,
  ...over,
});

const page = (call: Call, query: Array<[string, string]>) => call('GET', '/cachectl/v1/audit', { query });

test('who may read the trail: the account administrator and an audit reader yes, a ReadOnly user no (CDN.0021); each account sees its own rows', async () => {
  await addDomain(tenantCall, 'www.tenant-audit.test', origin.port);
  const viewer = await addUser(iamStoreOf(s), s.accountId, { name: 'ro-viewer', policies: ['CDN ReadOnlyAccess'] });
  const auditor = await addUser(iamStoreOf(s), s.accountId, { name: 'auditor', policies: ['cachectl AuditReadOnlyAccess'] });
  const refused = await client(s.server.url, viewer)('GET', '/cachectl/v1/audit');
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error_code, 'CDN.0021');
  const byAuditor = await client(s.server.url, auditor)('GET', '/cachectl/v1/audit');
  assert.equal(byAuditor.status, 200, byAuditor.text);

  const own = await page(tenantCall, []);
  assert.equal(own.status, 200, own.text);
  assert.ok(own.json.events.length > 0);
  assert.ok(own.json.events.every((e: any) => e.account_id === tenant.accountId));
  assert.ok(own.json.events.some((e: any) => e.resource === 'domain/www.tenant-audit.test' && e.user_name === 'boss'));
  assert.equal((await s.call('POST', '/cachectl/v1/nodes/none/check')).status, 404);
  const admins = await page(s.call, [['limit', '1000']]);
  assert.ok(admins.json.events.some((e: any) => e.resource === 'node/none' && e.error_code === 'CDN.0003'));
  assert.ok(admins.json.events.every((e: any) => e.account_id === s.accountId), 'the admin account sees its own rows by default');
  // Only the platform admin names another account.
  const sneaky = await page(tenantCall, [['account', 'admin']]);
  assert.equal(sneaky.status, 403);
  assert.equal(sneaky.json.error_code, 'CDN.0004');
  const theirs = await page(s.call, [['account', 'tenant']]);
  assert.deepEqual(theirs.json.events, own.json.events);
  const all = await page(s.call, [['account', '*'], ['limit', '1000']]);
  assert.deepEqual(new Set(all.json.events.map((e: any) => e.account_id)), new Set([s.accountId, tenant.accountId]));
  assert.equal((await page(s.call, [['account', 'nobody']])).status, 400);
});

test('filters, keyset paging and the NDJSON export give the same rows, newest first', async () => {
  const base = Date.now() - 10 * DAY;
  const other = 'filters-account';
  const rows: AuditRow[] = [];
  for (let i = 0; i < 250; i++) {
    rows.push(
      at(other, base + i * 1000, {
        user_name: `u${i % 3}`,
        action: i % 2 === 0 ? 'cdn:configuration:refreshCache' : 'cachectl:nodes:add',
        resource: i % 5 === 0 ? `domain/d${i}.example.com` : `task/${i}`,
        status: i % 7 === 0 ? 403 : 200,
        error_code: i % 7 === 0 ? 'CDN.0021' : null,
      }),
    );
  }
  await insertAuditEvents(s.server.store.db, rows);
  // The platform admin reads that account through account=*, narrowed to its rows by time.
  const q = (extra: Array<[string, string]>) => {
    const own = new Set(extra.map(([k]) => k));
    return [['account', '*'], ...(own.has('from') ? [] : [['from', String(base)], ['to', String(base + 250_000)]]), ...extra] as Array<[string, string]>;
  };
  const every = async (extra: Array<[string, string]>, limit: number) => {
    const out: any[] = [];
    let marker: string | undefined;
    for (;;) {
      const res = await page(s.call, q([...extra, ['limit', String(limit)], ...(marker ? [['marker', marker] as [string, string]] : [])]));
      assert.equal(res.status, 200, res.text);
      out.push(...res.json.events);
      marker = res.json.next_marker ?? undefined;
      if (!marker) return out;
    }
  };
  const want = (f: (r: AuditRow, i: number) => boolean) => rows.map((r, i) => ({ r, i })).filter(({ r, i }) => f(r, i)).map(({ r }) => r.time).reverse();
  const times = (events: any[]) => events.map((e) => e.time);

  assert.deepEqual(times(await every([], 7)), want(() => true));
  assert.deepEqual(times(await every([['user', 'u1']], 1000)), want((r) => r.user_name === 'u1'));
  assert.deepEqual(times(await every([['action', 'cachectl:nodes:add']], 50)), want((r) => r.action === 'cachectl:nodes:add'));
  assert.deepEqual(times(await every([['action', 'cdn:*']], 50)), want((r) => r.action.startsWith('cdn:')));
  assert.deepEqual(times(await every([['resource', 'domain/*']], 13)), want((r) => r.resource.startsWith('domain/')));
  assert.deepEqual(times(await every([['resource', 'task/12']], 13)), want((r) => r.resource === 'task/12'));
  assert.deepEqual(times(await every([['outcome', 'failure']], 10)), want((r) => r.status >= 400));
  assert.deepEqual(times(await every([['outcome', 'success']], 100)), want((r) => r.status < 400));
  assert.deepEqual(times(await every([['outcome', '403'], ['user', 'u0']], 100)), want((r) => r.status === 403 && r.user_name === 'u0'));
  // A '%' or '_' in a prefix is a character, not a wildcard.
  assert.deepEqual(times(await every([['resource', 'dom_in/*']], 100)), []);
  const window = await every([['from', String(base + 10_000)], ['to', String(base + 20_000)]], 100);
  assert.deepEqual(times(window), want((r) => r.time >= base + 10_000 && r.time < base + 20_000));

  const ndjson = await request(`${s.server.url}/cachectl/v1/audit?x`, { method: 'GET' }).then((r) => r.body.text()); // unsigned: refused
  assert.match(ndjson, /APIGW/);
  const exported = await page(s.call, q([['format', 'ndjson'], ['outcome', 'failure']]));
  assert.equal(exported.status, 200);
  assert.match(String(exported.headers['content-type']), /ndjson/);
  const lines = exported.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, await every([['outcome', 'failure']], 1000));

  for (const bad of [[['limit', '0']], [['limit', '1001']], [['outcome', 'maybe']], [['marker', 'x']], [['from', 'yesterday']], [['format', 'csv']], [['from', '10'], ['to', '5']]] as Array<Array<[string, string]>>) {
    const res = await page(s.call, bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.equal(res.json.error_code, 'CDN.0001');
  }
});

test('retention: rows older than the retention go in batches, with several pruners at once; 0 keeps everything', async () => {
  const db = s.server.store.db;
  const account = 'retention-account';
  const now = Date.now();
  const old = Array.from({ length: 2500 }, (_, i) => at(account, now - 181 * DAY - i));
  const recent = Array.from({ length: 30 }, (_, i) => at(account, now - 179 * DAY + i));
  for (let i = 0; i < old.length; i += 500) await insertAuditEvents(db, old.slice(i, i + 500));
  await insertAuditEvents(db, recent);
  const count = async () => (await db.selectFrom('audit_events').select('time').where('account_id', '=', account).execute()).map((r) => Number(r.time));

  assert.equal(await new AuditService(db, { retentionDays: 0, reads: false }).prune(now), 0);
  assert.equal((await count()).length, 2530);
  const pruners = [1, 2, 3].map(() => new AuditService(db, { retentionDays: 180, reads: false }));
  const deleted = await Promise.all(pruners.map((p) => p.prune(now)));
  assert.equal(deleted.reduce((a, b) => a + b, 0), 2500, `deleted ${deleted}`);
  const left = await count();
  assert.equal(left.length, 30);
  assert.ok(left.every((t) => t >= now - 180 * DAY));
});

test('unauthenticated calls leave no row; a refused platform route (CDN.0004) does', async () => {
  const before = (await auditRows(s.server)).length;
  const unsigned = await request(`${s.server.url}/v1.0/cdn/content/refresh-tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"refresh_task":{"urls":["http://x.test/"]}}' });
  await unsigned.body.text();
  assert.equal(unsigned.statusCode, 401);
  const forged = client(s.server.url, { accessKey: tenant.accessKey, secretKey: 'not-the-secret-key-at-all' });
  assert.equal((await forged('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://x.test/'] } } })).status, 401);
  assert.equal((await auditRows(s.server)).length, before);

  const res = await tenantCall('POST', '/cachectl/v1/nodes', { body: { name: 'mine', driver: 'builtin', traffic_url: 'http://127.0.0.1:9/', control_url: 'http://127.0.0.1:9/' } });
  assert.equal(res.status, 403);
  const rows = await auditRows(s.server);
  assert.equal(rows.length, before + 1);
  const last = rows[rows.length - 1];
  assert.deepEqual([last.account_id, last.user_name, last.action, last.resource, Number(last.status), last.error_code], [tenant.accountId, 'boss', 'cachectl:nodes:add', 'node/mine', 403, 'CDN.0004']);
});

test('GET /cachectl/v1/tasks/:id: the task with its project and creator; the Huawei detail unchanged; another account gets 404', async () => {
  const made = await tenantCall('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.tenant-audit.test/x'] } } });
  assert.equal(made.status, 200, made.text);
  const id = made.json.refresh_task;
  const own = await tenantCall('GET', `/cachectl/v1/tasks/${id}`);
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.task.id, id);
  assert.equal(own.json.task.enterprise_project_id, '0');
  assert.deepEqual(own.json.task.created_by, { user: 'boss', access_key: tenant.accessKey });
  const huawei = await tenantCall('GET', `/v1.0/cdn/historytasks/${id}/detail`);
  assert.equal(huawei.status, 200);
  assert.equal(huawei.json.created_by, undefined);
  assert.ok(!huawei.text.includes('created_by') && !huawei.text.includes(tenant.accessKey));
  const other = await s.call('GET', `/cachectl/v1/tasks/${id}`);
  assert.equal(other.status, 404);
  assert.equal((await tenantCall('GET', '/cachectl/v1/tasks/nope')).status, 404);
  // A user whose policies do not name queryCacheHistoryTask is refused before anything is read.
  const auditOnly = await addUser(iamStoreOf(s), tenant.accountId, { name: 'audit-only', policies: ['cachectl AuditReadOnlyAccess'] });
  const refused = await client(s.server.url, auditOnly)('GET', `/cachectl/v1/tasks/${id}`);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error_code, 'CDN.0021');
  const unsigned = await request(`${s.server.url}/cachectl/v1/tasks/${id}`);
  assert.equal(unsigned.statusCode, 401);
  await unsigned.body.text();
  const row = (await auditRows(s.server)).find((r) => r.resource === `task/${id}` && r.account_id === tenant.accountId);
  assert.equal(row?.user_name, 'boss');
});

test('--audit-reads: successful reads are recorded too (after the answer)', async () => {
  const r = await startTestServer({ 'audit-reads': 'true' });
  try {
    const res = await r.call('GET', '/v1.0/cdn/domains');
    assert.equal(res.status, 200);
    let rows = await auditRows(r.server);
    // Written once the answer is sent: wait for it.
    for (let i = 0; i < 200 && !rows.some((x) => x.action === 'cdn:configuration:queryDomains'); i++) {
      await new Promise((done) => setTimeout(done, 10));
      rows = await auditRows(r.server);
    }
    const read = rows.find((x) => x.action === 'cdn:configuration:queryDomains');
    assert.deepEqual([read?.resource, Number(read?.status), read?.error_code], ['domain/', 200, null]);
  } finally {
    await r.close();
  }
  // Without the switch (this file's server) the same read leaves nothing.
  const before = (await auditRows(s.server)).length;
  assert.equal((await s.call('GET', '/v1.0/cdn/domains')).status, 200);
  assert.equal((await auditRows(s.server)).length, before);
});

test('logins: a refused one names the user as sent (at most 64 characters) and the account only if it exists; throttled attempts are not recorded', async () => {
  const login = async (account: string, user: string, password: string) => {
    const body = { auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: account } } } } } };
    const res = await request(`${s.server.url}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.body.text();
    return res.statusCode;
  };
  const long = 'x'.repeat(100);
  assert.equal(await login('nowhere', long, 'secret-password-1'), 401);
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push(await login('tenant', 'boss', `wrong-password-${i}`));
  assert.ok(statuses.includes(429), `throttled at last: ${statuses}`);
  const rows = (await auditRows(s.server)).filter((r) => r.action === 'iam:tokens:create');
  const unknown = rows.find((r) => r.user_name === long.slice(0, 64));
  assert.deepEqual([unknown?.account_id, unknown?.resource, Number(unknown?.status), unknown?.error_code], [null, `user/${long.slice(0, 64)}`, 401, 'APIGW.0301']);
  const boss = rows.filter((r) => r.user_name === 'boss');
  assert.equal(boss.length, statuses.filter((x) => x === 401).length);
  assert.ok(boss.every((r) => r.account_id === tenant.accountId && Number(r.status) === 401));
  assert.ok(!JSON.stringify(rows).includes('wrong-password') && !JSON.stringify(rows).includes('secret-password'));
});

test('a token asked for another account than the user\'s: 401, no token stored, the refusal on the trail', async () => {
  const account = await new AccountService(s.server.store.db, SecretSealer.none()).createAccount(ServiceCall.internal('', ACTIONS.createAccount), { name: 'scoped', user: 'owner', password: 'owner-password-1' });
  const tokensBefore = (await s.server.store.db.selectFrom('tokens').select('digest').execute()).length;
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: 'owner', password: 'owner-password-1', domain: { name: 'scoped' } } } }, scope: { domain: { name: 'admin' } } } };
  const res = await request(`${s.server.url}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.body.text();
  assert.equal(res.statusCode, 401, text);
  assert.equal(res.headers['x-subject-token'], undefined);
  assert.equal((await s.server.store.db.selectFrom('tokens').select('digest').execute()).length, tokensBefore);
  const rows = (await auditRows(s.server)).filter((r) => r.action === 'iam:tokens:create' && r.account_id === account.accountId);
  assert.deepEqual(
    rows.map((r) => [r.user_name, Number(r.status)]),
    [['owner', 401]],
  );
});
