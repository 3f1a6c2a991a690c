// Section 6b: 1-URL purges through a NATS agent and over direct HTTP to the same edges, alternating.
import { Pool } from 'undici';
import { SignedClient } from '../client.js';
import { summarize } from '../stats.js';
import { type CpuShare, type ScaleOutConfig, type TransportResult } from './results.js';
import { type Env, Stack, startAgent, startEdgeHost, startBusServe } from './processes.js';
import { addCpu, benchPool, startMeter } from './cpu-groups.js';
import { addDomain, prepareAccount, registerNodes, timedPurge, warm } from './api-steps.js';

export async function runTransport(env: Env, cfg: ScaleOutConfig): Promise<TransportResult> {
  const stack = new Stack();
  const pools = new Map<string, Pool>();
  try {
    const { serve, prefix, db } = await startBusServe(env, stack, cfg, 'b-serve');
    const host = await startEdgeHost(env, stack, 2);
    const agent = await startAgent(env, stack, cfg.natsUrl, prefix, 'p1');
    const pool = benchPool(db.url, stack);
    const client = new SignedClient(serve.url, env.key, 4);
    stack.push(() => client.close());
    stack.push(async () => void (await Promise.all([...pools.values()].map((p) => p.close()))));
    await prepareAccount(client);

    const samples = { http: [] as number[], nats: [] as number[] };
    const creates = { http: [] as number[], nats: [] as number[] };
    const errors = { http: 0, nats: 0 };
    const cpu: Partial<Record<'http' | 'nats', CpuShare>> = {};
    let registered: string[] = [];
    for (let b = 0; b < 2 * cfg.blocks; b++) {
      // http, nats, nats, http, http, nats, ...: each transport goes first as often as second.
      const leg: 'http' | 'nats' = [0, 3].includes(b % 4) ? 'http' : 'nats';
      for (const n of registered) await client.ok('DELETE', `/cachectl/v1/nodes/${n}`);
      registered = host.edges.map((_, i) => `${leg}-${b}-${i + 1}`);
      await registerNodes(client, host.edges, registered, leg, 'p1');
      if (b === 0) await addDomain(client, env.originPort);
      const paths = Array.from({ length: cfg.purgesPerBlock + 5 }, (_, i) => `/t/${b}/${i}.bin`);
      await warm(host.edges, paths, pools);
      // The first few of a block are untimed: fresh driver connections.
      for (const p of paths.slice(0, 5)) await timedPurge(client, p).catch(() => undefined);
      const meter = await startMeter({ serve: [serve.pid], edges: [host.pid], agent: [agent] }, pool, { nats: 'nats-server' });
      const block: number[] = [];
      for (const p of paths.slice(5)) {
        try {
          const r = await timedPurge(client, p);
          block.push(r.ms);
          creates[leg].push(r.createMs);
        } catch (err) {
          if (++errors[leg] <= 3) env.log(`   ${leg} purge error: ${(err as Error).message}`);
        }
      }
      cpu[leg] = addCpu(cpu[leg], await meter());
      samples[leg].push(...block);
      const s = summarize(block);
      env.log(`   block ${b + 1}/${2 * cfg.blocks} ${leg}: p50 ${s.p50.toFixed(2)} ms p99 ${s.p99.toFixed(2)} ms`);
    }
    const http = summarize(samples.http);
    const nats = summarize(samples.nats);
    const r = (a: number, c: number) => Math.round((a / c) * 100) / 100;
    return { http, nats, createP50: { http: summarize(creates.http).p50, nats: summarize(creates.nats).p50 }, ratio: { p50: r(nats.p50, http.p50), p99: r(nats.p99, http.p99) }, errors, cpu: { http: cpu.http!, nats: cpu.nats! } };
  } finally {
    await stack.unwind();
  }
}
