// Dependencies go one way (README, "Layout"): the request signer is its own module that the CLI and the
// API both import, the CLI takes only types from the API, and the cluster launcher does not reach into
// the CLI. Read from the sources, so a new import that breaks a rule fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
  dynamic?: boolean;
}

/** Every relative import of the .ts files under `dir` (static, `import type`, dynamic), resolved to a path under src/. */
function importsUnder(dir: string): Import[] {
  const out: Import[] = [];
  for (const rel of fs.readdirSync(path.join(src, dir), { recursive: true }).map(String)) {
    if (!rel.endsWith('.ts')) continue;
    const file = path.join(src, dir, rel);
    const text = fs.readFileSync(file, 'utf8');
    const patterns = [/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm, /import\(\s*'(\.[^']+)'\s*\)/g];
    for (const m of text.matchAll(patterns[0])) out.push({ file, target: resolveIn(file, m[3]), typeOnly: m[2] !== undefined });
    for (const m of text.matchAll(patterns[1])) out.push({ file, target: resolveIn(file, m[1]), typeOnly: false, dynamic: true });
  }
  return out;
}

function resolveIn(file: string, spec: string): string {
  return path.relative(src, path.resolve(path.dirname(file), spec));
}

const show = (list: Import[]) => list.map((i) => `${path.relative(src, i.file)} -> ${i.target}`);

test('the signer depends on nothing else in src/', () => {
  const outside = importsUnder('signing').filter((i) => !i.target.startsWith('signing/'));
  assert.deepEqual(show(outside), []);
});

test('the CLI takes only types from the API; its client signs with the shared signer', () => {
  assert.deepEqual(show(importsUnder('cli').filter((i) => i.target.startsWith('api/') && !i.typeOnly)), []);
  assert.deepEqual(show(importsUnder('client').filter((i) => !i.target.startsWith('signing/') && !i.target.startsWith('client/'))), []);
  assert.ok(importsUnder('client').some((i) => i.target === 'signing/sdk-signature.js' && !i.typeOnly), 'the API client imports the signer from src/signing/');
});

test('the API verifies with the shared signer', () => {
  assert.ok(importsUnder('api').some((i) => i.target.startsWith('signing/')), 'the API imports src/signing/');
});

test('the cluster launcher does not import the CLI', () => {
  assert.deepEqual(show(importsUnder('cluster').filter((i) => i.target.startsWith('cli/'))), []);
});

test('the server bootstraps its admin account through AccountService, not the repositories', () => {
  const server = importsUnder('.').filter((i) => path.relative(src, i.file) === 'server.ts');
  assert.deepEqual(show(server.filter((i) => i.target.startsWith('store/repositories/account'))), []);
});

test('client commands start without the logger: nothing the CLI entry loads eagerly, at any depth, loads pino', () => {
  const eager = new Map<string, string[]>();
  for (const i of importsUnder('.')) {
    if (i.typeOnly || i.dynamic) continue;
    const from = path.relative(src, i.file);
    eager.set(from, [...(eager.get(from) ?? []), i.target.replace(/\.js$/, '.ts')]);
  }
  // Every module reached from cli/main.ts by static imports, with the chain that reaches it.
  const reached = new Map<string, string[]>([['cli/main.ts', ['cli/main.ts']]]);
  const queue = ['cli/main.ts'];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const target of eager.get(file) ?? []) {
      if (reached.has(target)) continue;
      reached.set(target, [...reached.get(file)!, target]);
      queue.push(target);
    }
  }
  assert.ok(reached.size > 10, `the walk found ${reached.size} modules`);
  const loadsPino = ['logging/logger.ts', 'server.ts', 'api/app.ts'];
  assert.deepEqual(loadsPino.filter((f) => reached.has(f)).map((f) => reached.get(f)!.join(' -> ')), []);
});
