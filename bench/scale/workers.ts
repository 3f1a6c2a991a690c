// Section 6a: 1000-URL tasks through one API process with 1 and with 3 worker processes.
import pg from 'pg';
import { Pool } from 'undici';
import { createScratchDatabase } from '../../src/cluster/scratch-database.js';
import { sleep } from '../../src/edge/local-process.js';
import { SignedClient } from '../client.js';
import { msSince, now, runBounded, summarize } from '../stats.js';
import { DOMAIN, type ScaleOutConfig, type WorkerLeg, type WorkersResult } from './results.js';
import { type Env, Stack, startEdgeHost, startServe } from './processes.js';
import { benchPool, coresText, startMeter } from './cpu-groups.js';
import { addDomain, prepareAccount, registerNodes } from './api-steps.js';

export async function workerLeg(env: Env, cfg: ScaleOutConfig, workers: number, leg: number): Promise<WorkerLeg> {
  const stack = new Stack();
  try {
    const db = await createScratchDatabase(cfg.postgresUrl);
    stack.push(db.drop);
    // The API process migrates the fresh database; the workers then start side by side.
    const api = await startServe(env, stack, `a${leg}-api`, db.url, { CACHECTL_ROLE: 'api' });
    const ws = await Promise.all(Array.from({ length: workers }, (_, i) => startServe(env, stack, `a${leg}-worker-${i + 1}`, db.url, { CACHECTL_ROLE: 'worker' })));
    const host = await startEdgeHost(env, stack, 2);
    const client = new SignedClient(api.url, env.key, 8);
    stack.push(() => client.close());
    await prepareAccount(client);
    await registerNodes(client, host.edges, host.edges.map((e) => e.name), 'http');
    await addDomain(client, env.originPort);
    // Workers read the node registry every 2 s and have no API to ask: give them two rounds.
    await sleep(4_100);
    const pool = benchPool(db.url, stack);
    const inFlight = async () =>
      Number((await pool.query(`select count(*)::int as n from task_urls where status in ('waiting','refreshing','preheating')`)).rows[0].n);

    const bodies = Array.from({ length: cfg.tasks }, (_, t) =>
      JSON.stringify({ refresh_task: { type: 'file', urls: Array.from({ length: 1000 }, (_, j) => `http://${DOMAIN}/w${leg}/${t}/${j}.css`) } }),
    );
    const latencies: number[] = [];
    const ids: string[] = [];
    let errors = 0;
    const cpu = await startMeter({ api: [api.pid], workers: ws.map((w) => w.pid), edges: [host.pid] }, pool);
    const waits = new WaitSampler(pool);
    const t0 = now();
    await runBounded(cfg.tasks, 4, t0 + 60_000_000_000n, async (t) => {
      const s = now();
      const r = await client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: bodies[t] });
      if (r.status === 200) {
        latencies.push(msSince(s));
        ids.push(r.json.refresh_task);
      } else if (++errors <= 3) env.log(`   create error: ${r.status} ${r.text.slice(0, 200)}`);
    });
    const intakeMs = msSince(t0);
    let e2eMs: number | null = null;
    while (msSince(t0) < 120_000) {
      if ((await inFlight()) === 0) {
        e2eMs = msSince(t0);
        break;
      }
      await sleep(50);
    }
    const share = await cpu();
    const waited = await waits.stop();
    const urls = latencies.length * 1000;
    // A URL done with no node known to its worker would flatter the figure: each must name both edges.
    const check = ids.length ? await client.ok('GET', `/cachectl/v1/tasks/${ids[ids.length - 1]}/nodes`, { query: [['limit', '1']] }) : undefined;
    const r: WorkerLeg = {
      workers,
      tasks: latencies.length,
      urls,
      errors,
      intakeUrlsPerSec: Math.round(urls / (intakeMs / 1000)),
      e2eUrlsPerSec: e2eMs === null ? null : Math.round(urls / (e2eMs / 1000)),
      create: summarize(latencies),
      cpu: share,
      cpuMsPer1000: Object.fromEntries(Object.entries(share.cores).map(([k, v]) => [k, Math.round((v * share.wallMs * 1000) / Math.max(1, urls))])),
      pgWaits: waited,
      nodesPerUrl: check?.urls?.[0]?.nodes?.length ?? 0,
    };
    env.log(`   ${workers} worker(s): intake ${r.intakeUrlsPerSec} URLs/s, end to end ${r.e2eUrlsPerSec ?? 'n/a (not drained in 120 s)'} URLs/s; cores ${coresText(share)}`);
    env.log(`     PostgreSQL sessions sampled: ${waitsText(waited)}`);
    return r;
  } finally {
    await stack.unwind();
  }
}

export async function runWorkers(env: Env, cfg: ScaleOutConfig): Promise<WorkersResult> {
  const legs: WorkerLeg[] = [];
  for (const [i, w] of cfg.workerLegs.entries()) {
    env.log(`6a. leg ${i + 1}/${cfg.workerLegs.length}: 1 API + ${w} worker process(es), ${cfg.tasks} x 1000-URL tasks @4`);
    legs.push(await workerLeg(env, cfg, w, i + 1));
  }
  const med = (w: number, f: (l: WorkerLeg) => number | null) => median(legs.filter((l) => l.workers === w).map(f));
  const counts = [...new Set(cfg.workerLegs)];
  const e2e = Object.fromEntries(counts.map((w) => [w, med(w, (l) => l.e2eUrlsPerSec)]));
  const intake = Object.fromEntries(counts.map((w) => [w, med(w, (l) => l.intakeUrlsPerSec)]));
  return { legs, e2e, intake, ratio: Math.round((e2e[3] / e2e[1]) * 100) / 100 };
}

/**
 * Samples pg_stat_activity of the leg's database every 50 ms: per non-idle session, its wait event
 * ('CPU' when running, 'Lock:transactionid', 'LWLock:WALWrite', 'IO:WALSync', ...), counted as an
 * average number of sessions in that state. Tells a CPU-bound database from one waiting on locks or fsync.
 */
export class WaitSampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private running = true;
  private readonly loop: Promise<void>;
  constructor(pool: pg.Pool) {
    this.loop = (async () => {
      while (this.running) {
        const r = await pool.query(
          `select case when state like 'idle in transaction%' then 'in transaction, waiting for cachectl'
                  else coalesce(wait_event_type || ':' || wait_event, 'CPU') end as w
           from pg_stat_activity
           where datname = current_database() and application_name <> 'cachectl-bench' and state <> 'idle'`,
        );
        this.samples++;
        for (const { w } of r.rows as Array<{ w: string }>) this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
        await sleep(50);
      }
    })();
  }
  async stop(): Promise<Record<string, number>> {
    this.running = false;
    await this.loop;
    const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 6);
    return Object.fromEntries(top.map(([k, n]) => [k, Math.round((n / Math.max(1, this.samples)) * 100) / 100]));
  }
}

export function waitsText(w: Record<string, number>): string {
  return Object.entries(w).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') || 'all idle';
}

export function median(xs: Array<number | null>): number {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}
