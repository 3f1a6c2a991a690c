// npm test: the compiled unit and integration tests (dist/test/**/*.test.js), then the black-box
// conformance suite against a server started as the README says. Node 20's --test takes no globs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const files = fs
  .readdirSync(path.join(root, 'dist/test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => path.join('dist/test', f))
  .sort();
const only = process.env.CACHECTL_TEST_ONLY; // e.g. "edge/" to run a subset
const selected = only ? files.filter((f) => f.includes(only)) : files;

// Every test on the first store; then the API, service and engine tests once more on each further store
// (as Kysely runs its suite once per dialect): every file there that builds its server or store through
// test/support/test-server.ts or stores.ts, unless its header says `// Single store: <store> only (why)`.
const [FIRST_STORE, ...FURTHER_STORES] = ['sqlite', 'postgres'];
const unit = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...selected], { cwd: root, stdio: 'inherit', env: { ...process.env, CACHECTL_TEST_STORE: FIRST_STORE } });
if (unit.status !== 0) process.exit(unit.status ?? 1);
const PER_STORE_DIRS = ['api', 'services', 'engine', 'edge', 'compat'].map((d) => path.join('dist/test', d) + path.sep);
const usesStoreFixture = (text) => /from '\.\.\/support\/(test-server|stores)\.js'/.test(text) && !/^\/\/ Single store: /m.test(text);
const perStore = selected.filter((f) => PER_STORE_DIRS.some((d) => f.startsWith(d)) && usesStoreFixture(fs.readFileSync(path.join(root, f), 'utf8')));
for (const store of FURTHER_STORES) {
  if (perStore.length === 0) break;
  console.log(`# the API, service and engine tests again on ${store}: ${perStore.length} files`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...perStore], { cwd: root, stdio: 'inherit', env: { ...process.env, CACHECTL_TEST_STORE: store } });
  if (run.status !== 0) {
    console.error(`tests on ${store}: FAILED`);
    process.exit(run.status ?? 1);
  }
  console.log(`# tests on ${store}: ${Math.round((Date.now() - started) / 1000)} s`);
}
if (process.env.CACHECTL_SKIP_CONFORMANCE === '1') process.exit(0);
// The conformance suite once on the built-in edges, then once per real engine (two nodes each) and
// once on a mixed fleet. An engine that is not installed is skipped with a notice (exit 77), except
// where CACHECTL_REQUIRE_ENGINES=1 (CI) makes it a failure.
const { ENGINE_NAMES } = await import(path.join(root, 'dist/src/edge/local-engines.js'));
const fleets = [undefined, ...ENGINE_NAMES.map((e) => `${e}:2`), ENGINE_NAMES.map((e) => `${e}:1`).join(',')];
const skipped = [];
for (const fleet of fleets) {
  const args = [path.join(root, 'scripts/conformance.mjs'), ...(fleet ? ['--fleet', fleet] : [])];
  const conf = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (conf.status === 77) skipped.push(fleet);
  else if (conf.status !== 0) {
    console.error(`conformance ${fleet ?? 'built-in'}: FAILED`);
    process.exit(conf.status ?? 1);
  }
}
// The scale-out cluster: PostgreSQL, three serve processes, NATS agents (exit 77: no PostgreSQL or NATS).
const cluster = spawnSync(process.execPath, [path.join(root, 'scripts/conformance.mjs'), '--cluster'], { cwd: root, stdio: 'inherit' });
if (cluster.status === 77) skipped.push('the cluster (no PostgreSQL or NATS)');
else if (cluster.status !== 0) {
  console.error('conformance cluster: FAILED');
  process.exit(cluster.status ?? 1);
}
if (skipped.length > 0) console.error(`conformance SKIPPED on ${skipped.join(' and ')}: engines not installed (scripts/install-engines.sh)`);
