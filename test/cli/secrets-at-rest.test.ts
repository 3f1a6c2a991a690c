// Secrets at rest and on screen (issue 11, item 6): the data directory and its files are the owner's
// only, even when an older version left them open; the bootstrap secrets can come from files (never
// argv) and never reach a process's output or the cluster's log files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { request } from 'undici';
import { client } from '../support/signed-client.js';
import { freePort, kill } from '../support/processes.js';
import { startTestCluster } from '../cluster/cluster-fixture.js';
import { messageOf } from '../../src/logging/log-line.js';

const MAIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../src/cli/main.js');

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

interface Serve {
  child: ChildProcess;
  api: string;
  output: () => string;
}

/** `cachectl serve <args>` as a child (stdout a pipe, as under a service manager or the cluster). */
async function serve(args: string[], env: Record<string, string> = {}): Promise<Serve> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', String(port), '--builtin-edges', '0', '--sqlite-sync', 'NORMAL', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      if (messageOf(line).startsWith('cachectl API listening')) {
        clearTimeout(timer);
        // The first start's notice follows at once; give it a moment to arrive in `output`.
        setTimeout(resolve, 200);
      }
    });
  });
  return { child, api: `http://127.0.0.1:${port}`, output: () => output };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-secrets-'));

test('a fresh data directory is 0700 and the database, its WAL files and credentials.json are 0600', async () => {
  const root = tmp();
  const dataDir = path.join(root, 'fresh', 'data');
  const s = await serve(['--data-dir', dataDir], { CACHECTL_BOOTSTRAP_PASSWORD: 'fresh-password-1' });
  try {
    // A write, so that the -wal and -shm files exist.
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
    const call = client(s.api, { accessKey: creds.access_key, secretKey: creds.secret_key });
    assert.equal((await call('POST', '/cachectl/v1/accounts', { body: { name: 'second' } })).status, 200);
    assert.equal(modeOf(dataDir).toString(8), '700');
    for (const f of ['cachectl.db', 'cachectl.db-wal', 'cachectl.db-shm', 'credentials.json']) {
      assert.equal(modeOf(path.join(dataDir, f)).toString(8), '600', f);
    }
    // The output is not a terminal: the generated secrets are not in it.
    assert.doesNotMatch(s.output(), new RegExp(creds.secret_key));
    assert.doesNotMatch(s.output(), /fresh-password-1/);
    assert.match(s.output(), /credentials\.json \(mode 0600\)/);
  } finally {
    await kill(s.child, 'SIGTERM');
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a data directory left 0755 with 0644 files is made 0700/0600 at start, with a warning for each', async () => {
  const root = tmp();
  const dataDir = path.join(root, 'data');
  let s = await serve(['--data-dir', dataDir]);
  await kill(s.child, 'SIGTERM');
  try {
    fs.chmodSync(dataDir, 0o755);
    const files = fs.readdirSync(dataDir);
    assert.ok(files.includes('cachectl.db') && files.includes('credentials.json'), files.join(' '));
    for (const f of files) fs.chmodSync(path.join(dataDir, f), 0o644);
    s = await serve(['--data-dir', dataDir]);
    assert.equal(modeOf(dataDir).toString(8), '700');
    for (const f of fs.readdirSync(dataDir)) assert.equal(modeOf(path.join(dataDir, f)).toString(8), '600', f);
    assert.match(s.output(), new RegExp(`"level":"warn".*${dataDir} was mode 0755.*made it 0700`));
    for (const f of files) assert.match(s.output(), new RegExp(`"level":"warn".*${path.join(dataDir, f)} was mode 0644.*made it 0600`), f);
  } finally {
    await kill(s.child, 'SIGTERM');
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('--bootstrap-password-file and --bootstrap-sk-file: the secrets work and are in neither argv nor the output', async (t) => {
  const root = tmp();
  const password = 'pw-from-file-7f3a9c';
  const secretKey = 'sk-from-file-0c1d2e3f4a5b6c7d8e9f';
  fs.writeFileSync(path.join(root, 'password'), `${password}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(root, 'sk'), `${secretKey}\n`, { mode: 0o600 });
  const s = await serve([
    '--data-dir', path.join(root, 'data'),
    '--bootstrap-password-file', path.join(root, 'password'),
    '--bootstrap-ak', 'AKFROMFILETEST000001',
    '--bootstrap-sk-file', path.join(root, 'sk'),
  ]);
  try {
    if (fs.existsSync(`/proc/${s.child.pid}/cmdline`)) {
      const argv = fs.readFileSync(`/proc/${s.child.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes('--bootstrap-sk-file'), argv.join(' '));
      assert.ok(!argv.some((a) => a.includes(password) || a.includes(secretKey)), argv.join(' '));
    } else t.diagnostic('no /proc: argv not read');
    assert.doesNotMatch(s.output(), new RegExp(`${password}|${secretKey}`));
    const signed = await client(s.api, { accessKey: 'AKFROMFILETEST000001', secretKey })('GET', '/cachectl/v1/accounts');
    assert.equal(signed.status, 200, signed.text);
    const login = await request(`${s.api}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password, domain: { name: 'admin' } } } } } }),
    });
    await login.body.dump();
    assert.equal(login.statusCode, 201);
  } finally {
    await kill(s.child, 'SIGTERM');
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("npm run cluster's files: the directory is 0700, its logs 0600 and free of the admin password and secret key", async () => {
  const cluster = await startTestCluster({ serves: 2, pops: 1, edgesPerPop: 1 });
  try {
    const { password, secretKey } = cluster.credentials;
    assert.equal(modeOf(cluster.dir).toString(8), '700');
    const logs = fs.readdirSync(cluster.dir).filter((f) => f.endsWith('.log'));
    assert.ok(logs.includes('serve-1.log') && logs.includes('serve-2.log'), logs.join(' '));
    for (const f of logs) {
      const file = path.join(cluster.dir, f);
      assert.equal(modeOf(file).toString(8), '600', f);
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(!text.includes(password), `${f} holds the admin password`);
      assert.ok(!text.includes(secretKey), `${f} holds the secret key`);
    }
    // The serves were given the secrets in their environment, not argv.
    for (const s of cluster.serves) {
      const cmdline = `/proc/${s.pid()}/cmdline`;
      if (fs.existsSync(cmdline)) assert.ok(!fs.readFileSync(cmdline, 'utf8').includes(password));
    }
  } finally {
    await cluster.close();
  }
});
