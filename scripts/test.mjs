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
const conf = spawnSync(process.execPath, [path.join(root, 'scripts/conformance.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(conf.status ?? 1);
