// Starts cachectl exactly as the README says (`npm start`), on a fresh data directory and free ports,
// creates the second account the suite needs, runs ../shared/conformance against it, and stops it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { request } from 'undici';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const suite = path.resolve(root, process.env.CACHECTL_CONFORMANCE_DIR ?? '../shared/conformance');
if (!fs.existsSync(suite)) {
  console.error(`conformance: no suite at ${suite} (set CACHECTL_CONFORMANCE_DIR)`);
  process.exit(1);
}
const { signRequest } = await import(path.join(root, 'dist/src/api/auth/sdk-signature.js'));

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-conformance-'));
const server = spawn('npm', ['start', '--silent'], {
  cwd: root,
  detached: true, // its own process group, so that npm and node stop together
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    CACHECTL_DATA_DIR: dataDir,
    CACHECTL_PORT: '0',
    CACHECTL_EDGE_PORT: '0',
    CACHECTL_EDGE_ADMIN_PORT: '0',
    CACHECTL_BOOTSTRAP_ACCOUNT: 'conformance',
    CACHECTL_LOG_LEVEL: 'warn',
  },
});
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
};
process.on('exit', stop);

const edges = [];
let api;
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('conformance: the server did not start within 120 s')), 120_000);
  server.on('exit', (code) => reject(new Error(`conformance: the server exited with ${code}`)));
  readline.createInterface({ input: server.stdout }).on('line', (line) => {
    const edge = /^edge \S+: traffic (\S+),/.exec(line);
    if (edge) edges.push(edge[1]);
    const m = /^cachectl API listening on (\S+)/.exec(line);
    if (m) api = m[1];
    if (line.startsWith('First start') || (api && /secret key:/.test(line))) {
      if (api && /secret key:/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    }
  });
});
const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));

// The second account, through the admin API as `cachectl accounts add` does it.
const body = JSON.stringify({ name: 'conformance-other', user: 'admin' });
const url = new URL('/cachectl/v1/accounts', api);
const headers = { 'content-type': 'application/json', host: url.host };
Object.assign(headers, signRequest({ method: 'POST', path: url.pathname, headers, body, accessKey: creds.access_key, secretKey: creds.secret_key }));
const res = await request(url, { method: 'POST', headers, body });
const other = await res.body.json();
if (res.statusCode !== 200) throw new Error(`conformance: creating the second account failed: ${JSON.stringify(other)}`);

console.log(`conformance: ${suite} against ${api}, edges ${edges.join(', ')}`);
const run = spawn(process.execPath, ['--test', suite], {
  stdio: 'inherit',
  env: {
    ...process.env,
    CONF_API: api,
    CONF_AK: creds.access_key,
    CONF_SK: creds.secret_key,
    CONF_AK2: other.access_key,
    CONF_SK2: other.secret_key,
    CONF_ACCOUNT: creds.account,
    CONF_USER: creds.user,
    CONF_PASSWORD: creds.password,
    CONF_EDGES: edges.join(','),
  },
});
const code = await new Promise((resolve) => run.on('exit', (c) => resolve(c ?? 1)));
stop();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
