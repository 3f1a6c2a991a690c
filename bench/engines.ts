// Real engines behind cachectl: purge latency (1-URL tasks, create → done) and URL throughput
// (1000-URL tasks) with 2 nodes of one engine, each beside the same purges sent straight to the engines
// from this process (raw PURGE over keep-alive undici Pools), measured in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { engineMissing, startLocalNode, type EngineName, type LocalNode } from '../src/edge/local-engines.js';
import { SignedClient } from './client.js';
import { CpuMeter, type CpuUse } from './cpu.js';
import { startBenchOrigin } from './origin.js';
import { startServerChild } from './server-process.js';
import { now, msSince, runBounded, summarize, type Summary } from './stats.js';

export interface EngineBenchOptions {
  purges: number;
  tasks: number;
  urlsPerTask: number;
  taskConcurrency: number;
  /** Raw purges in flight per node in the baseline: what cachectl's driver keeps in flight at most. */
  rawInFlightPerNode: number;
  log: (line: string) => void;
}

export interface EngineBenchResult {
  engine: EngineName;
  latency: { cachectl: Summary; baseline: Summary; ratioP50: number };
  throughput: { cachectlUrlsPerSec: number; baselineUrlsPerSec: number; percentOfBaseline: number };
  cpu: { cachectl: CpuUse; agent?: CpuUse; baseline: CpuUse };
  errors: { cachectl: number; baseline: number };
}

const DOMAIN = 'engines.bench.test';
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Sends one raw purge per node and resolves when every node answered; counts unexpected statuses. */
function rawPurger(nodes: LocalNode[], connections: number) {
  const pools = nodes.map((n) => new Pool(n.rawPurge.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 }));
  let errors = 0;
  const purge = async (p: string) => {
    await Promise.all(
      nodes.map(async (n, i) => {
        const res = await pools[i].request({ method: n.rawPurge.method as 'GET', path: `${n.rawPurge.pathPrefix}${p}`, headers: { host: DOMAIN } });
        await res.body.dump();
        if (res.statusCode !== 200 && res.statusCode !== 404) errors++;
      }),
    );
  };
  return { purge, errors: () => errors, close: () => Promise.all(pools.map((p) => p.close())) };
}

