// scripts/build-if-stale.mjs on a small project of its own: it compiles on the first run, not on a run
// with nothing changed, and again when a source is edited, added or removed, or tsconfig.json changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-build-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the script; returns why it built, or undefined when it did not. */
function start(): string | undefined {
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts/build-if-stale.mjs')], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return /building \((.*)\)/.exec(r.stderr)?.[1];
}

test('compiles exactly when dist/ is older than the sources', () => {
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.copyFileSync(path.join(repo, 'scripts/build-if-stale.mjs'), path.join(dir, 'scripts/build-if-stale.mjs'));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: '.', module: 'Node16', target: 'ES2022', types: [] }, include: ['src'] }));
  fs.writeFileSync(path.join(dir, 'src/a.ts'), 'export const a = 1;\n');
  const aJs = path.join(dir, 'dist/src/a.js');

  assert.equal(start(), 'no build stamp');
  assert.match(fs.readFileSync(aJs, 'utf8'), /a = 1/);
  assert.equal(start(), undefined, 'nothing changed: no build');

  fs.writeFileSync(path.join(dir, 'src/a.ts'), 'export const a = 2;\n');
  assert.equal(start(), 'src/a.ts changed');
  assert.match(fs.readFileSync(aJs, 'utf8'), /a = 2/, 'the edit is what runs');
  assert.equal(start(), undefined);

  fs.writeFileSync(path.join(dir, 'src/b.ts'), 'export const b = 1;\n');
  assert.equal(start(), 'sources added or removed');
  fs.rmSync(path.join(dir, 'src/b.ts'));
  assert.equal(start(), 'sources added or removed');

  fs.appendFileSync(path.join(dir, 'tsconfig.json'), '\n');
  assert.equal(start(), 'tsconfig.json changed');
  assert.equal(start(), undefined);
});
