// Real engines behind cachectl: purge latency (1-URL tasks, create → done) and URL throughput
// (1000-URL tasks) with 2 nodes of one engine, each beside the same purges sent straight to the engines
// from this process (raw purges over keep-alive undici Pools), measured in the same run on objects that
// were warmed into both nodes first. CPU of the server, the engines, the agents and this process is read
// per leg, so the report can say what limited each.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { engineMissing, startLocalNode, type EngineName, type LocalNode } from '../src/edge/local-engines.js';
import { SignedClient } from './client.js';
import { fsyncProbe } from './cpu.js';
import { latestProfile, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { startBenchOrigin } from './origin.js';
import { addGroupCpu, GroupCpuMeter, type GroupCpu } from './proc-cpu.js';
import { startServerChild } from './server-process.js';
import { now, msSince, runBounded, summarize, type Summary } from './stats.js';

export interface EngineBenchOptions {
  purges: number;
  /** Latency: alternating blocks of cachectl and raw purges, so that machine noise falls on both. */
  blocks: number;
  tasks: number;
  urlsPerTask: number;
  taskConcurrency: number;
  /** Raw purges in flight per node in the throughput baseline: the sockets cachectl's driver uses per node. */
  rawInFlightPerNode: number;
  /** Bound on the measured legs (warm-up and setup not included). */
  boundMs: number;
  /** Diagnosis (BENCH_CPU_PROF=1): run the server under --cpu-prof and summarise each leg; slows it down. */
  cpuProf?: boolean;
  log: (line: string) => void;
}

export interface EngineBenchResult {
  engine: EngineName;
  latency: {
    cachectl: Summary;
    /** The two legs of a cachectl purge: the create call (durable intake), then the long-poll. */
    create: Summary;
    wait: Summary;
    baseline: Summary;
    ratio: { p50: number; p99: number };
    cpu: { cachectl: GroupCpu; baseline: GroupCpu };
  };
  throughput: {
    urls: number;
    rawInFlightPerNode: number;
    cachectlUrlsPerSec: number;
    baselineUrlsPerSec: number;
    percentOfBaseline: number;
    cpu: { cachectl: GroupCpu; baseline: GroupCpu };
  };
  /** Node purges (one URL on one node) that found nothing cached, of those counted. */
  notCached: { cachectl: number; cachectlOf: number; baseline: number; baselineOf: number };
  /** Sampled cachectl purges checked on node 1 afterwards: how many were gone (a MISS). */
  verified: { checked: number; gone: number };
  errors: { cachectl: number; baseline: number };
  warmMs: number;
  /** fdatasync of 4 KiB in the server's data dir: the floor under each durable write (SQLite synchronous=FULL). */
  fsync: { p50Ms: number; p99Ms: number };
  /** With cpuProf: the server's hottest functions during the cachectl latency leg and the 1000-URL tasks. */
  profile?: { latency: ProfileSummary; throughput: ProfileSummary };
}

const DOMAIN = 'engines.bench.test';
const r2 = (x: number) => Math.round(x * 100) / 100;
const cacheStatus = (h: Record<string, string | string[] | undefined>) => String(h['x-cache'] ?? h['x-cache-status'] ?? '');

/** Raw purges of one URL on one node over a keep-alive Pool; counts errors and objects that were not cached. */
function rawPurger(nodes: LocalNode[], connections: number) {
  const pools = nodes.map((n) => new Pool(n.rawPurge.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 }));
  const c = { errors: 0, notCached: 0, done: 0 };
  const one = async (i: number, p: string) => {
    const n = nodes[i];
    try {
      const res = await pools[i].request({ method: n.rawPurge.method as 'GET', path: `${n.rawPurge.pathPrefix}${p}`, headers: { host: DOMAIN } });
      await res.body.dump();
      c.done++;
      // Varnish: 200 with X-Purged: <count>; nginx/ATS: 200 purged, 404 not cached.
      if (res.statusCode === 404 || res.headers['x-purged'] === '0') c.notCached++;
      else if (res.statusCode !== 200) c.errors++;
    } catch {
      c.errors++;
    }
  };
  return {
    one,
    /** One "purge" of the latency baseline: the URL on every node, done when all answered. */
    all: (p: string) => Promise.all(nodes.map((_, i) => one(i, p))).then(() => undefined),
    counts: c,
    close: () => Promise.all(pools.map((p) => p.close())),
  };
}

