// Attack (issue 11.3, follow-up): the body budget was one pool, charged when a request names a known
// access key (its secret is not needed until the body is in). Anyone who knew one access key ID could
// fill it with stalled uploads from one address, and every tenant's body-carrying calls got 429 until
// the body timeout; logins likewise, with no credentials at all. Now one source address holds at most
// its share (1/8 by default), one credential at most its share (1/4), and the rest stays for others.
// Each 127.x.y.z is a distinct loopback client address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { formatSdkDate } from '../../src/signing/sdk-date.js';
import { signRequest } from '../../src/signing/sdk-signature.js';
import { connect, readAnswer, type RawAnswer } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

// A 64 KiB budget of 8 KiB bodies: eight at once in all, one per address, two per key.
const LIMIT = 8192;
let ts: TestServer;
let port: number;
let tenant: { accessKey: string; secretKey: string };
before(async () => {
  ts = await startTestServer({ 'builtin-edges': '0', 'body-limit': String(LIMIT), 'body-budget': String(8 * LIMIT), 'body-timeout-ms': '20000' });
  port = Number(new URL(ts.server.url).port);
  const created = await ts.call('POST', '/cachectl/v1/accounts', { body: { name: 'tenant' } });
  assert.equal(created.status, 200, created.text);
  tenant = { accessKey: created.json.access_key, secretKey: created.json.secret_key };
});
after(async () => ts?.close());

const budgets = () => ts.server.app.bodyBudgets;

/** Headers naming `accessKey` with a signature that cannot be checked before the body is in. */
const namingKey = (accessKey: string) =>
  `X-Sdk-Date: ${formatSdkDate(Date.now())}\r\nAuthorization: SDK-HMAC-SHA256 Access=${accessKey}, SignedHeaders=content-type;host;x-sdk-date, Signature=${'0'.repeat(64)}\r\n`;

/**
 * Opens one connection per source address in `from`, sends a request's headers announcing a full-size
 * body, and sends none of it. Returns the sockets and each one's answer: a refusal comes at once,
 * null means the body was admitted and the server is waiting for it.
 */
async function stall(from: string[], path: string, headers: string, length = LIMIT): Promise<{ sockets: net.Socket[]; answers: Array<RawAnswer | null> }> {
  const sockets: net.Socket[] = [];
  const pending: Array<Promise<RawAnswer | null>> = [];
  for (const address of from) {
    const socket = await connect(port, address);
    sockets.push(socket);
    pending.push(readAnswer(socket, 1500));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n${headers}Content-Length: ${length}\r\n\r\n`);
  }
  return { sockets, answers: await Promise.all(pending) };
}

/** A signed request with its whole body, sent from `from`. */
async function signedFrom(from: string, key: { accessKey: string; secretKey: string }, path: string, body: object): Promise<RawAnswer | null> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', host: `127.0.0.1:${port}` };
  Object.assign(headers, signRequest({ method: 'POST', path, headers, body: text, ...key }));
  return send(from, `POST ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

async function send(from: string, text: string): Promise<RawAnswer | null> {
  const socket = await connect(port, from);
  const answer = readAnswer(socket);
  socket.write(text);
  const result = await answer;
  socket.destroy();
  return result;
}

/** Closes the stalled connections and waits for their shares to come back; nothing stays accounted. */
async function release(sockets: net.Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  const deadline = Date.now() + 5000;
  while (budgets().credentialed.inUse.bytes + budgets().anonymous.inUse.bytes > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const b of [budgets().credentialed, budgets().anonymous]) assert.deepEqual(b.inUse, { bytes: 0, addresses: 0, credentials: 0 });
}

const statuses = (answers: Array<RawAnswer | null>) => answers.map((a) => a?.status ?? 'stalled').join(',');

test('stalled bodies from one address take only its share: another address still has its body read', async () => {
  const admin = ts.server.bootstrap!;
  const { sockets, answers } = await stall(Array(8).fill('127.0.0.1'), '/cachectl/v1/keys', namingKey(admin.accessKey));
  try {
    assert.equal(answers.filter((a) => a === null).length, 1, `one body admitted from 127.0.0.1: ${statuses(answers)}`);
    for (const a of answers.filter((x) => x !== null)) {
      assert.equal(a!.status, 429);
      assert.equal(a!.json.error_code, 'APIGW.0308');
      assert.match(a!.json.error_msg, /client address/);
    }
    assert.equal(budgets().credentialed.inUse.bytes, LIMIT);
    // Another client, even with the same key, is not held up by them.
    const other = await signedFrom('127.0.0.2', admin, '/cachectl/v1/keys', { account: 'tenant' });
    assert.equal(other?.status, 200, other?.body);
  } finally {
    await release(sockets);
  }
});

test("one key's stalled bodies from many addresses take only its share: another key's request is read", async () => {
  const from = Array.from({ length: 8 }, (_, i) => `127.0.1.${i + 1}`);
  const { sockets, answers } = await stall(from, '/v1.0/cdn/content/refresh-tasks', namingKey(tenant.accessKey));
  try {
    assert.equal(answers.filter((a) => a === null).length, 2, `two bodies admitted for the key: ${statuses(answers)}`);
    for (const a of answers.filter((x) => x !== null)) {
      assert.equal(a!.status, 429);
      assert.match(a!.json.error_msg, /credential/);
    }
    const admin = ts.server.bootstrap!;
    // The admin account's user: the tenant's has its two keys (at most 2 per user).
    const other = await signedFrom('127.0.2.1', admin, '/cachectl/v1/keys', { account: 'admin' });
    assert.equal(other?.status, 200, other?.body);
  } finally {
    await release(sockets);
  }
});

test('stalled login bodies from one address do not block the login of another', async () => {
  // Logins draw on their own budget (here 64 KiB, and 16 KiB per address: two bodies of 8 KiB).
  const { sockets, answers } = await stall(Array(8).fill('127.0.0.1'), '/v3/auth/tokens', '');
  try {
    assert.equal(answers.filter((a) => a === null).length, 2, `two login bodies admitted from 127.0.0.1: ${statuses(answers)}`);
    for (const a of answers.filter((x) => x !== null)) assert.equal(a!.status, 429);
    const b = ts.server.bootstrap!;
    const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: b.user, password: b.password, domain: { name: b.account } } } }, scope: { domain: { name: b.account } } } });
    const login = await send('127.0.0.2', `POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    assert.equal(login?.status, 201, login?.body);
  } finally {
    await release(sockets);
  }
});
