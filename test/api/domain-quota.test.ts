// The domain quota (CDN.0104) and domain names taken twice: on SQLite through the API, and on a real
// PostgreSQL with creates at the same moment, where only the create lock keeps the count honest, and
// with a row written past that lock, which meets the unique index instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { client, type ApiResponse, type Call } from '../support/signed-client.js';
import { freshDatabase } from '../support/postgres.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ 'builtin-edges': '1' });
});
after(async () => {
  await s?.close();
});

async function newAccount(ts: TestServer, name: string, domainQuota?: number): Promise<{ call: Call; id: string }> {
  const res = await ts.call('POST', '/cachectl/v1/accounts', { body: { name } });
  assert.equal(res.status, 200, res.text);
  if (domainQuota !== undefined) {
    const set = await ts.call('PUT', `/cachectl/v1/accounts/${name}/quotas`, { body: { domain: domainQuota } });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.json.quotas.domain, domainQuota);
  }
  return { call: client(ts.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key }), id: res.json.account.id };
}

const createDomain = (call: Call, name: string) =>
  call('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: 8080 }] } },
  });

const domainTotal = async (call: Call) => (await call('GET', '/v1.0/cdn/domains', { query: [['page_size', '100'], ['page_number', '1']] })).json.total as number;

function assertRefused(res: ApiResponse, code: string): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.error_code, code, res.text);
  assert.equal(res.json.error.error_code, code, res.text);
}

test('an account at its domain quota gets CDN.0104 and nothing is created; a freed place can be taken again', async () => {
  const { call } = await newAccount(s, 'quota-two', 2);
  assert.equal((await createDomain(call, 'one.quota.test')).status, 200);
  const second = await createDomain(call, 'two.quota.test');
  assert.equal(second.status, 200, second.text);
  const third = await createDomain(call, 'three.quota.test');
  assertRefused(third, 'CDN.0104');
  assert.match(third.json.error_msg, /upper limit \(2\)/);
  assert.equal(await domainTotal(call), 2, 'the refused domain was not created');

  // The quota counts the account's domains, not the calls ever made.
  const id = second.json.domain.id;
  assert.equal((await call('PUT', `/v1.0/cdn/domains/${id}/disable`)).status, 200);
  assert.equal((await call('DELETE', `/v1.0/cdn/domains/${id}`)).status, 200);
  assert.equal((await createDomain(call, 'three.quota.test')).status, 200);
  assertRefused(await createDomain(call, 'four.quota.test'), 'CDN.0104');
});

test('on PostgreSQL, 12 creates at once against a quota of 3: exactly 3 are kept, the others CDN.0104, no 500', async () => {
  const db = await freshDatabase();
  const ts = await startTestServer({ 'database-url': db.url, 'builtin-edges': '1' });
  try {
    const { call } = await newAccount(ts, 'quota-race', 3);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => createDomain(call, `d${i}.quota-race.test`)));
    const created = answers.filter((r) => r.status === 200);
    assert.equal(created.length, 3, answers.map((r) => `${r.status} ${r.json?.error_code ?? r.json?.domain?.domain_name}`).join(', '));
    for (const r of answers.filter((x) => x.status !== 200)) assertRefused(r, 'CDN.0104');
    assert.equal(await domainTotal(call), 3);
  } finally {
    await ts.close();
    await db.drop();
  }
});

test('on PostgreSQL, a name inserted past the create lock: the create that meets it answers CDN.0101 or CDN.0120, not 500', async () => {
  const db = await freshDatabase();
  const ts = await startTestServer({ 'database-url': db.url, 'builtin-edges': '1' });
  const side = new pg.Client({ connectionString: db.url });
  await side.connect();
  try {
    const owner = await newAccount(ts, 'past-lock');
    const other = await newAccount(ts, 'past-lock-other');
    for (const [who, name, code] of [
      [owner, 'same.past-lock.test', 'CDN.0101'],
      [other, 'other.past-lock.test', 'CDN.0120'],
    ] as const) {
      // An uncommitted row of the owner's: the server's name check cannot see it, and its insert waits
      // on the unique index until this transaction commits.
      await side.query('begin');
      const now = Date.now();
      await side.query(
        `insert into domains (id, account_id, name, business_type, service_area, status, sources, status_detail, create_time, modify_time)
         values ($1, $2, $3, 'web', 'mainland_china', 'online', '[]', '', $4, $4)`,
        [crypto.randomBytes(16).toString('hex'), owner.id, name, now],
      );
      const pending = createDomain(who.call, name);
      await Promise.race([waitForLockWait(side), pending.then((r) => assert.fail(`answered before the commit: ${r.status} ${r.text}`))]);
      await side.query('commit');
      assertRefused(await pending, code);
    }
    assert.equal(await domainTotal(other.call), 0, 'nothing was created for the other account');
  } finally {
    await side.end();
    await ts.close();
    await db.drop();
  }
});

/** Until another session of this database waits for a transaction to end (the server's insert, for our row's). */
async function waitForLockWait(side: pg.Client): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await side.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock' and wait_event = 'transactionid'`,
    );
    if (rows[0].n > 0) return;
    if (Date.now() > deadline) assert.fail(`the server never reached its insert: ${JSON.stringify((await side.query('select wait_event_type, wait_event, state, query from pg_stat_activity where datname = current_database()')).rows)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
