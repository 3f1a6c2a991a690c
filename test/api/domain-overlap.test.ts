// Domains of different accounts may not overlap (a wildcard covering another account's name, or a name
// under another account's wildcard), nor may anyone claim a public suffix; the task check follows the
// edges' rule (the most specific domain serves a host) also for overlapping rows stored before that.
// Real server, real SQLite file (and a real PostgreSQL for the race), built-in edges, real origins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { request } from 'undici';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, type ApiResponse, type Call } from '../support/signed-client.js';
import { insertDomain } from '../../src/store/repositories/domain-repository.js';
import { freshDatabase } from '../support/postgres.js';

let s: TestServer;
let originA: TestOrigin;
let originB: TestOrigin;
let accountIds: Record<string, string>;
let a: Call;
let b: Call;

async function newAccount(name: string): Promise<Call> {
  const res = await s.call('POST', '/cachectl/v1/accounts', { body: { name } });
  assert.equal(res.status, 200, res.text);
  accountIds[name] = res.json.account.id;
  return client(s.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key });
}

before(async () => {
  s = await startTestServer();
  originA = await startOrigin();
  originB = await startOrigin();
  accountIds = {};
  a = await newAccount('tenant-a');
  b = await newAccount('tenant-b');
});
after(async () => {
  await s?.close();
  await originA?.close();
  await originB?.close();
});

const createDomain = (call: Call, name: string, port: number) =>
  call('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: port }] } },
  });

function assertRefused(res: ApiResponse, code: string): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.error_code, code, res.text);
  assert.equal(res.json.error.error_code, code, res.text);
}

async function edgeGet(edge: string, host: string, path: string) {
  const res = await request(edge + path, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text(), cache: res.headers['x-cache'] };
}

const refresh = (call: Call, urls: string[]) => call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
const preheat = (call: Call, urls: string[]) => call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls } } });
const historyTotal = async (call: Call) => (await call('GET', '/v1.0/cdn/historytasks', { query: [['page_size', '100'], ['page_number', '1']] })).json.total;
const domainNames = async (call: Call) =>
  ((await call('GET', '/v1.0/cdn/domains', { query: [['page_size', '100'], ['page_number', '1']] })).json.domains as Array<{ domain_name: string }>).map((d) => d.domain_name).sort();

test("A owns www.victim.test: B may not add *.victim.test, and B's refresh of A's host is refused while A's object stays cached", async () => {
  await addDomain(a, 'www.victim.test', originA.port);
  originA.put('/page');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, 'www.victim.test', '/page')).status, 200);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, 'www.victim.test', '/page')).cache, 'HIT');

  assertRefused(await createDomain(b, '*.victim.test', originB.port), 'CDN.0120');
  assert.deepEqual(await domainNames(b), [], 'nothing was created for B');

  assertRefused(await refresh(b, ['http://www.victim.test/page']), 'CDN.0108');
  assertRefused(await preheat(b, ['http://www.victim.test/page']), 'CDN.0108');
  assert.equal(await historyTotal(b), 0, 'no task was created for B');
  for (const e of s.server.edges) {
    const got = await edgeGet(e.trafficUrl, 'www.victim.test', '/page');
    assert.equal(got.cache, 'HIT', `A's object is still cached on ${e.name}`);
    assert.equal(got.body, '/page v1');
  }
  assert.equal(originA.hits('/page').full, s.server.edges.length, 'the origin was asked once per edge, never again');
});

test("A owns *.corp-a.test: B may not add shop.corp-a.test, and that host's traffic still goes to A's origin", async () => {
  await addDomain(a, '*.corp-a.test', originA.port);
  originA.put('/who');
  originB.put('/who');
  assertRefused(await createDomain(b, 'shop.corp-a.test', originB.port), 'CDN.0120');
  assertRefused(await createDomain(b, 'x.y.corp-a.test', originB.port), 'CDN.0120');
  assert.deepEqual(await domainNames(b), []);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, 'shop.corp-a.test', '/who')).status, 200);
  assert.equal(originA.hits('/who').full, s.server.edges.length);
  assert.equal(originB.hits('/who').full, 0, "B's origin never saw the host's traffic");
  // The bare name is not under the wildcard (the edges' rule): it stays free for anyone.
  assert.equal((await createDomain(b, 'corp-a.test', originB.port)).status, 200);
});

test('wildcards of different accounts may not cover one another, in either direction; within one account they may', async () => {
  assert.equal((await createDomain(a, '*.a-wild.test', originA.port)).status, 200);
  assertRefused(await createDomain(b, '*.x.a-wild.test', originB.port), 'CDN.0120');
  assertRefused(await createDomain(b, '*.deep.x.a-wild.test', originB.port), 'CDN.0120');
  assert.equal((await createDomain(b, '*.y.b-wild.test', originB.port)).status, 200);
  assertRefused(await createDomain(a, '*.b-wild.test', originA.port), 'CDN.0120');
  assertRefused(await createDomain(a, 'www.y.b-wild.test', originA.port), 'CDN.0120');
  assert.equal((await createDomain(a, '*.x.a-wild.test', originA.port)).status, 200, 'the same account may nest its own wildcards');
  assertRefused(await createDomain(a, '*.a-wild.test', originA.port), 'CDN.0101');
  assertRefused(await createDomain(b, '*.a-wild.test', originB.port), 'CDN.0120');
});

