// Password guessing on POST /v3/auth/tokens (issue 11, item 5): a burst of wrong guesses is answered
// 429 after a few verifications, the legitimate user gets in once the delay has passed, and one
// user's or address's failures do not delay another user. All requests come from 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { StrikeTable } from '../../src/services/login-throttle.js';

interface Login {
  status: number;
  retryAfter?: string;
  code?: string;
}

async function login(s: TestServer, account: string, user: string, password: string): Promise<Login> {
  const res = await request(`${s.server.url}/v3/auth/tokens`, {
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
});