/** GETs every path through every node (so that the purges remove cached objects); checks one comes back a HIT. */
async function warm(nodes: LocalNode[], paths: string[]): Promise<void> {
  const pools = nodes.map((n) => new Pool(n.trafficUrl, { connections: 16, pipelining: 1 }));
  const get = async (pool: Pool, p: string) => {
    const res = await pool.request({ method: 'GET', path: p, headers: { host: DOMAIN } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`warm ${p}: ${res.statusCode}`);
    return cacheStatus(res.headers);
  };
  try {
    await runBounded(paths.length, 32, now() + 180_000_000_000n, async (i) => {
      await Promise.all(pools.map((pool) => get(pool, paths[i])));
    });
    for (const pool of pools) {
      const s = await get(pool, paths[0]);
      if (s !== 'HIT') throw new Error(`warm: a second GET of ${paths[0]} answered cache status '${s}', expected HIT`);
    }
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
  let result: EngineBenchResult | undefined;
  const profDir = path.join(tmp, 'prof');
  const usNow = () => Number(process.hrtime.bigint() / 1000n);
  const profWindows = { latency: [] as Array<{ fromUs: number; toUs: number }>, throughput: [] as Array<{ fromUs: number; toUs: number }> };
  try {
    for (let i = 1; i <= 2; i++) nodes.push(await startLocalNode(engine, path.join(tmp, 'engines'), `${engine}-${i}`));
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const fsync = fsyncProbe(dataDir);
    server = await startServerChild({ dataDir, edges: 0, cpuProfDir: o.cpuProf ? profDir : undefined, extraArgs: ['--max-urls', String(o.urlsPerTask)] });
    const creds = server.credentials;
    const api = new SignedClient(server.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, 8);
    client = api;
    await api.ok('PUT', `/cachectl/v1/accounts/${encodeURIComponent(creds.account)}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
    for (const n of nodes) await api.ok('POST', '/cachectl/v1/nodes', { body: { name: n.name, driver: n.driver, traffic_url: n.trafficUrl, control_url: n.controlUrl, secret: n.secret } });
    await api.ok('POST', '/v1.0/cdn/domains', {
      body: { domain: { domain_name: DOMAIN, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }] } },
    });
    for (const start = now(); ; ) {
      const list = await api.ok('GET', '/v1.0/cdn/domains', { query: [['domain_name', DOMAIN], ['exact_match', 'true']] });
      if (list.domains?.[0]?.domain_status === 'online') break;
      if (msSince(start) > 30_000) throw new Error(`${engine}: domain not online: ${JSON.stringify(list.domains?.[0])}`);
      await new Promise((r) => setTimeout(r, 25));
    }

    // Separate URL sets per leg, all warmed on both nodes, so every leg purges cached objects.
    const lat = (leg: string, i: number) => `/eb/lat/${leg}/${i}`;
    const thr = (leg: string, u: number) => `/eb/thr/${leg}/${Math.floor(u / o.urlsPerTask)}/${u % o.urlsPerTask}`;
    const total = o.tasks * o.urlsPerTask;
    const all: string[] = [];
    for (const leg of ['c', 'b', 'wc', 'wb']) for (let i = 0; i < (leg.startsWith('w') ? 20 : o.purges); i++) all.push(lat(leg, i));
    for (const leg of ['c', 'b']) for (let u = 0; u < total; u++) all.push(thr(leg, u));
    const w0 = now();
    await warm(nodes, all);
    const warmMs = Math.round(msSince(w0));
    o.log(`   ${engine}: 2 nodes up, ${all.length} objects warmed on each in ${(warmMs / 1000).toFixed(1)} s`);

    const deadline = now() + BigInt(o.boundMs) * 1_000_000n;
    const groups = {
      server: [server.pid],
      engines: nodes.map((n) => n.pids[0]),
      agents: nodes.flatMap((n) => n.pids.slice(1)),
    };
    // The server's event loop alone: near 1 core means cachectl is bound by its one JS thread.
    const mainThread = { 'server main thread': server.pid };
    const errors = { cachectl: 0, baseline: 0 };
    const verified = { checked: 0, gone: 0 };
    const trafficPool = new Pool(nodes[0].trafficUrl, { connections: 1 });
    // (Latency raw purges: one socket per node is all a sequential loop uses.)
    const rawLat = rawPurger(nodes, 1);
    const rawThr = rawPurger(nodes, o.rawInFlightPerNode);
    const taskIds: string[] = [];

    /** Creates a refresh task and long-polls until it is done; returns the create call's and the whole time. */
    const viaCachectl = async (urls: string[], waitBoundMs: number): Promise<{ createMs: number; ms: number } | null> => {
      const s = now();
      const created = await api.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: urls.map((u) => `http://${DOMAIN}${u}`) } } });
      const createMs = msSince(s);
      const id = created.json?.refresh_task;
      if (created.status !== 200 || typeof id !== 'string') {
        if (++errors.cachectl <= 3) o.log(`   cachectl create: ${created.status} ${created.text.slice(0, 200)}`);
        return null;
      }
      taskIds.push(id);
      for (;;) {
        const w = await api.call('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', String(Math.min(60_000, waitBoundMs))]] });
        if (w.status === 200 && w.json?.done === true) {
          if (w.json.task?.succeed !== urls.length) {
            errors.cachectl++;
            o.log(`   cachectl task ${id}: ${w.text.slice(0, 200)}`);
          }
          return { createMs, ms: msSince(s) };
        }
        if (w.status !== 200 || msSince(s) > waitBoundMs) {
          if (++errors.cachectl <= 3) o.log(`   cachectl wait ${id}: ${w.status} ${w.text.slice(0, 200)}`);
          return null;
        }
      }
    };

    try {
      // ---- latency: one purge at a time, each figure the whole path of one purge on both nodes ----------
      for (let i = 0; i < 20; i++) {
        await viaCachectl([lat('wc', i)], 10_000); // untimed: connections, JIT
        await rawLat.all(lat('wb', i));
      }
      Object.assign(rawLat.counts, { errors: 0, notCached: 0, done: 0 });
      taskIds.length = 0;
      errors.cachectl = 0;
      const tc: number[] = [];
      const tCreate: number[] = [];
      const tWait: number[] = [];
      const tb: number[] = [];
      let cpuC: GroupCpu | undefined;
      let cpuB: GroupCpu | undefined;
      const perBlock = Math.ceil(o.purges / o.blocks);
      for (let b = 0, done = 0; b < o.blocks && done < o.purges && now() < deadline; b++) {
        const from = done;
        const to = Math.min(o.purges, done + perBlock);
        const runC = async () => {
          const m = new GroupCpuMeter(groups, mainThread);
          const w = { fromUs: usNow(), toUs: 0 };
          for (let i = from; i < to; i++) {
            const r = await viaCachectl([lat('c', i)], 10_000);
            if (!r) continue;
            tc.push(r.ms);
            tCreate.push(r.createMs);
            tWait.push(r.ms - r.createMs);
          }
          w.toUs = usNow();
          profWindows.latency.push(w);
          cpuC = addGroupCpu(cpuC, m.stop());
        };
        const runB = async () => {
          const m = new GroupCpuMeter(groups, mainThread);
          for (let i = from; i < to; i++) {
            const s = now();
            await rawLat.all(lat('b', i));
            tb.push(msSince(s));
          }
          cpuB = addGroupCpu(cpuB, m.stop());
        };
        if (b % 2 === 0) await runC().then(runB);
        else await runB().then(runC);
        done = to;
      }
      // Afterwards, untimed: were the objects really gone? (A GET stores them again; that is fine now.)
      for (let i = 0; i < tc.length; i += 25) {
        const res = await trafficPool.request({ method: 'GET', path: lat('c', i), headers: { host: DOMAIN } });
        await res.body.dump();
        const s = cacheStatus(res.headers);
        if (s === '') break; // the engine does not say
        verified.checked++;
        if (s !== 'HIT') verified.gone++;
      }
      const latTaskIds = taskIds.splice(0);
      const cachectl = summarize(tc);
      const baseline = summarize(tb);
      o.log(`   ${engine} purge latency: cachectl p50 ${cachectl.p50} ms p99 ${cachectl.p99} | raw p50 ${baseline.p50} ms p99 ${baseline.p99}`);

      // ---- throughput: 1000-URL tasks a few at a time, first create to last done on both nodes --------
      const m1 = new GroupCpuMeter(groups, mainThread);
      const tw = { fromUs: usNow(), toUs: 0 };
      const c0 = now();
      await runBounded(o.tasks, o.taskConcurrency, deadline, async (t) => {
        const urls = Array.from({ length: o.urlsPerTask }, (_, u) => thr('c', t * o.urlsPerTask + u));
        await viaCachectl(urls, 120_000);
      });
      const cMs = msSince(c0);
      tw.toUs = usNow();
      profWindows.throughput.push(tw);
      const thrCpuC = m1.stop();
      const cUrls = taskIds.length * o.urlsPerTask;
      // Raw: each node gets its own lanes, as cachectl's per-node queues do; done when both are done.
      const m2 = new GroupCpuMeter(groups, mainThread);
      const b0 = now();
      await Promise.all(nodes.map((_, i) => runBounded(total, o.rawInFlightPerNode, deadline, (u) => rawThr.one(i, thr('b', u)))));
      const bMs = msSince(b0);
      const thrCpuB = m2.stop();
      const bUrls = rawThr.counts.done / nodes.length;
      const cachectlUrlsPerSec = Math.round(cUrls / (cMs / 1000));
      const baselineUrlsPerSec = Math.round(bUrls / (bMs / 1000));
      o.log(`   ${engine} throughput: cachectl ${cachectlUrlsPerSec} URLs/s | raw ${baselineUrlsPerSec} URLs/s (on both nodes)`);

      // Untimed: what each node said per URL, to count cachectl's purges that found nothing cached.
      const nc = { n: 0, of: 0 };
      for (const id of [...latTaskIds, ...taskIds]) {
        const r = await api.ok('GET', `/cachectl/v1/tasks/${id}/nodes`, { query: [['limit', '1000']] });
        for (const u of r.urls ?? []) {
          for (const detail of nodeDetails(u.nodes)) {
            nc.of++;
            if (detail === 'purged 0') nc.n++;
          }
        }
      }
      errors.baseline = rawLat.counts.errors + rawThr.counts.errors;
      result = {
        engine,
        latency: {
          cachectl,
          create: summarize(tCreate),
          wait: summarize(tWait),
          baseline,
          ratio: { p50: r2(cachectl.p50 / baseline.p50), p99: r2(cachectl.p99 / baseline.p99) },
          cpu: { cachectl: cpuC!, baseline: cpuB! },
        },
        throughput: {
          urls: total,
          rawInFlightPerNode: o.rawInFlightPerNode,
          cachectlUrlsPerSec,
          baselineUrlsPerSec,
          percentOfBaseline: Math.round((100 * cachectlUrlsPerSec) / baselineUrlsPerSec),
          cpu: { cachectl: thrCpuC, baseline: thrCpuB },
        },
        notCached: { cachectl: nc.n, cachectlOf: nc.of, baseline: rawLat.counts.notCached + rawThr.counts.notCached, baselineOf: rawLat.counts.done + rawThr.counts.done },
        verified,
        errors,
        warmMs,
        fsync,
      };
    } finally {
      await Promise.all([rawLat.close(), rawThr.close(), trafficPool.close()]);
    }
  } finally {
    await client?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    const prof = result && o.cpuProf ? latestProfile(profDir) : null;
    if (result && prof) result.profile = { latency: summarizeProfile(prof, profWindows.latency, 15), throughput: summarizeProfile(prof, profWindows.throughput, 15) };
    for (const n of nodes) await n.stop().catch(() => undefined);
    await origin.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return result!;
}

/** The per-node details of one URL in a /tasks/:id/nodes answer ({node: {detail}} or [{detail}]). */
function nodeDetails(nodes: unknown): string[] {
  const parsed = typeof nodes === 'string' ? JSON.parse(nodes) : nodes;
  const list = Array.isArray(parsed) ? parsed : Object.values(parsed ?? {});
  return list.map((n: any) => String(n?.detail ?? ''));
}
