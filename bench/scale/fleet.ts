// Section 6d: 100 built-in edges in 10 PoPs behind 10 agents. The agents run two ways, in alternating
// blocks on the same serve, edges and consumers: all ten in one process (bench/agent-host.ts, the
// figure: what fits 2 cores) and each in a process of its own (`cachectl agent`, as deployed).
import { Pool } from 'undici';
import { sleep } from '../../src/edge/local-process.js';
import { SignedClient } from '../client.js';
import { msSince, now, summarize } from '../stats.js';
import { type CpuShare, type FleetLayout, type FleetResult, type ScaleOutConfig } from './results.js';
import { type Env, Stack, startAgent, startAgentHost, startEdgeHost, startBusServe } from './processes.js';
import { addCpu, benchPool, startMeter } from './cpu-groups.js';
import { addDomain, prepareAccount, registerNodes, timedPurge, warm } from './api-steps.js';

const LAYOUTS: FleetLayout[] = ['inOne', 'apart', 'apart', 'inOne'];
// Before each layout's first block: a fresh process needs some purges before its code is optimised.
const WARM_PURGES = 50;

export async function runFleet(env: Env, cfg: ScaleOutConfig): Promise<FleetResult> {
  const stack = new Stack();
  const pools = new Map<string, Pool>();
  try {
    const { serve, prefix, db } = await startBusServe(env, stack, cfg, 'd-serve');
    const host = await startEdgeHost(env, stack, 100, 10);
    const pops = [...new Set(host.edges.map((e) => e.pop!))];
    const startAgents = async (layout: FleetLayout, agents: Stack): Promise<number[]> =>
      layout === 'inOne' ? [await startAgentHost(env, agents, cfg.natsUrl, prefix, pops)] : Promise.all(pops.map((p) => startAgent(env, agents, cfg.natsUrl, prefix, p)));
    const client = new SignedClient(serve.url, env.key, 8);
    stack.push(() => client.close());
    stack.push(async () => void (await Promise.all([...pools.values()].map((p) => p.close()))));
    await prepareAccount(client);
    const perBlock = Math.ceil(cfg.fleetPurges / 2);
    const paths = Array.from({ length: perBlock * LAYOUTS.length }, (_, i) => `/f/${i}.bin`);
    let agents = new Stack();
    let pids = await startAgents('inOne', agents);
    const t0 = now();
    const callsMs = Math.round(await registerNodes(client, host.edges, host.edges.map((e) => e.name), 'nats', undefined, 4));
    const registerMs = Math.round(msSince(t0));
    env.log(`   100 nodes registered and up in ${registerMs} ms (the 100 calls: ${callsMs} ms)`);
    await addDomain(client, env.originPort);
    await warm(host.edges, paths, pools);
    for (let i = 0; i < WARM_PURGES; i++) await timedPurge(client, `/f/warm-${i}.bin`).catch(() => undefined);
    const pool = benchPool(db.url, stack);
    // 2 s with nothing to do first: what 100 nodes cost at rest (health checks, heartbeats).
    const rest = await startMeter({ serve: [serve.pid], edges: [host.pid], agents: pids }, pool, { nats: 'nats-server' });
    await sleep(2_000);
    const idleCpu = await rest();
    const runs: Record<FleetLayout, { samples: number[]; creates: number[]; errors: number; cpu?: CpuShare }> = {
      inOne: { samples: [], creates: [], errors: 0 },
      apart: { samples: [], creates: [], errors: 0 },
    };
    const verified = { checked: 0, allNodes: 0 };
    const ids: string[] = [];
    for (const [b, layout] of LAYOUTS.entries()) {
      if (b > 0 && layout !== LAYOUTS[b - 1]) {
        await agents.unwind();
        agents = new Stack();
        pids = await startAgents(layout, agents);
        // Purges first, as before the first block: connections are made and code is warm before the clock.
        for (let i = 0; i < WARM_PURGES; i++) await timedPurge(client, `/f/warm-${b}-${i}.bin`).catch(() => undefined);
      }
      const run = runs[layout];
      const meter = await startMeter({ serve: [serve.pid], edges: [host.pid], agents: pids }, pool, { nats: 'nats-server' });
      const block: number[] = [];
      for (const p of paths.slice(b * perBlock, (b + 1) * perBlock)) {
        try {
          const r = await timedPurge(client, p);
          block.push(r.ms);
          run.creates.push(r.createMs);
          ids.push(r.id);
        } catch (err) {
          if (++run.errors <= 3) env.log(`   purge error: ${(err as Error).message}`);
        }
      }
      run.cpu = addCpu(run.cpu, await meter());
      run.samples.push(...block);
      const s = summarize(block);
      env.log(`   block ${b + 1}/${LAYOUTS.length} agents ${layout === 'inOne' ? 'in one process' : 'apart'}: p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms`);
    }
    await agents.unwind();
    // After the clock: every 20th task's per-node results must name all 100 nodes as done.
    for (const id of ids.filter((_, i) => i % 20 === 0)) {
      const r = await client.ok('GET', `/cachectl/v1/tasks/${id}/nodes`);
      const nodes = (r.urls?.[0]?.nodes ?? []) as Array<{ ok: boolean }>;
      verified.checked++;
      if (nodes.length === 100 && nodes.every((n) => n.ok)) verified.allNodes++;
    }
    const result = (layout: FleetLayout) => {
      const r = runs[layout];
      return { purge: summarize(r.samples), createP50: summarize(r.creates).p50, errors: r.errors, cpu: r.cpu! };
    };
    return { nodes: 100, registerMs, registerCallsMs: callsMs, inOne: result('inOne'), apart: result('apart'), verified, idleCpu };
  } finally {
    await stack.unwind();
  }
}
