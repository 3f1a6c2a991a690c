// Password guessing on POST /v3/auth/tokens (issue 11, item 5): a burst of wrong guesses is answered
// 429 after a few verifications, the legitimate user gets in once the delay has passed, and one
// user's or address's failures do not delay another user. Requests come from 127.0.0.1 unless they
// bind another loopback address (Linux routes all of 127/8 to lo): an attacker's guesses delay the
// attacker's address, not the user elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { LoginThrottle, StrikeTable } from '../../src/services/login-throttle.js';
import { sourceKey } from '../../src/services/source-key.js';

interface Login {
  status: number;
  retryAfter?: string;
  code?: string;
}

/** Clients bound to a local address, one per address, closed by closeAgents(). */
const agents = new Map<string, Agent>();
function from(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) agents.set(localAddress, (agent = new Agent({ localAddress })));
  return agent;
}
async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()));
  agents.clear();
}

async function login(s: TestServer, account: string, user: string, password: string, localAddress?: string): Promise<Login> {
  const res = await request(`${s.server.url}/v3/auth/tokens`, {
    dispatcher: localAddress ? from(localAddress) : undefined,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: account } } } }, scope: { domain: { name: account } } } }),
  });
  const text = await res.body.text();
  const retryAfter = res.headers['retry-after'];
  return { status: res.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, code: text ? JSON.parse(text).error_code : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tally(results: Login[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

test('300 concurrent wrong guesses: most are 429 with Retry-After, few are verified; the user gets in after the delay', async () => {
  const s = await startTestServer({ 'log-level': 'error', 'login-failures': '5', 'login-address-failures': '100000', 'login-delay-ms': '1000', 'login-max-delay-ms': '2000' });
  try {
    const b = s.server.bootstrap!;
    const checksBefore = s.server.auth.passwordChecks;
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => login(s, b.account, b.user, `wrong-${i}`)));
    const counts = tally(results);
    assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 300, JSON.stringify(counts));
    assert.ok((counts[429] ?? 0) >= 250, `expected most guesses refused with 429: ${JSON.stringify(counts)}`);
    // 5 before the first delay, then one per elapsed delay (1 s, 2 s, 2 s…) while the burst lasts.
    const checks = s.server.auth.passwordChecks - checksBefore;
    assert.ok(checks >= 5 && checks <= 20, `password verifications in the burst: ${checks}`);
    for (const r of results.filter((x) => x.status === 429)) {
      assert.equal(r.code, 'APIGW.0308');
      assert.match(r.retryAfter ?? '', /^[1-9]\d*$/);
    }
    // While the delay runs, even the right password waits (a delay for that user, not a verdict).
    const during = await login(s, b.account, b.user, b.password);
    assert.equal(during.status, 429);
    await sleep(Number(during.retryAfter) * 1000 + 100);
    const after = await login(s, b.account, b.user, b.password);
    assert.equal(after.status, 201, JSON.stringify(after));
    // A success clears the user's record: the next wrong guess is a plain 401, not a delay.
    assert.equal((await login(s, b.account, b.user, 'wrong-again')).status, 401);
  } finally {
    await s.close();
  }
});

test("one user's failed guesses do not delay another user of the same address", async () => {
  const s = await startTestServer({ 'log-level': 'error', 'login-failures': '3', 'login-address-failures': '100000', 'login-delay-ms': '60000' });
  try {
    const b = s.server.bootstrap!;
    const made = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'other', user: 'ops', password: 'other-password-1' } });
    assert.equal(made.status, 200, made.text);
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(s, b.account, b.user, `wrong-${i}`)));
    assert.equal(tally(guesses)[429], 17, JSON.stringify(tally(guesses)));
    assert.equal((await login(s, b.account, b.user, b.password)).status, 429);
    assert.equal((await login(s, 'other', 'ops', 'other-password-1')).status, 201);
  } finally {
    await s.close();
  }
});

test('per address: guesses spread over many user names are delayed too, for every name from that address', async () => {
  const s = await startTestServer({ 'log-level': 'error', 'login-failures': '3', 'login-address-failures': '10', 'login-delay-ms': '60000' });
  try {
    const b = s.server.bootstrap!;
    const results: Login[] = [];
    for (let i = 0; i < 30; i++) results.push(await login(s, b.account, `user-${i}`, 'guess'));
    assert.deepEqual(tally(results), { 401: 10, 429: 20 });
    // The real user from the same address waits too (Retry-After says how long), without a verification.
    const checks = s.server.auth.passwordChecks;
    const real = await login(s, b.account, b.user, b.password);
    assert.equal(real.status, 429);
    assert.ok(Number(real.retryAfter) > 1);
    assert.equal(s.server.auth.passwordChecks, checks);
  } finally {
    await s.close();
  }
});

test('an unknown account or user costs one password verification, like a known one', async () => {
  const s = await startTestServer({ 'log-level': 'error' });
  try {
    const b = s.server.bootstrap!;
    for (const [account, user] of [[b.account, b.user], [b.account, 'nobody'], ['no-such-account', b.user]]) {
      const before = s.server.auth.passwordChecks;
      assert.equal((await login(s, account, user, 'wrong-password')).status, 401);
      assert.equal(s.server.auth.passwordChecks - before, 1, `${account}/${user}`);
    }
  } finally {
    await s.close();
  }
});

