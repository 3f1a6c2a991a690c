// What `npm publish` would ship (package.json "files"): the compiled server, the engine templates and
// the README; no tests, benchmarks, data, CI or TypeScript sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

test('npm pack lists dist/src, engines and README, and nothing of the tests, bench, data or CI', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
  const files = pack.files.map((f) => f.path);
  for (const needed of ['package.json', 'README.md', 'dist/src/cli/main.js', 'dist/src/server.js', 'engines/varnish/base.vcl', 'engines/nginx/nginx.conf', 'engines/ats/records.config']) {
    assert.ok(files.includes(needed), `ships ${needed}`);
  }
  const unwanted = files.filter((f) => /^(dist\/(test|bench)|test|bench|data|src|scripts|deploy|docs|examples|\.ci|node_modules)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'));
  assert.deepEqual(unwanted, []);
});
