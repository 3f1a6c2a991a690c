// Single store: PostgreSQL only (two serve processes share one store).
// GET /cachectl/v1/tasks/{id}/wait on one serve process for a task another one finishes, on a shared
// PostgreSQL: the waiters wake when the task is done, and while they wait they cost the store a read
// now and then (finished tasks are announced), not one every 50 ms each. The API process's database
// traffic goes through a relay that counts its statements.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOrigin } from '../support/origin.js';
import { client } from '../support/signed-client.js';
import { addDomain } from '../support/test-server.js';
import { freePort, kill, processScope, startCli } from '../support/processes.js';
import { freshDatabase } from '../support/postgres.js';
import { statementCounter, tcpRelay } from '../support/tcp-relay.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WAITERS = 20;
const HOLD_MS = 3000;
const { children, cleanups, end } = processScope();
const dirs = [1, 2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-wait-')));
const edgeSecret = 'wait-edge-secret-'.padEnd(40, 'z');
const edgeSecretFile = path.join(dirs[0], 'test-edge-secret');
fs.writeFileSync(edgeSecretFile, `${edgeSecret}\n`, { mode: 0o600 });
after(async () => {
  await end();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('waiters on another process wake when the task is done, reading the store about once a second each, not every 50 ms', async () => {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const counter = statementCounter();
  const relay = await tcpRelay(new URL(database.url), counter.onClient);
  cleanups.push(() => relay.close());
  const viaRelay = new URL(database.url);
  viaRelay.port = String(relay.port);
  const origin = await startOrigin();
  cleanups.push(() => origin.close());

  const [traffic, admin, api1, api2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const edge = await startCli(['edge', '--name', 'e1', '--port', String(traffic), '--admin-port', String(admin), '--origin-allow', 'loopback', '--secret-file', edgeSecretFile], /^edge /);
  children.push(edge);
  const common = ['--builtin-edges', '0', '--task-deadline-ms', '60000', '--log-level', 'warn', '--origin-allow', 'loopback'];
  // The worker finishes the task; the API-only process answers the waits.
  const worker = await startCli(['serve', '--data-dir', dirs[0], '--port', String(api1), '--database-url', database.url, ...common], /^First start/);
  children.push(worker);
  const front = await startCli(['serve', '--data-dir', dirs[1], '--port', String(api2), '--database-url', viaRelay.href, '--role', 'api', ...common], /API listening/);
  children.push(front);
  const creds = JSON.parse(fs.readFileSync(path.join(dirs[0], 'credentials.json'), 'utf8'));
  const key = { accessKey: creds.access_key, secretKey: creds.secret_key };
  const call1 = client(`http://127.0.0.1:${api1}`, key);
  const call2 = client(`http://127.0.0.1:${api2}`, key);
  const res = await call1('POST', '/cachectl/v1/nodes', { body: { name: 'e1', driver: 'builtin', traffic_url: `http://127.0.0.1:${traffic}`, control_url: `http://127.0.0.1:${admin}`, secret: edgeSecret } });
  assert.equal(res.status, 200, res.text);
  await addDomain(call1, 'www.wait.test', origin.port);

  // The node hangs for HOLD_MS: the task stays in flight while the waiters wait.
  edge.kill('SIGSTOP');
  const created = await call1('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: Array.from({ length: 10 }, (_, i) => `http://www.wait.test/${i}`) } } });
  assert.equal(created.status, 200, created.text);
  const id = created.json.refresh_task as string;

  // What one request costs the API process in statements (authentication, rate limit, the task read).
  let before = counter.count();
  const shown = await call2('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', '0']] });
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.json.done, false, 'the task was done before the waits: the test proves nothing');
  const perRequest = counter.count() - before;

  before = counter.count();
  const t0 = Date.now();
  const waits = Array.from({ length: WAITERS }, () => call2('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', '30000']] }));
  await sleep(HOLD_MS);
  edge.kill('SIGCONT');
  const answers = await Promise.all(waits);
  const wallS = Math.ceil((Date.now() - t0) / 1000);
  const statements = counter.count() - before;
  for (const a of answers) {
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.done, true, a.text);
    assert.equal(a.json.task.status, 'task_done');
  }
  // Each waiter: its request, a read about every second, one at the end; plus the process's own
  // registry sync every 2 s. Reading every 50 ms would be 20 reads a second per waiter.
  const bound = WAITERS * (perRequest + wallS + 2) + wallS;
  assert.ok(statements <= bound, `${statements} statements for ${WAITERS} waiters over ${wallS} s (bound ${bound}; ${perRequest} per request)`);
  await kill(front, 'SIGTERM');
  await kill(worker, 'SIGTERM');
  await kill(edge, 'SIGTERM');
});
