// Section 6d: 100 built-in edges in 10 PoPs behind 10 agents.
import { Pool } from 'undici';
import { sleep } from '../../src/edge/local-process.js';
import { SignedClient } from '../client.js';
import { msSince, now, summarize } from '../stats.js';
import { type FleetResult, type ScaleOutConfig } from './results.js';
import { type Env, Stack, startAgent, startEdgeHost, startBusServe } from './processes.js';
import { benchPool, startMeter } from './cpu-groups.js';
import { addDomain, prepareAccount, registerNodes, timedPurge, warm } from './api-steps.js';

export async function runFleet(env: Env, cfg: ScaleOutConfig): Promise<FleetResult> {
  const stack = new Stack();
  const pools = new Map<string, Pool>();
  try {
    const { serve, prefix, db } = await startBusServe(env, stack, cfg, 'd-serve');
    const host = await startEdgeHost(env, stack, 100, 10);
    const pops = [...new Set(host.edges.map((e) => e.pop!))];
    const agents = await Promise.all(pops.map((p) => startAgent(env, stack, cfg.natsUrl, prefix, p)));
    const client = new SignedClient(serve.url, env.key, 8);
    stack.push(() => client.close());
    stack.push(async () => void (await Promise.all([...pools.values()].map((p) => p.close()))));
    await prepareAccount(client);
    const t0 = now();
    const callsMs = Math.round(await registerNodes(client, host.edges, host.edges.map((e) => e.name), 'nats', undefined, 4));
    const registerMs = Math.round(msSince(t0));
    env.log(`   100 nodes registered and up in ${registerMs} ms (the 100 calls: ${callsMs} ms)`);
    await addDomain(client, env.originPort);
    const paths = Array.from({ length: cfg.fleetPurges + 10 }, (_, i) => `/f/${i}.bin`);
    await warm(host.edges, paths, pools);
    for (const p of paths.slice(0, 10)) await timedPurge(client, p).catch(() => undefined);
    const groups = { serve: [serve.pid], edges: [host.pid], agents };
    const pool = benchPool(db.url, stack);
    // 2 s with nothing to do first: what 100 nodes cost at rest (health checks, heartbeats).
    const rest = await startMeter(groups, pool, { nats: 'nats-server' });
    await sleep(2_000);
    const idleCpu = await rest();
    const samples: number[] = [];
    const creates: number[] = [];
    let errors = 0;
    const verified = { checked: 0, allNodes: 0 };
    const meter = await startMeter(groups, pool, { nats: 'nats-server' });
    const ids: string[] = [];
    for (const p of paths.slice(10)) {
      try {
        const r = await timedPurge(client, p);
        samples.push(r.ms);
        creates.push(r.createMs);
        ids.push(r.id);
      } catch (err) {
        if (++errors <= 3) env.log(`   purge error: ${(err as Error).message}`);
      }
    }
    const cpu = await meter();
    // After the clock: every 20th task's per-node results must name all 100 nodes as done.
    for (const id of ids.filter((_, i) => i % 20 === 0)) {
      const r = await client.ok('GET', `/cachectl/v1/tasks/${id}/nodes`);
      const nodes = (r.urls?.[0]?.nodes ?? []) as Array<{ ok: boolean }>;
      verified.checked++;
      if (nodes.length === 100 && nodes.every((n) => n.ok)) verified.allNodes++;
    }
    return { nodes: 100, registerMs, registerCallsMs: callsMs, purge: summarize(samples), createP50: summarize(creates).p50, errors, verified, cpu, idleCpu };
  } finally {
    await stack.unwind();
  }
}