test('within one account overlap stays allowed and the most specific domain serves the host', async () => {
  const originA2 = await startOrigin();
  try {
    await addDomain(a, '*.mine.test', originA.port);
    await addDomain(a, 'www.mine.test', originA2.port);
    originA.put('/which');
    originA2.put('/which');
    const edge = s.server.edges[0].trafficUrl;
    assert.equal((await edgeGet(edge, 'www.mine.test', '/which')).status, 200);
    assert.deepEqual([originA.hits('/which').full, originA2.hits('/which').full], [0, 1], 'the exact name wins');
    assert.equal((await edgeGet(edge, 'img.mine.test', '/which')).status, 200);
    assert.deepEqual([originA.hits('/which').full, originA2.hits('/which').full], [1, 1], 'other hosts go to the wildcard');
    const res = await refresh(a, ['http://www.mine.test/which', 'http://img.mine.test/which']);
    assert.equal(res.status, 200, res.text);
  } finally {
    await originA2.close();
  }
});

/** Stores a domain row as a database created before overlaps were refused may hold it. */
async function insertOldRow(account: string, name: string, port: number): Promise<void> {
  const now = Date.now();
  await insertDomain(s.server.store.db, {
    id: crypto.randomBytes(16).toString('hex'),
    account_id: accountIds[account],
    name,
    business_type: 'web',
    service_area: 'mainland_china',
    status: 'online',
    sources: JSON.stringify([{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: port, https_port: 443 }]),
    status_detail: '',
    create_time: now,
    modify_time: now,
  });
}

test("overlapping rows from before the fix: a caller's wildcard does not reach a host another account holds more specifically", async () => {
  await addDomain(a, 'www.legacy.test', originA.port);
  await insertOldRow('tenant-b', '*.legacy.test', originB.port);
  assertRefused(await refresh(b, ['http://www.legacy.test/x']), 'CDN.0108');
  assertRefused(await refresh(b, ['http://www.legacy.test/']), 'CDN.0108');
  const before = await historyTotal(b);
  assertRefused(await refresh(b, ['http://other.legacy.test/x', 'http://www.legacy.test/x']), 'CDN.0108');
  assert.equal(await historyTotal(b), before, 'a task with one foreign URL is refused whole');
  const own = await refresh(b, ['http://other.legacy.test/x']);
  assert.equal(own.status, 200, `B's wildcard still covers the hosts nobody else holds: ${own.text}`);

  // Reverse: A's wildcard, B's exact name under it. The edges serve the host from B's domain.
  await addDomain(a, '*.old-corp.test', originA.port);
  await insertOldRow('tenant-b', 'shop.old-corp.test', originB.port);
  assertRefused(await refresh(a, ['http://shop.old-corp.test/x']), 'CDN.0108');
  assert.equal((await refresh(a, ['http://www.old-corp.test/x'])).status, 200);
  assert.equal((await refresh(b, ['http://shop.old-corp.test/x'])).status, 200);
});

test('public suffixes: no wildcard directly under one, and no bare suffix as a name (CDN.0127)', async () => {
  for (const name of ['*.com', '*.test', '*.co.uk', '*.xn--p1ai', 'co.uk', 'com']) {
    assertRefused(await createDomain(a, name, originA.port), 'CDN.0127');
  }
  assert.ok(!(await domainNames(a)).some((n) => ['*.com', '*.test', '*.co.uk', '*.xn--p1ai', 'co.uk', 'com'].includes(n)), 'none was created');
  // One label more is a registrable name: its owner may take its wildcard.
  for (const name of ['*.suffix-ok.test', '*.shop.co.uk', 'shop2.co.uk']) assert.equal((await createDomain(a, name, originA.port)).status, 200, name);
});

test('on PostgreSQL, overlapping names created at the same moment by two accounts: exactly one of each pair is kept', async () => {
  const db = await freshDatabase();
  const pg = await startTestServer({ 'database-url': db.url, 'builtin-edges': '1' });
  try {
    const made: Call[] = [];
    for (const name of ['race-a', 'race-b']) {
      const res = await pg.call('POST', '/cachectl/v1/accounts', { body: { name } });
      assert.equal(res.status, 200, res.text);
      made.push(client(pg.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key }));
    }
    const [ra, rb] = made;
    const pairs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Promise.all([createDomain(ra, `*.race${i}.test`, originA.port), createDomain(rb, `www.race${i}.test`, originB.port)])),
    );
    for (const [i, pair] of pairs.entries()) {
      const statuses = pair.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 400], `pair ${i}: ${pair.map((r) => `${r.status} ${r.json?.domain?.domain_name ?? r.json?.error_code}`).join(', ')}`);
      assertRefused(pair.find((r) => r.status === 400)!, 'CDN.0120');
    }
  } finally {
    await pg.close();
    await db.drop();
  }
});
