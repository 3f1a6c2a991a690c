// `npm start` and `npm run cluster`: compile only when dist/ is older than its sources. The stamp
// (dist/.build-stamp) is written after a clean tsc and holds the list of compiled sources; its mtime is
// the build's start, so a file saved during a build makes the next start build again. Any newer source,
// tsconfig.json or package-lock.json, or a source added or removed, means a build: never stale code.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stamp = path.join(root, 'dist/.build-stamp');
const SOURCE_DIRS = ['src', 'test', 'bench'];

function sources() {
  const files = [];
  for (const dir of SOURCE_DIRS) {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs, { recursive: true })) if (String(f).endsWith('.ts')) files.push(path.join(dir, String(f)));
  }
  return files.sort();
}

/** Why a build is needed, or undefined when dist/ is current. */
export function staleReason(files = sources()) {
  if (!fs.existsSync(stamp)) return 'no build stamp';
  const built = fs.statSync(stamp).mtimeMs;
  if (fs.readFileSync(stamp, 'utf8') !== files.join('\n') + '\n') return 'sources added or removed';
  for (const f of [...files, 'tsconfig.json', 'package-lock.json', 'package.json']) {
    const file = path.join(root, f);
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= built) return `${f} changed`;
  }
  return undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(root, 'scripts/build-if-stale.mjs')) {
  const files = sources();
  // --always (npm run build): compile whatever the stamp says, and stamp the result.
  const reason = process.argv.includes('--always') ? 'npm run build' : staleReason(files);
  if (reason !== undefined) {
    const started = new Date();
    if (!process.argv.includes('--always')) console.error(`cachectl: building (${reason})…`);
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      fs.rmSync(stamp, { force: true });
      process.exit(r.status ?? 1);
    }
    fs.writeFileSync(stamp, files.join('\n') + '\n');
    fs.utimesSync(stamp, started, started);
  }
}
