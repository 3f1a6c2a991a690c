// The log lines of a real server (its logger writing into the test): one `request` line per answered
// call naming the route pattern, the caller and the outcome; `task accepted` and `task done` with the
// counts; `url failed` with each failing node and why, at most 20 a task; a node going down and coming
// back; and none of the secrets the calls used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from 'undici';
import { createLogger, warnings } from '../../src/logging/logger.js';
import { startBuiltinEdge, type BuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { originAllow } from '../../src/config.js';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { client, waitTask } from '../support/signed-client.js';
import { login } from '../support/iam-fixture.js';
import { freePort } from '../support/processes.js';

type Entry = Record<string, any> & { level: string; msg: string };

const lines: Entry[] = [];
const raw: string[] = [];
let s: TestServer;
let origin: TestOrigin;
let creds: { accessKey: string; secretKey: string; password: string; account: string; user: string };

before(async () => {
  const logger = createLogger({
    level: 'info',
    destination: {
      write(chunk: string) {
        raw.push(chunk);
        lines.push(JSON.parse(chunk) as Entry);
      },
    },
  });
  // A deadline short enough for the failing URLs below to be decided in a couple of seconds, long enough
  // for the others to succeed on a loaded machine; quick retries.
  s = await startTestServer({ 'task-deadline-ms': '2000', 'retry-base-ms': '10' }, { logger });
  origin = await startOrigin();
  const b = s.server.bootstrap!;
  creds = { accessKey: b.accessKey, secretKey: b.secretKey, password: b.password, account: b.account, user: b.user };
  await addDomain(s.call, 'www.logs.test', origin.port);
});
after(async () => {
  await s?.close();
  await origin?.close();
});

const requestLine = (requestId: string) => lines.filter((l) => l.msg === 'request' && l.request_id === requestId);
const idOf = (headers: Record<string, unknown>) => String(headers['x-request-id']);

/** Lines are written as they come; the done line of a task may follow its answer by a moment. */
async function until<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no ${what} in the log:\n${raw.join('').slice(-3000)}`);
}

test('a signed create: one request line with route, caller, status and ms; task accepted and task done lines with the counts', async () => {
  const res = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.logs.test/a.txt', 'http://www.logs.test/b.txt'] } } });
  assert.equal(res.status, 200, res.text);
  const taskId = Number(res.json.refresh_task);
  await waitTask(s.call, String(taskId));
  const [line, ...more] = requestLine(idOf(res.headers));
  assert.equal(more.length, 0, 'one line per request');
  assert.equal(line.level, 'info');
  assert.deepEqual(
    { method: line.method, route: line.route, status: line.status, account: line.account, user: line.user, access_key: line.access_key, ip: line.ip },
    { method: 'POST', route: '/v1.0/cdn/content/refresh-tasks', status: 200, account: creds.account, user: creds.user, access_key: creds.accessKey, ip: '127.0.0.1' },
  );
  assert.equal(typeof line.ms, 'number');
  const accepted = lines.filter((l) => l.msg === 'task accepted' && l.task_id === taskId);
  assert.equal(accepted.length, 1);
  assert.deepEqual({ type: accepted[0].task_type, urls: accepted[0].urls, request_id: accepted[0].request_id, user: accepted[0].user }, { type: 'refresh', urls: 2, request_id: line.request_id, user: creds.user });
  const done = await until(() => lines.find((l) => l.msg === 'task done' && l.task_id === taskId), `task done line of task ${taskId}`);
  assert.deepEqual({ total: done.total, succeed: done.succeed, failed: done.failed }, { total: 2, succeed: 2, failed: 0 });
  assert.equal(typeof done.ms, 'number');
});

test('a detail read names the route pattern, not the id; a 404 is logged as unmatched', async () => {
  const res = await s.call('GET', '/v1.0/cdn/historytasks/123456/detail');
  assert.equal(requestLine(idOf(res.headers))[0].route, '/v1.0/cdn/historytasks/:history_tasks_id/detail');
  const missing = await s.call('GET', '/v1.0/cdn/no-such-route');
  const [line] = requestLine(idOf(missing.headers));
  assert.deepEqual({ route: line.route, status: line.status, error_code: line.error_code }, { route: 'unmatched', status: 404, error_code: missing.json.error_code });
});

test('refusals: a wrong signature names the claimed key and the error code; an anonymous call names nobody', async () => {
  const forged = await client(s.server.url, { accessKey: creds.accessKey, secretKey: 'not-the-secret-key-at-all' })('GET', '/v1.0/cdn/historytasks');
  assert.equal(forged.status, 401);
  const [f] = requestLine(idOf(forged.headers));
  assert.deepEqual({ status: f.status, access_key: f.access_key, account: f.account, error_code: f.error_code }, { status: 401, access_key: creds.accessKey, account: undefined, error_code: forged.json.error_code });
  const anonymous = await request(`${s.server.url}/v1.0/cdn/historytasks`);
  await anonymous.body.dump();
  const [a] = requestLine(idOf(anonymous.headers));
  assert.deepEqual({ status: a.status, access_key: a.access_key, account: a.account }, { status: 401, access_key: undefined, account: undefined });
});

test('a token call names its user; the password and the token are in no line', async () => {
  const issued = await login(s, creds.account, creds.user, creds.password);
  assert.equal(issued.status, 201);
  const token = issued.token!;
  const res = await request(`${s.server.url}/v1.0/cdn/historytasks`, { headers: { 'x-auth-token': token } });
  await res.body.dump();
  const [line] = requestLine(idOf(res.headers));
  assert.deepEqual({ status: line.status, user: line.user, access_key: line.access_key }, { status: 200, user: creds.user, access_key: null });
  const text = raw.join('');
  for (const [what, secret] of [['password', creds.password], ['token', token], ['secret key', creds.secretKey]]) assert.ok(!text.includes(secret), `the ${what} is in the log`);
});

test('failed URLs: a line each with the nodes and why, the query string hidden, at most 20 a task; the done line counts the rest', async () => {
  const dead = await freePort();
  await addDomain(s.call, 'dead.logs.test', dead);
  const urls = Array.from({ length: 25 }, (_, i) => `http://dead.logs.test/f${i}.bin?auth_key=sig${i}`);
  const created = await s.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls } } });
  assert.equal(created.status, 200, created.text);
  const taskId = Number(created.json.preheating_task);
  const done = await until(() => lines.find((l) => l.msg === 'task done' && l.task_id === taskId), `task done line of task ${taskId}`);
  assert.deepEqual({ total: done.total, succeed: done.succeed, failed: done.failed, failed_urls_not_logged: done.failed_urls_not_logged }, { total: 25, succeed: 0, failed: 25, failed_urls_not_logged: 5 });
  const failed = lines.filter((l) => l.msg === 'url failed' && l.task_id === taskId);
  assert.equal(failed.length, 20);
  for (const l of failed) {
    assert.equal(l.level, 'warn');
    assert.match(l.url, /^dead\.logs\.test\/f\d+\.bin\?…$/);
    assert.equal(l.fail_classify, 'ORIGIN_ERROR');
    assert.deepEqual(l.nodes.map((n: { node: string }) => n.node).sort(), ['edge-1', 'edge-2']);
    for (const n of l.nodes) assert.ok(n.reason.length > 0 && n.classify === 'ORIGIN_ERROR', JSON.stringify(n));
  }
  assert.ok(!raw.join('').includes('auth_key=sig'), 'a query string is in the log');
});

