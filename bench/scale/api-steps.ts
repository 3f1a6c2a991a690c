// Section 6: the API calls every part makes (account, domain, nodes, a timed purge).
import path from 'node:path';
import { Pool } from 'undici';
import { sleep } from '../../src/edge/local-process.js';
import { SignedClient } from '../client.js';
import { addOnlineDomain } from '../domain.js';
import { msSince, now, runBounded } from '../stats.js';
import { ACCOUNT, DOMAIN } from './results.js';
import { type Edge, within } from './processes.js';

export async function prepareAccount(client: SignedClient): Promise<void> {
  await client.ok('PUT', `/cachectl/v1/accounts/${ACCOUNT}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
}

export function addDomain(client: SignedClient, originPort: number): Promise<void> {
  return addOnlineDomain(client, DOMAIN, originPort, 30_000);
}

/**
 * Registers the edges under `names` (nats: with their pop), `concurrency` calls at a time; then waits
 * until all are up. Answers how long the calls took (the rest is the wait for up).
 */
export async function registerNodes(client: SignedClient, edges: Edge[], names: string[], transport: 'http' | 'nats', pop?: string, concurrency = 1): Promise<number> {
  const t0 = now();
  await runBounded(edges.length, concurrency, now() + 60_000_000_000n, async (i) => {
    const e = edges[i];
    await client.ok('POST', '/cachectl/v1/nodes', {
      body: { name: names[i], driver: 'builtin', traffic_url: e.trafficUrl, control_url: e.controlUrl, secret: e.secret, ...(transport === 'nats' && { transport, pop: pop ?? e.pop }) },
    });
  });
  const callsMs = msSince(t0);
  await waitNodes(client, (nodes) => names.every((n) => nodes.some((x) => x.name === n && x.up)), `nodes ${names[0]}… up`);
  return callsMs;
}

export async function waitNodes(client: SignedClient, ok: (nodes: Array<{ name: string; up: boolean }>) => boolean, what: string): Promise<void> {
  const t0 = now();
  while (msSince(t0) < 30_000) {
    if (ok((await client.ok('GET', '/cachectl/v1/nodes')).nodes)) return;
    await sleep(20);
  }
  throw new Error(`${what}: not within 30 s`);
}

/** GETs each path on each edge through its traffic port (fills their caches). */
export async function warm(edges: Edge[], paths: string[], pools: Map<string, Pool>): Promise<void> {
  const jobs = paths.flatMap((p) => edges.map((e) => [e, p] as const));
  await runBounded(jobs.length, 16, now() + 120_000_000_000n, async (i) => {
    const [e, p] = jobs[i];
    let pool = pools.get(e.trafficUrl);
    if (!pool) pools.set(e.trafficUrl, (pool = new Pool(e.trafficUrl, { connections: 2, keepAliveTimeout: 30_000 })));
    const res = await pool.request({ method: 'GET', path: p, headers: { host: DOMAIN } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`warm ${p} on ${e.name}: ${res.statusCode}`);
  });
}

/** One 1-URL refresh, create until the wait answers done with succeed 1: ms (and of the create call), task id. */
export async function timedPurge(client: SignedClient, urlPath: string): Promise<{ ms: number; createMs: number; id: string }> {
  const t0 = now();
  const created = await client.ok('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${DOMAIN}${urlPath}`] } } });
  const id = created.refresh_task as string;
  const createMs = msSince(t0);
  const waited = await client.call('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', '10000']] });
  const ms = msSince(t0);
  if (waited.status !== 200 || waited.json?.done !== true || waited.json.task.succeed !== 1) throw new Error(`task ${id}: ${waited.status} ${waited.text.slice(0, 200)}`);
  return { ms, createMs, id };
}
