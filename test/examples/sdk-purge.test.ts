// examples/sdk-purge.mjs, the README's SDK example, runs as written against a real server: the purge it
// sends becomes a task that every edge applies, and a refusal is reported with the API's error code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addDomain, startTestServer, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { waitTask } from '../support/signed-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const example = path.join(root, 'examples/sdk-purge.mjs');

let server: TestServer;
let origin: TestOrigin;

before(async () => {
  server = await startTestServer();
  origin = await startOrigin();
  await addDomain(server.call, 'www.example.test', origin.port);
});
after(async () => {
  await server?.close();
  await origin?.close();
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [example, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the example purges through the official SDK: the task it prints is done on every edge', async () => {
  const b = server.server.bootstrap!;
  const url = 'http://www.example.test/a.js';
  const r = await run([url], { CACHECTL_API: server.server.url, HUAWEICLOUD_SDK_AK: b.accessKey, HUAWEICLOUD_SDK_SK: b.secretKey });
  assert.equal(r.code, 0, r.stderr);
  const id = /^refresh task (\d+)$/m.exec(r.stdout)?.[1];
  assert.ok(id, `a task id in: ${r.stdout}`);
  const detail = await waitTask(server.call, id);
  assert.equal(detail.task_type, 'refresh');
  assert.deepEqual(
    detail.urls.map((u: { url: string; status: string }) => [u.url, u.status]),
    [[url, 'succeed']],
  );
});

test('a refusal exits 1 with the API error code', async () => {
  const b = server.server.bootstrap!;
  const r = await run(['http://www.example.test/a.js'], { CACHECTL_API: server.server.url, HUAWEICLOUD_SDK_AK: b.accessKey, HUAWEICLOUD_SDK_SK: 'not-the-secret-key' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /APIGW\.0301/);
});

test("the README's SDK code is the example file's, line for line", () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### With the official SDK'));
  assert.ok(section.includes('(examples/sdk-purge.mjs)'), 'the README links the example');
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'a js block in the section');
  const fileLines = fs.readFileSync(example, 'utf8').split('\n').map((l) => l.trim());
  let at = 0;
  for (const line of block.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const found = fileLines.indexOf(line, at);
    assert.ok(found >= 0, `README line not in examples/sdk-purge.mjs (in order): ${line}`);
    at = found + 1;
  }
});
