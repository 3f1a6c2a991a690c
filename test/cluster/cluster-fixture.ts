// The scale-out cluster for tests (src/cluster/local-cluster.ts) and what the fault tests ask of it:
// a domain, loads of refresh tasks through the round-robin address, waiting for them, and the truth
// from the database and from the edges' own operation counters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startLocalCluster, type ClusterOptions, type EdgeInfo, type LocalCluster } from '../../src/cluster/local-cluster.js';
import type { ApiClient } from '../../src/client/api-client.js';

export interface TestCluster extends LocalCluster {
  client: () => ApiClient;
  api1: ApiClient;
  dir: string;
  close(): Promise<void>;
}

export async function startTestCluster(options: Partial<ClusterOptions> = {}): Promise<TestCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-cluster-'));
  // The machine's PostgreSQL and NATS (or those named in the environment); without them the cluster
  // starts private ones.
  const cluster = await startLocalCluster({
    dir,
    postgresUrl: options.privatePostgres ? undefined : process.env.CACHECTL_TEST_POSTGRES_URL,
    natsUrl: process.env.CACHECTL_TEST_NATS_URL,
    ...options,
  });
  const api1 = cluster.client();
  return {
    ...cluster,
    api1,
    dir,
    close: async () => {
      await api1.close();
      await cluster.stop();
      // CACHECTL_KEEP_CLUSTER_LOGS=1 keeps the processes' logs for a look after a failure.
      if (process.env.CACHECTL_KEEP_CLUSTER_LOGS === '1') console.error(`cluster logs: ${dir}`);
      else fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds a domain (the origin is never fetched by a purge) and waits until it is online. */
export async function addDomain(api: ApiClient, name: string): Promise<void> {
  await api.call('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: 9 }] } },
  });
  for (let i = 0; ; i++) {
    const list = await api.call<{ domains: Array<{ domain_status: string }> }>('GET', '/v1.0/cdn/domains', { query: [['domain_name', name], ['exact_match', 'true']] });
    if (list.domains[0]?.domain_status === 'online') return;
    if (i > 300) throw new Error(`domain ${name} is not online: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Submits `tasks` refresh tasks of `urls` URLs each, `parallel` at a time; answers the task ids. */
export async function submitLoad(api: ApiClient, domain: string, tasks: number, urls: number, tag: string, parallel = 4): Promise<string[]> {
  const ids: string[] = new Array(tasks);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let t = next++; t < tasks; t = next++) {
        const list = Array.from({ length: urls }, (_, u) => `http://${domain}/${tag}/${t}/${u}.js`);
        const answer = await api.call<{ refresh_task: string }>('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: list } } });
        ids[t] = answer.refresh_task;
      }
    }),
  );
  return ids;
}

interface TaskView {
  id: string;
  status: string;
  total: number;
  processing: number;
  succeed: number;
  failed: number;
}

export async function taskOf(api: ApiClient, id: string): Promise<TaskView> {
  const answer = await api.call<{ task_id?: string; status: string; total: number; processing: number; succeed: number; failed: number }>('GET', `/v1.0/cdn/historytasks/${id}/detail`, { query: [['page_size', 1]] });
  return { id, status: answer.status, total: answer.total, processing: answer.processing, succeed: answer.succeed, failed: answer.failed };
}

/** Waits until every task is done; answers them. */
export async function waitDone(api: ApiClient, ids: string[], timeoutMs: number): Promise<TaskView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(ids.map((id) => taskOf(api, id)));
    if (views.every((v) => v.status === 'task_done')) return views;
    if (Date.now() > deadline) throw new Error(`not done after ${timeoutMs} ms: ${JSON.stringify(views.filter((v) => v.status !== 'task_done').slice(0, 5))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Operations the edge applied, per kind, since it started (its own counters). */
export async function edgeOps(edge: EdgeInfo): Promise<Record<string, number>> {
  const res = await fetch(`${edge.controlUrl}/health`, { headers: { authorization: `Bearer ${edge.secret}` } });
  const body = (await res.json()) as { ops?: Record<string, number> };
  if (!body.ops) throw new Error(`edge ${edge.name} reports no ops: ${JSON.stringify(body)}`);
  return body.ops;
}

/** Runs one query on the cluster's database. */
export async function query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
