// `cachectl edge` as a process: its control port takes the secret of --secret-file, listens on
// --admin-host (default 127.0.0.1) rather than the traffic address, and the command refuses to start
// with a control port beyond loopback and no secret.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { request } from 'undici';
import { startOrigin, type TestOrigin } from '../edge/builtin-edge-fixture.js';
import { kill } from '../support/processes.js';

const MAIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../src/cli/main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-edge-cmd-'));
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) await kill(c);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `cachectl edge <args>` to its exit (it must not start). */
function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'edge', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => reject(new Error(`cachectl edge ${args.join(' ')} is still running: ${stdout}`)), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `cachectl edge <args>`; resolves with its URLs once it logs them, and its later warning lines. */
async function startEdge(args: string[]): Promise<{ trafficUrl: string; controlUrl: string; warnings: () => string }> {
  const child = spawn(process.execPath, [MAIN, 'edge', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  let warnings = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cachectl edge did not start: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`cachectl edge exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      let entry: { level: string; msg: string };
      try {
        entry = JSON.parse(l) as { level: string; msg: string };
      } catch {
        reject(new Error(`cachectl edge wrote a line that is not a JSON log line: ${l}`));
        return;
      }
      if (entry.level === 'warn') warnings += `${entry.msg}\n`;
      if (!entry.msg.startsWith('edge ')) return;
      clearTimeout(timer);
      resolve(entry.msg);
    });
  });
  const m = /^edge \S+: traffic (\S+), control (\S+)$/.exec(line);
  assert.ok(m, line);
  return { trafficUrl: m[1], controlUrl: m[2], warnings: () => stderr + warnings };
}

function secretFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

test('a control port beyond loopback without a secret: exits 2 with a one-line reason', async () => {
  for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
    const res = await runToExit(['--port', '0', '--admin-port', '0', '--admin-host', host]);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stdout, '');
    assert.equal(res.stderr, `cachectl: the control port would listen on ${host}, beyond loopback, without a secret: give --secret-file F\n`);
  }
});

test('a secret file that is missing, empty or short: exits 2 and says so', async () => {
  const cases: Array<[string, RegExp]> = [
    [path.join(dir, 'nope'), /^cachectl: --secret-file: cannot read .*nope: ENOENT/],
    [secretFile('empty', '\n'), /at least 16 characters/],
    [secretFile('short', 'abc\n'), /at least 16 characters/],
  ];
  for (const [file, message] of cases) {
    const res = await runToExit(['--port', '0', '--admin-port', '0', '--secret-file', file]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, message);
    assert.equal(res.stderr.split('\n').length, 2, `one line: ${res.stderr}`);
  }
});

test('with --secret-file: anonymous and wrong callers get 401 and change nothing, the right one drives it; the control port is on 127.0.0.1, not the traffic address', async () => {
  let origin: TestOrigin | undefined;
  try {
    origin = await startOrigin();
    origin.put('/x.txt');
    const secret = 'e'.repeat(40);
    const edge = await startEdge(['--name', 'cmd', '--host', '127.0.0.2', '--port', '0', '--admin-port', '0', '--secret-file', secretFile('good', `${secret}\n`), '--origin-allow', 'loopback']);
    assert.equal(new URL(edge.trafficUrl).hostname, '127.0.0.2');
    assert.equal(new URL(edge.controlUrl).hostname, '127.0.0.1');
    const adminPort = new URL(edge.controlUrl).port;
    await assert.rejects(request(`http://127.0.0.2:${adminPort}/health`), /ECONNREFUSED/);

    const domains = JSON.stringify({ version: 1, domains: [{ name: 'www.cmd.test', sources: [{ address: '127.0.0.1', primary: true, httpPort: origin.port }] }] });
    const put = (headers: Record<string, string>) => request(`${edge.controlUrl}/domains`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: domains });
    const served = async () => {
      const res = await request(`${edge.trafficUrl}/x.txt`, { headers: { host: 'www.cmd.test' } });
      await res.body.dump();
      return res.statusCode;
    };
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${secret}e` }] as Array<Record<string, string>>) {
      const res = await put(headers);
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      await res.body.dump();
      const purge = await request(`${edge.controlUrl}/purge`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"items":[{"host":"www.cmd.test","path":"/x.txt"}]}' });
      assert.equal(purge.statusCode, 401);
      await purge.body.dump();
    }
    assert.equal(await served(), 404, 'no domain was applied');
    assert.equal(origin.arrived('/x.txt'), 0);
    const ok = await put({ authorization: `Bearer ${secret}` });
    assert.equal(ok.statusCode, 200, await ok.body.text());
    assert.equal(await served(), 200);
    assert.equal(edge.warnings(), '', 'no warning with a secret');
  } finally {
    await origin?.close();
  }
});

test('without --secret-file on loopback it starts, and warns that any local user can drive it', async () => {
  const edge = await startEdge(['--port', '0', '--admin-port', '0']);
  const res = await request(`${edge.controlUrl}/health`);
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  // Written just after the stdout line: give the pipe a moment.
  for (let i = 0; i < 100 && edge.warnings() === ''; i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(edge.warnings(), /no --secret-file: any local user can drive the control port/);
});
