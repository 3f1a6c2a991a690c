// Prometheus metrics (--metrics-listen) on a real server with its built-in edges and a real origin:
// the series move by what the tasks did, /metrics is served only on its own listener, and every
// series the Grafana dashboard names is in the output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { waitTask } from '../support/signed-client.js';
import { parsePrometheusText, type Scrape } from '../support/prometheus-text.js';
import { ConfigError, loadServerConfig } from '../../src/config.js';
import { AgentMetrics } from '../../src/metrics/agent-metrics.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let s: TestServer;
let origin: TestOrigin;
const host = 'www.metrics.test';
const url = (p: string) => `http://${host}${p}`;

before(async () => {
  s = await startTestServer({ 'metrics-listen': '127.0.0.1:0' });
  origin = await startOrigin();
  await addDomain(s.call, host, origin.port);
});
after(async () => {
  await s?.close();
  await origin?.close();
});

async function scrape(): Promise<Scrape> {
  const res = await request(s.server.metricsUrl!);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  return parsePrometheusText(await res.body.text());
}

/**
 * Scrapes until `ready` holds: a task is done in the store a moment before the engine has observed its
 * completion, and a response reaches the client before the server counts it.
 */
async function scrapeUntil(ready: (m: Scrape) => boolean): Promise<Scrape> {
  for (let i = 0; ; i++) {
    const m = await scrape();
    if (ready(m) || i >= 200) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('task, URL, latency, node and HTTP series move by what the tasks did', async () => {
  const account = s.accountId;
  const edges = s.server.edges.map((e) => e.name);
  assert.equal(edges.length, 2);
  for (const p of ['/r1', '/r2', '/r3', '/p1', '/p2']) origin.put(p);
  const before = await scrape();

  const created: string[] = [];
  const create = async (kind: 'refresh' | 'preheating', urls: string[]) => {
    const res = await s.call('POST', `/v1.0/cdn/content/${kind}-tasks`, { body: { [`${kind}_task`]: { urls: urls.map(url) } } });
    assert.equal(res.status, 200, res.text);
    created.push(res.json[`${kind}_task`]);
  };
  await create('refresh', ['/r1', '/r2']);
  await create('refresh', ['/r3']);
  await create('preheating', ['/p1', '/p2']);
  // Not on the origin: the prefetch fails with ORIGIN_ERROR on both nodes.
  await create('preheating', ['/missing']);
  for (const id of created) await waitTask(s.call, id);

  const d = (m: Scrape, name: string, labels?: Record<string, string>) => m.sum(name, labels) - before.sum(name, labels);
  const after = await scrapeUntil(
    (m) => d(m, 'cachectl_task_completion_seconds_count') >= 4 && d(m, 'cachectl_http_requests_total', { route: '/v1.0/cdn/content/preheating-tasks' }) >= 2,
  );

  assert.equal(d(after, 'cachectl_tasks_created_total', { type: 'refresh', account }), 2);
  assert.equal(d(after, 'cachectl_tasks_created_total', { type: 'preheating', account }), 2);
  assert.equal(d(after, 'cachectl_urls_finished_total', { outcome: 'succeed' }), 5);
  assert.equal(d(after, 'cachectl_urls_finished_total', { outcome: 'failed', fail_classify: 'ORIGIN_ERROR' }), 1);
  assert.equal(d(after, 'cachectl_urls_finished_total', { outcome: 'failed' }), 1);
  assert.equal(d(after, 'cachectl_task_completion_seconds_count', { type: 'refresh' }), 2);
  assert.equal(d(after, 'cachectl_task_completion_seconds_count', { type: 'refresh', engine: 'builtin' }), 2, 'the fleet of built-in edges');
  assert.equal(d(after, 'cachectl_task_completion_seconds_count', { type: 'preheating' }), 2);
  // Every completion is within the largest finite bucket's reach and took some time.
  assert.equal(d(after, 'cachectl_task_completion_seconds_bucket', { type: 'refresh', le: '+Inf' }), 2);
  assert.ok(d(after, 'cachectl_task_completion_seconds_sum', { type: 'refresh' }) > 0);

  for (const node of edges) {
    // Each URL went to each node: 3 refreshes and 3 prefetches, one of them refused by the origin.
    assert.equal(d(after, 'cachectl_node_operations_total', { node }), 6, node);
    assert.equal(d(after, 'cachectl_node_operations_total', { node, kind: 'prefetch' }), 3, node);
    assert.equal(d(after, 'cachectl_node_operation_errors_total', { node, fail_classify: 'ORIGIN_ERROR' }), 1, node);
    assert.equal(d(after, 'cachectl_node_operation_errors_total', { node, fail_classify: 'INNER_ERROR' }), 0, node);
    assert.ok(d(after, 'cachectl_node_call_duration_seconds_count', { node }) >= 2, node);
    assert.equal(after.sum('cachectl_node_up', { node }), 1, node);
    assert.equal(after.sum('cachectl_node_backlog_operations', { node }), 0, node);
    assert.ok(after.sum('cachectl_node_domain_set_version', { node }) > 0, node);
  }

  assert.equal(d(after, 'cachectl_intake_batch_tasks_sum'), 4);
  assert.ok(d(after, 'cachectl_intake_commit_seconds_count') >= 1);
  assert.equal(d(after, 'cachectl_http_requests_total', { route: '/v1.0/cdn/content/refresh-tasks', method: 'POST', status: '200' }), 2);
  assert.equal(d(after, 'cachectl_http_requests_total', { route: '/v1.0/cdn/content/preheating-tasks', method: 'POST', status: '200' }), 2);
  assert.equal(d(after, 'cachectl_http_request_duration_seconds_count', { route: '/v1.0/cdn/content/refresh-tasks', method: 'POST' }), 2);
  // The route's pattern, never the URL: no task id in any route label.
  for (const id of created) assert.ok(!after.samples.some((x) => x.labels.route?.split('/').includes(id)), `a route label names task ${id}`);
  assert.ok(after.samples.some((x) => x.labels.route === '/v1.0/cdn/historytasks/:history_tasks_id/detail'), 'detail calls are counted by their pattern');

  // The process's own metrics, and the store pool where there is one.
  assert.ok(after.types.has('process_cpu_user_seconds_total'));
  assert.ok(after.types.has('nodejs_eventloop_lag_seconds'));
  if (s.server.store.dialect === 'postgres') assert.ok(after.sum('cachectl_store_pool_connections', { pool: 'main', state: 'total' }) >= 1);
  else assert.equal(after.samples.filter((x) => x.name.startsWith('cachectl_store_pool_')).length, 0, 'SQLite has no pool');
});

test('a quota refusal is counted', async () => {
  const before = await scrape();
  const small = await s.call('PUT', `/cachectl/v1/accounts/${encodeURIComponent('admin')}/quotas`, { body: { preheat: 0 } });
  assert.equal(small.status, 200, small.text);
  try {
    const res = await s.call('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { urls: [url('/p1')] } } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.error_code, 'CDN.0110');
  } finally {
    await s.call('PUT', '/cachectl/v1/accounts/admin/quotas', { body: { preheat: 100000 } });
  }
  assert.equal((await scrape()).sum('cachectl_quota_refusals_total', { type: 'preheating' }) - before.sum('cachectl_quota_refusals_total', { type: 'preheating' }), 1);
});

test('/metrics is not served on the API port, and its listener serves nothing else', async () => {
  for (const p of ['/metrics', '/metrics?x=1']) {
    const res = await request(s.server.url + p);
    const body = await res.body.text();
    assert.ok(res.statusCode === 404 || res.statusCode === 401, `${p}: ${res.statusCode}`);
    assert.doesNotMatch(body, /cachectl_/);
  }
  const signed = await s.call('GET', '/metrics');
  assert.equal(signed.status, 404, signed.text);
  const other = await request(s.server.metricsUrl!.replace(/\/metrics$/, '/'));
  await other.body.dump();
  assert.equal(other.statusCode, 404);
  const post = await request(s.server.metricsUrl!, { method: 'POST' });
  await post.body.dump();
  assert.equal(post.statusCode, 404);
});

test('every series the Grafana dashboard names is in the output', async () => {
  const dashboard = fs.readFileSync(path.join(root, 'deploy/grafana/cachectl.json'), 'utf8');
  JSON.parse(dashboard);
  const names = new Set([...dashboard.matchAll(/\b((?:cachectl|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]));
  assert.ok(names.size >= 15, `the dashboard names only ${names.size} series`);
  const m = await scrape();
  // The PoP agents' series are on their own /metrics (cachectl agent --nats … --metrics-listen).
  const agent = new AgentMetrics('p', () => Promise.reject(new Error('not scraped here')));
  const present = (name: string) =>
    (name.startsWith('cachectl_agent_') && agent.registry.getSingleMetric(name) !== undefined) ||
    m.samples.some((x) => x.name === name) ||
    m.types.has(name) ||
    // A histogram with no observation yet is declared by its base name only.
    [/_bucket$/, /_sum$/, /_count$/].some((suffix) => suffix.test(name) && m.types.get(name.replace(suffix, '')) === 'histogram');
  assert.deepEqual([...names].filter((n) => !present(n)), []);
});

test('--metrics-listen: off by default; host:port or [v6]:port', () => {
  assert.equal(loadServerConfig({}, {}).metricsListen, undefined);
  assert.deepEqual(loadServerConfig({ 'metrics-listen': '0.0.0.0:9464' }, {}).metricsListen, { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(loadServerConfig({}, { CACHECTL_METRICS_LISTEN: '[::1]:9464' }).metricsListen, { host: '::1', port: 9464 });
  for (const bad of ['9464', 'localhost', ':9464', 'a:70000', '::1:9464']) assert.throws(() => loadServerConfig({ 'metrics-listen': bad }, {}), ConfigError, bad);
});
