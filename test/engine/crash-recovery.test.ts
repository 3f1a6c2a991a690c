// Single store: SQLite only (the counts are read from the SQLite file after kill -9).
// kill -9 of the server during a 10,000-URL load: after a restart every accepted URL reaches a
// terminal state and is counted exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { startOrigin } from '../support/origin.js';
import { client, waitTask } from '../support/signed-client.js';
import { addDomain } from '../support/test-server.js';
import { freePort, kill, startCli } from '../support/processes.js';

const children: ChildProcess[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-crash-'));
const edgeSecret = 'crash-edge-secret-'.padEnd(40, 'z');
const edgeSecretFile = path.join(dataDir, 'test-edge-secret');
fs.writeFileSync(edgeSecretFile, `${edgeSecret}\n`, { mode: 0o600 });
after(async () => {
  for (const c of children) await kill(c);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('kill -9 during a 10,000-URL load loses nothing and counts every URL once', async () => {
  const origin = await startOrigin();
  const [t1, a1, t2, a2, api] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const startEdge = async (name: string, traffic: number, admin: number) => {
    const c = await startCli(['edge', '--name', name, '--port', String(traffic), '--admin-port', String(admin), '--origin-allow', 'loopback', '--secret-file', edgeSecretFile], /^edge /);
    children.push(c);
    return c;
  };
  const edge1 = await startEdge('e1', t1, a1);
  let edge2 = await startEdge('e2', t2, a2);
  const serveArgs = [
    'serve',
    '--data-dir', dataDir,
    '--port', String(api),
    '--builtin-edges', '0',
    '--task-deadline-ms', '120000',
    '--retry-base-ms', '20',
    '--log-level', 'warn',
    '--origin-allow', 'loopback',
  ];
  let server = await startCli(serveArgs, /^First start/);
  children.push(server);
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  assert.equal(fs.statSync(path.join(dataDir, 'credentials.json')).mode & 0o777, 0o600);
  const call = client(`http://127.0.0.1:${api}`, { accessKey: creds.access_key, secretKey: creds.secret_key });
  // The nodes are registry data: added once, they are still there after the crash.
  for (const [name, traffic, admin] of [['e1', t1, a1], ['e2', t2, a2]] as const) {
    const res = await call('POST', '/cachectl/v1/nodes', { body: { name, driver: 'builtin', traffic_url: `http://127.0.0.1:${traffic}`, control_url: `http://127.0.0.1:${admin}`, secret: edgeSecret } });
    assert.equal(res.status, 200, res.text);
  }
  await addDomain(call, 'www.crash.test', origin.port);

  const submit = (from: number, count: number) =>
    Promise.all(
      Array.from({ length: count }, async (_, t) => {
        const urls = Array.from({ length: 1000 }, (_, u) => `http://www.crash.test/${from + t}/${u}`);
        const res = await call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
        assert.equal(res.status, 200, res.text);
        return res.json.refresh_task as string;
      }),
    );
  // Half the load with both nodes up (some of it finishes before the crash, some does not), then
  // half with one node down, so that those URLs are certainly in flight when the server dies.
  const ids = await submit(0, 5);
  await kill(edge2);
  ids.push(...(await submit(5, 5)));
  await kill(server, 'SIGKILL');

  edge2 = await startEdge('e2', t2, a2);
  server = await startCli(serveArgs, /API listening/);
  children.push(server);
  for (const id of ids) {
    const task = await waitTask(call, id, 60_000);
    assert.deepEqual([task.total, task.succeed, task.failed, task.processing], [1000, 1000, 0, 0], `task ${id}`);
  }
  await kill(server, 'SIGTERM');
  await kill(edge1, 'SIGTERM');
  await kill(edge2, 'SIGTERM');
  await origin.close();

  const db = new BetterSqlite3(path.join(dataDir, 'cachectl.db'), { readonly: true });
  try {
    const rows = db.prepare('select status, count(*) n from task_urls group by status').all() as Array<{ status: string; n: number }>;
    assert.deepEqual(rows, [{ status: 'succeed', n: 10_000 }]);
    const sums = db.prepare('select count(*) tasks, sum(total) total, sum(succeed) succeed, sum(failed) failed, sum(processing) processing from tasks').get();
    assert.deepEqual(sums, { tasks: 10, total: 10_000, succeed: 10_000, failed: 0, processing: 0 });
  } finally {
    db.close();
  }
});
