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

const unit = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...selected], { cwd: root, stdio: 'inherit' });
if (unit.status !== 0) process.exit(unit.status ?? 1);
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
