// Single store: SQLite only (the tasks are read from the server's SQLite file).
// A whole conformance pass against a real `cachectl serve` at --log-level info, through a proxy that
// notes every call and every secret on the wire: each call the suite made has exactly one request line
// (its request id, method and status), each task the pass made has its `task accepted` and `task done`
// lines with the store's counts, and none of the run's secrets (passwords, secret keys, tokens,
// signatures) is anywhere in the process's output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { addSecondAccount, readCredentials, requireSuite, runSuite, startServe, suiteSkip, tail, type ServeProcess } from '../support/conformance-run.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { client } from '../support/signed-client.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-conf-logs-'));
let serve: ServeProcess | undefined;
let proxy: RecordingProxy | undefined;
after(async () => {
  await proxy?.close();
  await serve?.stop('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

type Entry = Record<string, any> & { level: string; msg: string };

/** The process's standard output as log entries; any line that is not one fails the test. */
function entriesOf(output: string): Entry[] {
  return output
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      try {
        return JSON.parse(l) as Entry;
      } catch {
        assert.fail(`a line of the output is not a JSON log line: ${l}`);
      }
    });
}

test('a conformance pass at info: a request line for every call, task lines for every task, no secret in the log', { skip: suiteSkip(), timeout: 600_000 }, async () => {
  requireSuite();
  serve = await startServe({ dataDir, logLevel: 'info' });
  proxy = await startRecordingProxy(serve.api);
  const creds = readCredentials(dataDir);
  const other = await addSecondAccount(client(serve.api, { accessKey: creds.access_key, secretKey: creds.secret_key }));
  const suite = await runSuite({ api: proxy.url, edges: serve.edges }, creds, other);
  assert.equal(suite.code, 0, `the conformance suite failed:\n${tail(suite.output)}`);

  // The log is written in chunks (at most 100 ms behind), and the suite does not wait for the last URLs of
  // its tasks: wait (bounded) until every call's request line and every task's done line is out.
  const loggedIds = () => new Set(entriesOf(serve!.stdout()).filter((e) => e.msg === 'request').map((e) => e.request_id as string));
  for (let i = 0; proxy.crossings.some((c) => c.requestId && !loggedIds().has(c.requestId)); i++) {
    assert.ok(i < 50, 'calls without a request line 5 s after the suite');
    await new Promise((r) => setTimeout(r, 100));
  }
  const tasks = () => {
    const db = new BetterSqlite3(path.join(dataDir, 'cachectl.db'), { readonly: true });
    try {
      return db.prepare('select id, task_type, status, total, succeed, failed from tasks').all() as Array<{ id: number; task_type: string; status: string; total: number; succeed: number; failed: number }>;
    } finally {
      db.close();
    }
  };
  const doneLines = () => new Map(entriesOf(serve!.stdout()).filter((e) => e.msg === 'task done').map((e) => [e.task_id as number, e]));
  for (let i = 0; tasks().some((t) => t.status !== 'task_done' || !doneLines().has(t.id)); i++) {
    assert.ok(i < 600, 'tasks not done, or without a done line, a minute after the suite');
    await new Promise((r) => setTimeout(r, 100));
  }
  const entries = entriesOf(serve.stdout());

  // Every call: one request line with its id, method and status.
  const requests = new Map<string, Entry[]>();
  for (const e of entries.filter((e) => e.msg === 'request')) requests.set(e.request_id, [...(requests.get(e.request_id) ?? []), e]);
  assert.ok(proxy.crossings.length > 300, `the suite made ${proxy.crossings.length} calls`);
  for (const c of proxy.crossings) {
    assert.ok(c.requestId, `${c.method} ${c.path} (${c.status}) was answered without X-Request-Id`);
    const lines = requests.get(c.requestId) ?? [];
    assert.equal(lines.length, 1, `${c.method} ${c.path}: ${lines.length} request lines for ${c.requestId}`);
    assert.deepEqual({ method: lines[0].method, status: lines[0].status, level: lines[0].level }, { method: c.method, status: c.status, level: 'info' }, `${c.method} ${c.path}`);
    if (c.status < 400 && !c.path.startsWith('/v3/auth/tokens')) assert.ok(lines[0].account === creds.account || lines[0].account === 'conformance-other', `${c.method} ${c.path}: account ${lines[0].account}`);
  }

  // Every task: accepted once with its URL count, done once with the store's counts.
  const all = tasks();
  assert.ok(all.length > 20, `${all.length} tasks`);
  const accepted = entries.filter((e) => e.msg === 'task accepted');
  const done = entries.filter((e) => e.msg === 'task done');
  for (const t of all) {
    const a = accepted.filter((e) => e.task_id === t.id);
    const d = done.filter((e) => e.task_id === t.id);
    assert.equal(a.length, 1, `task ${t.id}: ${a.length} accepted lines`);
    assert.equal(d.length, 1, `task ${t.id}: ${d.length} done lines`);
    assert.deepEqual({ type: a[0].task_type, urls: a[0].urls }, { type: t.task_type, urls: t.total }, `task ${t.id} accepted`);
    assert.deepEqual({ total: d[0].total, succeed: d[0].succeed, failed: d[0].failed }, { total: t.total, succeed: t.succeed, failed: t.failed }, `task ${t.id} done`);
  }
  const failedUrls = entries.filter((e) => e.msg === 'url failed');
  const failedInStore = all.reduce((n, t) => n + t.failed, 0);
  const unlogged = done.reduce((n, e) => n + (e.failed_urls_not_logged ?? 0), 0);
  assert.equal(failedUrls.length + unlogged, failedInStore, 'a url failed line for every failed URL, or counted as not logged');

  // No secret of the run anywhere in the output.
  const secrets = new Map<string, string>([
    [creds.password, 'the admin password'],
    [creds.secret_key, 'the admin secret key'],
    [other.secret_key, 'the second account secret key'],
  ]);
  for (const s of proxy.secrets) if (!secrets.has(s)) secrets.set(s, 'a signature, token or password seen on the wire');
  assert.ok(secrets.size > 50, `${secrets.size} secrets seen`);
  const output = serve.output();
  for (const [secret, what] of secrets) assert.ok(!output.includes(secret), `${what} (${secret.slice(0, 6)}…) is in the log`);
});
