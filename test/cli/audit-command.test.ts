// cachectl audit and the creator in cachectl task, run as the built CLI against a real server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, addDomain } from '../support/test-server.js';
import { startOrigin } from '../support/origin.js';
import { jsonLines, runCli, type Run } from './run-cli.js';

const s = await startTestServer();
const origin = await startOrigin();
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-audit-cli-'));
after(async () => {
  await s.close();
  await origin.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const cli = (args: string[]): Promise<Run> => runCli([...args, '--data-dir', s.dataDir, '--api', s.server.url], { env: { HOME: home } });
const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

test('cachectl audit: the table, --json, --ndjson and the filters; cachectl task shows who created the task', async () => {
  await addDomain(s.call, 'www.audit-cli.test', origin.port);
  const made = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: ['http://www.audit-cli.test/a'] } } });
  assert.equal(made.status, 200, made.text);
  const id = made.json.refresh_task;
  const nope = '0'.repeat(32);
  const missing = await s.call('PUT', `/v1.0/cdn/domains/${nope}/disable`);
  assert.equal(missing.status, 400, missing.text);
  const key = s.server.bootstrap!.accessKey;

  const table = await cli(['audit', '--since', '1h']);
  ok(table, 'audit');
  assert.match(table.stdout, /^TIME\s+USER\s+KEY\s+ACTION\s+RESOURCE\s+STATUS\s+ERROR\s+SOURCE/);
  assert.match(table.stdout, new RegExp(`admin\\s+${key}\\s+cdn:configuration:refreshCache\\s+task/${id}\\s+200`));

  const failures = await cli(['audit', '--outcome', 'failure', '--json']);
  ok(failures, 'audit --outcome failure --json');
  const [page] = jsonLines(failures.stdout);
  assert.deepEqual(
    page.events.map((e: any) => [e.action, e.resource, e.status, e.error_code]),
    [['cdn:configuration:disableDomains', `domain/${nope}`, 400, 'CDN.0105']],
  );

  const ndjson = await cli(['audit', '--ndjson', '--action', 'cdn:*']);
  ok(ndjson, 'audit --ndjson');
  const events = jsonLines(ndjson.stdout);
  assert.deepEqual(events.map((e) => e.action), ['cdn:configuration:disableDomains', 'cdn:configuration:refreshCache', 'cdn:configuration:createDomains']);
  assert.ok(!ndjson.stdout.includes(s.server.bootstrap!.secretKey));

  const none = await cli(['audit', '--user', 'nobody']);
  ok(none, 'audit --user');
  assert.match(none.stdout, /No audit records match/);
  const bad = await cli(['audit', '--since', 'soon']);
  assert.equal(bad.code, 2);

  const shown = await cli(['task', String(id)]);
  ok(shown, 'task');
  assert.match(shown.stdout, new RegExp(`created by:\\s+admin \\(key ${key}\\)`));
  assert.match(shown.stdout, /project:\s+0/);
});
