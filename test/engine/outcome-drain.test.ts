// Single store: PostgreSQL only (a database server that becomes unreachable).
// SIGTERM of a serve process while its PostgreSQL is unreachable and outcomes wait to be written: the
// process gives up within its drain bound (without spinning on the CPU), names what it could not
// write, and the next start finishes those URLs. The outage is a TCP relay in front of the real
// server that drops every connection and refuses new ones.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startOrigin } from '../support/origin.js';
import { client, waitTask } from '../support/signed-client.js';
import { addDomain } from '../support/test-server.js';
import { freePort, kill, processScope, startCli } from '../support/processes.js';
import { freshDatabase } from '../support/postgres.js';
import { tcpRelay } from '../support/tcp-relay.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const { children, cleanups, end } = processScope();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-drain-'));
const edgeSecret = 'drain-edge-secret-'.padEnd(40, 'z');
const edgeSecretFile = path.join(dataDir, 'test-edge-secret');
fs.writeFileSync(edgeSecretFile, `${edgeSecret}\n`, { mode: 0o600 });
after(async () => {
  await end();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

test('SIGTERM during a PostgreSQL outage: exits within the drain bound, says how many outcomes it could not write, and the next start finishes them', async () => {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const direct = new pg.Client({ connectionString: database.url });
  await direct.connect();
  cleanups.push(() => direct.end());
  const pgRelay = await tcpRelay(new URL(database.url));
  cleanups.push(() => pgRelay.close());
  const viaRelay = new URL(database.url);
  viaRelay.port = String(pgRelay.port);

  const origin = await startOrigin();
  cleanups.push(() => origin.close());
  const [traffic, admin, api] = await Promise.all([freePort(), freePort(), freePort()]);
  const edge = await startCli(['edge', '--name', 'e1', '--port', String(traffic), '--admin-port', String(admin), '--origin-allow', 'loopback', '--secret-file', edgeSecretFile], /^edge /);
  children.push(edge);
  const serveArgs = ['serve', '--data-dir', dataDir, '--port', String(api), '--builtin-edges', '0', '--database-url', viaRelay.href, '--lease-ms', '3000', '--task-deadline-ms', '120000', '--retry-base-ms', '20', '--log-level', 'warn', '--origin-allow', 'loopback'];
  let server = await startCli(serveArgs, /^First start/);
  children.push(server);
  // Its log lines (stdout) and anything else it prints (stderr).
  let output = '';
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  const call = client(`http://127.0.0.1:${api}`, { accessKey: creds.access_key, secretKey: creds.secret_key });
  const res = await call('POST', '/cachectl/v1/nodes', { body: { name: 'e1', driver: 'builtin', traffic_url: `http://127.0.0.1:${traffic}`, control_url: `http://127.0.0.1:${admin}`, secret: edgeSecret } });
  assert.equal(res.status, 200, res.text);
  await addDomain(call, 'www.drain.test', origin.port);

  // The node hangs, so the purges are in flight (marked refreshing in the store) when the store goes.
  edge.kill('SIGSTOP');
  const urls = Array.from({ length: 100 }, (_, i) => `http://www.drain.test/${i}`);
  const created = await call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
  assert.equal(created.status, 200, created.text);
  const taskId = created.json.refresh_task as string;
  const refreshing = async () => Number((await direct.query(`select count(*) as n from task_urls where status = 'refreshing'`)).rows[0].n);
  for (let i = 0; (await refreshing()) < 100; i++) {
    assert.ok(i < 100, 'the URLs were not dispatched');
    await sleep(50);
  }
  pgRelay.down();
  edge.kill('SIGCONT');
  // The node answers now; the outcomes cannot be written.
  for (let i = 0; !output.includes('writing URL outcomes failed'); i++) {
    assert.ok(i < 200, `no outcome write failed: ${output}`);
    await sleep(50);
  }

  const pid = server.pid!;
  const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
  const cpuBefore = cpuMs(pid);
  const t0 = Date.now();
  server.kill('SIGTERM');
  let cpuLast = cpuBefore;
  let wallLast = t0;
  let gone = false;
  void exited.then(() => (gone = true));
  while (!gone && Date.now() - t0 < 25_000) {
    try {
      cpuLast = cpuMs(pid);
      wallLast = Date.now();
    } catch {
      break; // exited between the check and the read
    }
    await sleep(200);
  }
  assert.ok(gone || (await Promise.race([exited.then(() => true), sleep(1000).then(() => false)])), `still running ${Date.now() - t0} ms after SIGTERM; output: ${output.slice(-2000)}`);
  const wall = Date.now() - t0;
  assert.ok(wall < 20_000, `exited ${wall} ms after SIGTERM (drain bound 10 s)`);
  const cpu = cpuLast - cpuBefore;
  assert.ok(cpu < 0.5 * (wallLast - t0) + 200, `the stopping process used ${cpu} ms of CPU in ${wallLast - t0} ms: it spun`);
  const line = /stopping with (\d+) URL outcomes not written/.exec(output);
  assert.ok(line, `no line naming the unwritten outcomes: ${output.slice(-2000)}`);
  assert.ok(Number(line[1]) > 0 && Number(line[1]) <= 100, line[0]);

  // Not lost: none of them is terminal in the store, and a new start does them.
  const open = await direct.query(`select count(*) as n from task_urls where status not in ('succeed', 'failed')`);
  assert.equal(Number(open.rows[0].n), 100);
  pgRelay.up();
  server = await startCli(serveArgs, /API listening/);
  children.push(server);
  const task = await waitTask(call, taskId, 60_000);
  assert.deepEqual([task.total, task.succeed, task.failed, task.processing], [100, 100, 0, 0]);
  await kill(server, 'SIGTERM');
  await kill(edge, 'SIGTERM');
});