test('the record of failures stays bounded under random user names', () => {
  const table = new StrikeTable(3, { baseDelayMs: 1000, maxDelayMs: 10_000 }, 100);
  for (let i = 0; i < 10_000; i++) {
    const key = `random-${i}`;
    assert.equal(table.admit(key, i), 0);
    table.fail(key, i);
  }
  assert.ok(table.size <= 100, `keys held: ${table.size}`);
  // The whole throttle too (three tables and the known addresses), under random names from random /64s.
  const throttle = new LoginThrottle({ userFailures: 3, addressFailures: 50, baseDelayMs: 1000, maxDelayMs: 10_000 }, 100);
  for (let i = 0; i < 10_000; i++) {
    const a = throttle.admit(`random-${i}`, `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`, i);
    if (a.ok) a.settle(i % 2 ? 'failure' : 'success', i);
  }
  assert.ok(throttle.size <= 400, `keys held: ${throttle.size}`);
});

test("an attacker's guesses delay the attacker's address, not the real user logging in from elsewhere", async () => {
  const s = await startTestServer({ 'log-level': 'error', 'login-failures': '3', 'login-delay-ms': '60000' });
  try {
    const b = s.server.bootstrap!;
    const guesses: Login[] = [];
    for (let i = 0; i < 10; i++) guesses.push(await login(s, b.account, b.user, `wrong-${i}`, '127.0.0.2'));
    assert.deepEqual(tally(guesses), { 401: 3, 429: 7 });
    assert.ok(Number(guesses[9].retryAfter) > 1, JSON.stringify(guesses[9]));
    // The admin has never logged in from 127.0.0.1 (no known address helps): the attacker's failures
    // are simply not the admin's at this address.
    assert.equal((await login(s, b.account, b.user, b.password, '127.0.0.1')).status, 201);
    // And the admin's success there does not end the attacker's delay.
    assert.equal((await login(s, b.account, b.user, 'wrong-after', '127.0.0.2')).status, 429);
  } finally {
    await closeAgents();
    await s.close();
  }
});

test('guesses from many addresses delay the user at new addresses, not where it logged in before', async () => {
  // 3 per (user, address) → 30 from all addresses; each address below sends one guess only.
  const s = await startTestServer({ 'log-level': 'error', 'login-failures': '3', 'login-delay-ms': '60000' });
  try {
    const b = s.server.bootstrap!;
    assert.equal((await login(s, b.account, b.user, b.password, '127.0.0.1')).status, 201);
    const guesses: Login[] = [];
    for (let i = 2; i <= 40; i++) guesses.push(await login(s, b.account, b.user, `wrong-${i}`, `127.0.0.${i}`));
    assert.deepEqual(tally(guesses), { 401: 30, 429: 9 });
    // A new address waits, even with the right password, without a verification, for at most a minute.
    const checks = s.server.auth.passwordChecks;
    const fresh = await login(s, b.account, b.user, b.password, '127.0.0.41');
    assert.equal(fresh.status, 429);
    assert.ok(Number(fresh.retryAfter) >= 1 && Number(fresh.retryAfter) <= 60, JSON.stringify(fresh));
    assert.equal(s.server.auth.passwordChecks, checks);
    // The address the admin logged in from before still gets in.
    assert.equal((await login(s, b.account, b.user, b.password, '127.0.0.1')).status, 201);
  } finally {
    await closeAgents();
    await s.close();
  }
});

test('IPv6 clients count by /64; IPv4, also mapped into IPv6, by address', () => {
  const k = sourceKey('2001:db8:1:2::1');
  assert.equal(k, '2001:db8:1:2::/64');
  for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:abcd::9', '2001:db8:1:2::1%eth0', '2001:db8:1:2:0:0:1.2.3.4']) {
    assert.equal(sourceKey(same), k, same);
  }
  for (const other of ['2001:db8:1:3::1', '2001:db8::1:2:0:1', '::1', 'fe80::1']) assert.notEqual(sourceKey(other), k, other);
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('::ffff:cb00:7108'), '203.0.113.8');
  assert.notEqual(sourceKey('::ffff:203.0.113.8'), sourceKey('::ffff:203.0.113.7'));

  // In the throttle: one /64 rotating its addresses is one client, per address and per (user, address).
  const throttle = new LoginThrottle({ userFailures: 3, addressFailures: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 });
  const attempt = (user: string, address: string) => {
    const a = throttle.admit(user, address, 0);
    if (a.ok) a.settle('failure', 0);
    return a.ok ? 'verified' : a.by;
  };
  assert.deepEqual([1, 2, 3, 4].map((i) => attempt('acct\u0000admin', `2001:db8:1:2::${i}`)), ['verified', 'verified', 'verified', 'user']);
  assert.deepEqual([5, 6, 7].map((i) => attempt(`acct\u0000user-${i}`, `2001:db8:1:2::${i}`)), ['verified', 'verified', 'address']);
  assert.equal(attempt('acct\u0000admin', '2001:db8:1:3::1'), 'verified');
});
