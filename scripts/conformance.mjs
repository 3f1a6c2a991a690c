// Starts cachectl exactly as the README says (`npm start`), on a fresh data directory and free ports,
// creates the second account the suite needs, runs ../shared/conformance against it, and stops it.
//   node scripts/conformance.mjs                         the built-in edges (the embedded default)
//   node scripts/conformance.mjs --fleet varnish:2       real engines instead: varnish, nginx, ats,
//   node scripts/conformance.mjs --fleet varnish,nginx,ats   registered as nodes (needs a build)
//   node scripts/conformance.mjs --cluster               the scale-out cluster: three serve processes on
//                                                        PostgreSQL behind a round-robin address, two PoPs
//                                                        whose NATS agents drive built-in edges
// With a fleet whose engine is not installed it exits 77 ("skipped"), unless CACHECTL_REQUIRE_ENGINES=1;
// --cluster without PostgreSQL or NATS likewise, unless CACHECTL_REQUIRE_SERVICES=1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { suiteEnv } from './conformance-env.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const suite = path.resolve(root, process.env.CACHECTL_CONFORMANCE_DIR ?? '../shared/conformance');
if (!fs.existsSync(suite)) {
  console.error(`conformance: no suite at ${suite} (set CACHECTL_CONFORMANCE_DIR)`);
  process.exit(1);
}
const { signRequest } = await import(path.join(root, 'dist/src/signing/sdk-signature.js'));
const { messageOf } = await import(path.join(root, 'dist/src/logging/log-line.js'));
const { values: args } = parseArgs({ options: { fleet: { type: 'string' }, cluster: { type: 'boolean' } } });
if (args.cluster) {
  const { runOnCluster } = await import('./conformance-cluster.mjs');
  process.exit(await runOnCluster(root, suite));
}
const local = await import(path.join(root, 'dist/src/edge/local-engines.js'));
const fleet = args.fleet ? local.parseFleet(args.fleet) : [];
for (const engine of new Set(fleet)) {
  const missing = await local.engineMissing(engine);
  if (missing) {
    console.error(`conformance --fleet ${args.fleet}: ${missing}`);
    process.exit(process.env.CACHECTL_REQUIRE_ENGINES === '1' ? 1 : 77);
  }
}
const enginesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-conformance-engines-'));
const nodes = [];
const stopNodes = async () => {
  for (const n of nodes.splice(0)) await n.stop().catch((e) => console.error(`conformance: stopping ${n.name}: ${e.message}`));
  fs.rmSync(enginesDir, { recursive: true, force: true });
};
try {
  const counts = {};
  for (const engine of fleet) {
    counts[engine] = (counts[engine] ?? 0) + 1;
    nodes.push(await local.startLocalNode(engine, enginesDir, `${engine}-${counts[engine]}`));
  }
} catch (err) {
  console.error(`conformance: starting ${args.fleet}: ${err.message}`);
  await stopNodes();
  process.exit(1);
}

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
    ...(fleet.length > 0 && { CACHECTL_BUILTIN_EDGES: '0' }),
  },
});
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
  // On an early exit (an exception) the engines go too; the normal path stops them in order.
  for (const n of nodes) for (const pid of n.pids) try { process.kill(pid, 'SIGTERM'); } catch {}
};
process.on('exit', stop);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

const edges = [];
let api;
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('conformance: the server did not start within 120 s')), 120_000);
  server.on('exit', (code) => reject(new Error(`conformance: the server exited with ${code}`)));
  readline.createInterface({ input: server.stdout }).on('line', (logLine) => {
    const line = messageOf(logLine);
    const edge = /^edge \S+: traffic (\S+),/.exec(line);
    if (edge) edges.push(edge[1]);
    const m = /^cachectl API listening on (\S+)/.exec(line);
    if (m) api = m[1];
    // The first start's notice comes after the credentials file is written (the secrets themselves
    // are shown on a terminal only, never logged).
    if (api && line.startsWith('First start')) {
      clearTimeout(timer);
      resolve();
    }
  });
});
const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));

/** A signed admin call, as the CLI makes it. */
async function admin(method, pathname, payload) {
  const body = JSON.stringify(payload);
  const url = new URL(pathname, api);
  const headers = { 'content-type': 'application/json', host: url.host };
  Object.assign(headers, signRequest({ method, path: url.pathname, headers, body, accessKey: creds.access_key, secretKey: creds.secret_key }));
  const res = await request(url, { method, headers, body });
  const answer = await res.body.json();
  if (res.statusCode !== 200) throw new Error(`conformance: ${method} ${pathname} failed: ${JSON.stringify(answer)}`);
  return answer;
}

// The engine nodes, registered as `cachectl nodes add` does it.
for (const n of nodes) {
  await admin('POST', '/cachectl/v1/nodes', { name: n.name, driver: n.driver, traffic_url: n.trafficUrl, control_url: n.controlUrl, secret: n.secret });
  edges.push(n.trafficUrl);
}
// The second account, through the admin API as `cachectl accounts add` does it.
const other = await admin('POST', '/cachectl/v1/accounts', { name: 'conformance-other', user: 'admin' });

console.log(`conformance: ${suite} against ${api}, ${fleet.length ? `fleet ${args.fleet}` : 'built-in'} edges ${edges.join(', ')}`);
const run = spawn(process.execPath, ['--test', suite], {
  stdio: 'inherit',
  env: { ...process.env, ...suiteEnv({ api, accessKey: creds.access_key, secretKey: creds.secret_key, other, account: creds.account, user: creds.user, password: creds.password, edges }) },
});
const code = await new Promise((resolve) => run.on('exit', (c) => resolve(c ?? 1)));
stop();
await stopNodes();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