test('a node that goes down and comes back: a warning line, then an info line', async () => {
  const [traffic, control] = [await freePort(), await freePort()];
  const res = await s.call('POST', '/cachectl/v1/nodes', { body: { name: 'late', driver: 'builtin', traffic_url: `http://127.0.0.1:${traffic}`, control_url: `http://127.0.0.1:${control}`, secret: 'late-node-secret-0123456789' } });
  assert.equal(res.status, 200, res.text);
  const down = await until(() => lines.find((l) => l.msg === 'node late is down'), 'down line');
  assert.deepEqual({ level: down.level, node: down.node, driver: down.driver }, { level: 'warn', node: 'late', driver: 'builtin' });
  let edge: BuiltinEdge | undefined;
  try {
    edge = await startBuiltinEdge({ name: 'late', host: '127.0.0.1', trafficPort: traffic, adminHost: '127.0.0.1', adminPort: control, secret: 'late-node-secret-0123456789', maxBytes: 1 << 20, originAllow: originAllow('loopback') });
    const up = await until(() => lines.find((l) => l.msg === 'node late is up'), 'up line');
    assert.equal(up.level, 'info');
    assert.ok(!raw.join('').includes('late-node-secret-0123456789'), 'the node secret is in the log');
  } finally {
    await s.call('DELETE', '/cachectl/v1/nodes/late');
    await edge?.close();
  }
});