/** GETs every path through every node so that the purges remove cached objects. */
async function warm(nodes: LocalNode[], paths: string[]): Promise<void> {
  const pools = nodes.map((n) => new Pool(n.trafficUrl, { connections: 16, pipelining: 1 }));
  try {
    await runBounded(paths.length, 32, now() + 120_000_000_000n, async (i) => {
      await Promise.all(
        pools.map(async (pool) => {
          const res = await pool.request({ method: 'GET', path: paths[i], headers: { host: DOMAIN } });
          await res.body.dump();
        }),
      );
    });
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

export async function runEngineBench(engine: EngineName, o: EngineBenchOptions): Promise<EngineBenchResult | { skipped: string }> {
  const missing = await engineMissing(engine);
  if (missing) return { skipped: missing };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cachectl-bench-${engine}-`));
  // The engines' unprivileged users (varnish's jail, nginx's and ATS's nobody) must reach their folders.
  fs.chmodSync(tmp, 0o755);
  const origin = await startBenchOrigin();
  const nodes: LocalNode[] = [];
  let server: Awaited<ReturnType<typeof startServerChild>> | null = null;
  let client: SignedClient | null = null;
  try {
    for (let i = 1; i <= 2; i++) nodes.push(await startLocalNode(engine, path.join(tmp, 'engines'), `${engine}-${i}`));
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    server = await startServerChild({ dataDir, edges: 0, extraArgs: ['--max-urls', String(o.urlsPerTask)] });
    const creds = server.credentials;
    client = new SignedClient(server.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, 8);
    await client.ok('PUT', `/cachectl/v1/accounts/${encodeURIComponent(creds.account)}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
    for (const n of nodes) await client.ok('POST', '/cachectl/v1/nodes', { body: { name: n.name, driver: n.driver, traffic_url: n.trafficUrl, control_url: n.controlUrl, secret: n.secret } });
    await client.ok('POST', '/v1.0/cdn/domains', {
      body: { domain: { domain_name: DOMAIN, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }] } },
    });
    for (const start = now(); ; ) {
      const list = await client.ok('GET', '/v1.0/cdn/domains', { query: [['domain_name', DOMAIN], ['exact_match', 'true']] });
      if (list.domains?.[0]?.domain_status === 'online') break;
      if (msSince(start) > 30_000) throw new Error(`${engine}: domain not online: ${JSON.stringify(list.domains?.[0])}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const lat = (leg: string, i: number) => `/eb/lat/${leg}/${i}`;
    const thr = (leg: string, t: number, u: number) => `/eb/thr/${leg}/${t}/${u}`;
    const all: string[] = [];
    for (const leg of ['c', 'b']) {
      for (let i = 0; i < o.purges; i++) all.push(lat(leg, i));
      for (let t = 0; t < o.tasks; t++) for (let u = 0; u < o.urlsPerTask; u++) all.push(thr(leg, t, u));
    }
    const w0 = now();
    await warm(nodes, all);
    o.log(`   ${engine}: 2 nodes up, ${all.length} objects warmed on each in ${(msSince(w0) / 1000).toFixed(1)} s`);

    const raw = rawPurger(nodes, o.rawInFlightPerNode);
    try {
      // Latency: one at a time, so each figure is the whole path for one purge.
      let cachectlErrors = 0;
      const tc: number[] = [];
      for (let i = 0; i < o.purges; i++) {
        const s = now();
        const created = await client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [`http://${DOMAIN}${lat('c', i)}`] } } });
        const id = created.json?.refresh_task;
        const done = await client.call('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', '10000']] });
        tc.push(msSince(s));
        if (created.status !== 200 || done.json?.task?.succeed !== 1) cachectlErrors++;
      }
      const tb: number[] = [];
      for (let i = 0; i < o.purges; i++) {
        const s = now();
        await raw.purge(lat('b', i));
        tb.push(msSince(s));
      }
      const cachectl = summarize(tc);
      const baseline = summarize(tb);
      o.log(`   ${engine} purge latency: cachectl p50 ${cachectl.p50} ms p99 ${cachectl.p99} | raw p50 ${baseline.p50} ms p99 ${baseline.p99}`);

      // Throughput: 1000-URL tasks at a few in flight, until every URL is done on both nodes.
      const serverCpu = new CpuMeter(server.pid);
      const agentCpu = nodes[0].pids[1] ? new CpuMeter(nodes[0].pids[1]) : null;
      const c0 = now();
      await runBounded(o.tasks, o.taskConcurrency, now() + 300_000_000_000n, async (t) => {
        const urls = Array.from({ length: o.urlsPerTask }, (_, u) => `http://${DOMAIN}${thr('c', t, u)}`);
        const created = await client!.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
        const done = await client!.call('GET', `/cachectl/v1/tasks/${created.json?.refresh_task}/wait`, { query: [['timeout_ms', '60000']] });
        if (done.json?.task?.succeed !== o.urlsPerTask) cachectlErrors++;
      });
      const cMs = msSince(c0);
      const cpuC = serverCpu.stop();
      const cpuA = agentCpu?.stop();
      const benchCpu = new CpuMeter(server.pid);
      const b0 = now();
      const total = o.tasks * o.urlsPerTask;
      await runBounded(total, o.rawInFlightPerNode, now() + 300_000_000_000n, async (i) => raw.purge(thr('b', Math.floor(i / o.urlsPerTask), i % o.urlsPerTask)));
      const bMs = msSince(b0);
      const cpuB = benchCpu.stop();
      const cachectlUrlsPerSec = Math.round(total / (cMs / 1000));
      const baselineUrlsPerSec = Math.round(total / (bMs / 1000));
      o.log(`   ${engine} throughput: cachectl ${cachectlUrlsPerSec} URLs/s | raw ${baselineUrlsPerSec} URLs/s (both nodes each)`);
      return {
        engine,
        latency: { cachectl, baseline, ratioP50: r2(cachectl.p50 / baseline.p50) },
        throughput: { cachectlUrlsPerSec, baselineUrlsPerSec, percentOfBaseline: Math.round((100 * cachectlUrlsPerSec) / baselineUrlsPerSec) },
        cpu: { cachectl: cpuC, ...(cpuA && { agent: cpuA }), baseline: cpuB },
        errors: { cachectl: cachectlErrors, baseline: raw.errors() },
      };
    } finally {
      await raw.close();
    }
  } finally {
    await client?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    for (const n of nodes) await n.stop().catch(() => undefined);
    await origin.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
