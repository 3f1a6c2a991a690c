// Graceful shutdown of `cachectl serve`, as a real child process: SIGTERM during a stream of creates
// exits 0 with every answered task stored; while the stop waits for a request in flight, a second signal
// exits at once (128 + its number), and --shutdown-timeout-ms ends the wait with exit 1 and what was left.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { startOrigin } from '../support/origin.js';
import { client } from '../support/signed-client.js';
import { addDomain } from '../support/test-server.js';
import { freePort, processScope, startCli } from '../support/processes.js';

const scope = processScope();
after(() => scope.end());

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-stop-'));
  scope.cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(extra: string[] = []): Promise<{ child: ChildProcess; dataDir: string; port: number; stdout: string[]; stderr: () => string; exited: Promise<number | null> }> {
  const dataDir = tempDir();
  const port = await freePort();
  const child = await startCli(['serve', '--data-dir', dataDir, '--port', String(port), '--builtin-edges', '1', '--edge-port', '0', '--edge-admin-port', '0', '--origin-allow', 'loopback', '--log-level', 'warn', ...extra], /API listening/);
  scope.children.push(child);
  const stdout: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, dataDir, port, stdout, stderr: () => err, exited };
}

/** A request whose body never comes: in flight until the body timeout. Resolves once the server read its headers. */
async function requestInFlight(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  scope.cleanups.push(async () => socket.destroy());
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  // Expect: 100-continue makes the server say when it has the headers.
  socket.write('POST /v1.0/cdn/content/refresh-tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  return socket;
}

async function untilLine(lines: string[], re: RegExp): Promise<void> {
  // Bounded: a line that never comes fails the test instead of hanging the run.
  for (let i = 0; !lines.some((l) => re.test(l)); i++) {
    assert.ok(i < 3000, `no line matching ${re} within 30 s:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('SIGTERM during a stream of creates: exit 0, and every answered task is stored', async () => {
  const origin = await startOrigin();
  scope.cleanups.push(() => origin.close());
  const server = await serve();
  const creds = JSON.parse(fs.readFileSync(path.join(server.dataDir, 'credentials.json'), 'utf8'));
  const call = client(`http://127.0.0.1:${server.port}`, { accessKey: creds.access_key, secretKey: creds.secret_key });
  await addDomain(call, 'www.stop.test', origin.port);

  const answered = new Map<string, number>();
  let n = 0;
  let signalled = false;
  // Four clients create until the server stops answering; the signal comes after the first 20 answers.
  const clients = Array.from({ length: 4 }, async () => {
    for (;;) {
      const urls = Array.from({ length: 20 }, (_, u) => `http://www.stop.test/${n}/${u}`);
      n++;
      let res;
      try {
        res = await call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
      } catch {
        return; // the connection was closed or refused: the server is gone
      }
      if (res.status === 200) answered.set(res.json.refresh_task as string, urls.length);
      else assert.equal(res.status, 503, `create: ${res.status} ${res.text}`); // while closing
      if (answered.size >= 20 && !signalled) {
        signalled = true;
        server.child.kill('SIGTERM');
      }
    }
  });
  await Promise.all(clients);
  assert.equal(await server.exited, 0, server.stderr());
  assert.ok(answered.size >= 20, `only ${answered.size} creates answered`);

  const db = new BetterSqlite3(path.join(server.dataDir, 'cachectl.db'), { readonly: true });
  try {
    const stored = new Map((db.prepare('select t.id, count(u.id) urls from tasks t left join task_urls u on u.task_id = t.id group by t.id').all() as Array<{ id: number; urls: number }>).map((r) => [String(r.id), r.urls]));
    for (const [id, urls] of answered) assert.equal(stored.get(id), urls, `task ${id} answered but not stored with its URLs`);
  } finally {
    db.close();
  }
});

test('a second signal while the stop waits for a request in flight exits at once', async () => {
  const server = await serve(['--shutdown-timeout-ms', '3600000']);
  await requestInFlight(server.port);
  server.child.kill('SIGTERM');
  await untilLine(server.stdout, /SIGTERM, stopping/);
  assert.equal(server.child.exitCode, null, 'the first SIGTERM waits for the request in flight');
  server.child.kill('SIGINT');
  assert.equal(await server.exited, 130, server.stderr());
  assert.match(server.stdout.join('\n'), /"level":"error".*SIGINT again, exiting at once; left: answering the requests in flight/);
});

test('a stop that outlasts --shutdown-timeout-ms exits 1 saying what was left', async () => {
  const server = await serve(['--shutdown-timeout-ms', '300']);
  await requestInFlight(server.port);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 1, server.stderr());
  assert.match(server.stdout.join('\n'), /"level":"error".*not stopped within 300 ms; left: answering the requests in flight/);
});
