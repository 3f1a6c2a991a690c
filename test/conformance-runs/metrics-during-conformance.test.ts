// Single store: SQLite only (the truth is read from the server's SQLite file).
// A whole conformance pass against a real `cachectl serve` with --metrics-listen: /metrics scraped
// before and after, and the deltas of the task, URL, latency, node and HTTP series checked against
// what the server's own store says the pass did.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { parsePrometheusText, type Scrape } from '../support/prometheus-text.js';
import { conformancePass, requireSuite, startServe, suiteSkip, tail, type ServeProcess } from '../support/conformance-run.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-conf-metrics-'));
let serve: ServeProcess | undefined;
after(async () => {
  await serve?.stop('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return parsePrometheusText(await res.text());
}

/** What the store says, read from the SQLite file beside the running server (WAL: readers do not block it). */
function readStore<T>(read: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(path.join(dataDir, 'cachectl.db'), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const countBy = (db: BetterSqlite3.Database, sql: string): Record<string, number> =>
  Object.fromEntries((db.prepare(sql).all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));

// Audit rows name the request that wrote them; several rows may come from one request (a batch change).
const auditedRequests = (db: BetterSqlite3.Database) => (db.prepare('select count(distinct request_id) n from audit_events').get() as { n: number }).n;

test('metrics move by what a conformance pass did', { skip: suiteSkip(), timeout: 600_000 }, async () => {
  requireSuite();
  serve = await startServe({ dataDir, metrics: true });
  const metricsUrl = serve.metricsUrl!;
  let before: Scrape | undefined;
  let auditedBefore = 0;
  const pass = await conformancePass(serve, async () => {
    before = await scrape(metricsUrl);
    auditedBefore = readStore(auditedRequests);
  });
  assert.equal(pass.suite.code, 0, `the conformance suite failed:\n${tail(pass.suite.output)}`);

  // The suite waits for its own tasks, but not necessarily for every URL of every task it made.
  for (let i = 0; ; i++) {
    const inFlight = readStore((db) => (db.prepare("select count(*) n from task_urls where status not in ('succeed', 'failed')").get() as { n: number }).n);
    if (inFlight === 0) break;
    assert.ok(i < 600, `${inFlight} URLs still in flight a minute after the suite`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const truth = readStore((db) => ({
    created: countBy(db, 'select task_type k, count(*) n from tasks group by task_type'),
    done: countBy(db, "select task_type k, count(*) n from tasks where status = 'task_done' group by task_type"),
    unfinished: (db.prepare("select count(*) n from tasks where status <> 'task_done'").get() as { n: number }).n,
    urls: countBy(db, 'select status k, count(*) n from task_urls group by status'),
    failures: countBy(db, "select fail_classify k, count(*) n from task_urls where status = 'failed' group by fail_classify"),
    nodeResults: (db.prepare('select results from url_node_results').all() as Array<{ results: string }>).flatMap((r) => JSON.parse(r.results) as Array<{ node: string; attempts: number; error?: string }>),
    audited: auditedRequests(db),
  }));
  const types = Object.keys(truth.created);
  assert.deepEqual(types.sort(), ['preheating', 'refresh'], 'the pass made refresh and prefetch tasks');
  assert.equal(truth.unfinished, 0);

  const d = (m: Scrape, name: string, labels?: Record<string, string>) => m.sum(name, labels) - before!.sum(name, labels);
  // A task is done in the store a moment before the engine observes its completion.
  let after = await scrape(metricsUrl);
  for (let i = 0; i < 100 && types.some((type) => d(after, 'cachectl_task_completion_seconds_count', { type }) < truth.done[type]); i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await scrape(metricsUrl);
  }

  for (const type of types) {
    assert.equal(d(after, 'cachectl_tasks_created_total', { type }), truth.created[type], `${type} tasks created`);
    assert.equal(d(after, 'cachectl_task_completion_seconds_count', { type }), truth.done[type], `${type} tasks completed`);
    assert.equal(d(after, 'cachectl_task_completion_seconds_bucket', { type, le: '+Inf' }), truth.done[type]);
  }
  assert.equal(d(after, 'cachectl_urls_finished_total', { outcome: 'succeed' }), truth.urls.succeed ?? 0, 'URLs succeeded');
  assert.equal(d(after, 'cachectl_urls_finished_total', { outcome: 'failed' }), truth.urls.failed ?? 0, 'URLs failed');
  for (const [classify, n] of Object.entries(truth.failures)) assert.equal(d(after, 'cachectl_urls_finished_total', { outcome: 'failed', fail_classify: classify }), n, classify);
  assert.ok((truth.urls.succeed ?? 0) >= 100, `the pass refreshed and prefetched hundreds of URLs (${truth.urls.succeed})`);

  // Node series: the two built-in edges, both up; each answered at least one operation per URL decided
  // on it (url_node_results), and exactly one per attempt recorded there unless a URL ran out of time
  // while a retry was still waiting (that attempt is counted in the record but was never sent).
  const nodes = after.samples.filter((s) => s.name === 'cachectl_node_up').map((s) => s.labels.node).sort();
  assert.deepEqual(nodes, ['edge-1', 'edge-2']);
  for (const node of nodes) {
    assert.equal(after.sum('cachectl_node_up', { node }), 1, node);
    assert.equal(after.sum('cachectl_node_backlog_operations', { node }), 0, node);
    const results = truth.nodeResults.filter((r) => r.node === node);
    const ops = d(after, 'cachectl_node_operations_total', { node });
    assert.ok(results.length >= truth.urls.succeed, `${node}: a result per succeeded URL at least`);
    assert.ok(ops >= results.length, `${node}: ${ops} operations for ${results.length} URLs`);
    if (!results.some((r) => r.error?.includes('no answer within'))) {
      assert.equal(ops, results.reduce((n, r) => n + r.attempts, 0), `${node}: one operation per attempt`);
    }
  }

  // HTTP: each create call made exactly one task; and every request on the audit trail was counted
  // (the trail holds changes, failures and logins, not reads: a lower bound of the calls).
  const creates = ['/v1.0/cdn/content/refresh-tasks', '/v1.0/cdn/content/preheating-tasks', '/v1.0/cdn/refreshtasks', '/v1.0/cdn/preheatingtasks'];
  const created = creates.reduce((n, route) => n + d(after, 'cachectl_http_requests_total', { route, method: 'POST', status: '200' }), 0);
  assert.equal(created, Object.values(truth.created).reduce((a, b) => a + b, 0), 'create calls answered 200');
  const calls = d(after, 'cachectl_http_requests_total');
  assert.ok(calls >= truth.audited - auditedBefore, `${calls} requests counted, ${truth.audited - auditedBefore} audited`);
  assert.ok(calls > created, 'reads and refusals are counted too');
  assert.equal(d(after, 'cachectl_http_request_duration_seconds_count'), calls);

  assert.equal(await serve.stop(), 0, tail(serve.output()));
});