test('the health probes are not logged at info', async () => {
  const res = await request(`${s.server.url}/healthz`);
  await res.body.dump();
  assert.equal(requestLine(idOf(res.headers)).length, 0);
});

test('a secret that reaches the logger by mistake is redacted', () => {
  const out: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (chunk: string) => void out.push(chunk) } });
  logger.info({ password: 'p-123', secret_key: 's-123', token: 't-123', req: { headers: { authorization: 'SDK-HMAC-SHA256 Signature=abc123', 'x-auth-token': 't-456' } } }, 'oops');
  const text = out.join('');
  for (const secret of ['p-123', 's-123', 't-123', 'abc123', 't-456']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
  assert.equal((text.match(/\[redacted\]/g) ?? []).length, 5);
});

test('a background failure repeated within the window is written once; the next line counts the ones left out', async () => {
  const out: Entry[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (chunk: string) => void out.push(JSON.parse(chunk) as Entry) } });
  const warn = warnings(logger, 100);
  for (let i = 0; i < 5; i++) warn('claiming work failed; retrying', new Error('Connection terminated unexpectedly'));
  warn('another failure');
  assert.deepEqual(out.map((e) => [e.msg, e.error, e.repeats_not_logged]), [
    ['claiming work failed; retrying', 'Connection terminated unexpectedly', undefined],
    ['another failure', undefined, undefined],
  ]);
  await new Promise((r) => setTimeout(r, 150));
  warn('claiming work failed; retrying', new Error('Connection terminated unexpectedly'));
  assert.equal(out.length, 3);
  assert.equal(out[2].repeats_not_logged, 4);
  assert.equal(out[2].level, 'warn');
});

test('an error is logged by its kind, message and code: a PostgreSQL detail (the failing row) stays out', () => {
  const out: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (chunk: string) => void out.push(chunk) } });
  const err = Object.assign(new Error('null value in column "name" violates not-null constraint'), { code: '23502', detail: 'Failing row contains (AK1, sk-secret-value-123)', where: 'row 1' });
  logger.error({ err }, 'request failed');
  const entry = JSON.parse(out[0]) as Entry;
  assert.deepEqual({ type: entry.err.type, message: entry.err.message, code: entry.err.code }, { type: 'Error', message: err.message, code: '23502' });
  assert.ok(!out[0].includes('sk-secret-value-123') && !out[0].includes('row 1'), out[0]);
});

test('a request refused before routing (malformed HTTP) has its request line too', async () => {
  const { port } = new URL(s.server.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('NOT-HTTP /x\r\n\r\n'));
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  const id = /x-request-id: (\w+)/i.exec(answer)?.[1];
  assert.ok(id, answer);
  const [line] = await until(() => (requestLine(id).length > 0 ? requestLine(id) : undefined), `request line of ${id}`);
  assert.deepEqual({ route: line.route, status: line.status, ip: line.ip }, { route: 'unparsed', status: 400, ip: '127.0.0.1' });
});
