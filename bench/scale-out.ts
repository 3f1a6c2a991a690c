// Section 6 of the benchmark: the scale-out deployment (PostgreSQL store, NATS edge bus), each figure
// beside a baseline of the same run.
//
//   a. 1000-URL tasks through one API process with 1 and with 3 worker processes: intake, end to end,
//      the scaling ratio, and which processes were busy (API, workers, edges, PostgreSQL)
//   b. 1-URL purge latency with the same 2 edges as NATS nodes (through a PoP agent) and as HTTP nodes,
//      in alternating blocks
//   c. ShowHistoryTasks over 1,000,000 tasks on PostgreSQL (bench/pg-history.ts loads them)
//   d. 100 edges in 10 PoPs behind 10 agents: registering them, and 1-URL purges done on all 100
//
// Knobs: BENCH_SCALE=0 skips; BENCH_QUICK=1 small sizes; BENCH_SCALE_PARTS=a,c runs only those;
// BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_NATS_URL (default
// nats://127.0.0.1:4222). Without PostgreSQL the section is skipped; without NATS parts b and d are; a
// part that fails (e.g. `cachectl agent --nats` does not start) is skipped with the reason.
// Every process, scratch database and NATS prefix is the run's own, and stopped or dropped after.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { cachectlChild, type CachectlChild } from '../src/cluster/child-process.js';
import { reachable } from '../src/cluster/private-nats.js';
import { createScratchDatabase } from '../src/cluster/scratch-database.js';
import { removeBus } from '../src/edge/nats/edge-bus.js';
import { freePort, sleep, stopPid } from '../src/edge/local-process.js';
import { SignedClient } from './client.js';
import { benchHistory, type HistoryQueryResult } from './history.js';
import { startBenchOrigin } from './origin.js';
import { bulkLoadPgTasks, type PgLoadResult } from './pg-history.js';
import { info, row, type Row } from './report.js';
import { msSince, now, runBounded, summarize, type Summary } from './stats.js';

const DOMAIN = 'bench-scale.example.com';
const ACCOUNT = 'admin';
const EDGE_HOST = fileURLToPath(new URL('./edge-host.js', import.meta.url));

export interface ScaleOutConfig {
  quick: boolean;
  postgresUrl: string;
  natsUrl: string;
  /** a: 1000-URL tasks per leg; legs run in this order of worker counts. */
  tasks: number;
  workerLegs: number[];
  /** b: blocks per transport, purges per block. */
  blocks: number;
  purgesPerBlock: number;
  /** c */
  historyTasks: number;
  historyCalls: number;
  deepCalls: number;
  /** d */
  fleetPurges: number;
  /** Which of a, b, c, d run (BENCH_SCALE_PARTS, default all). */
  parts: string[];
}

export function scaleOutConfig(quick: boolean): ScaleOutConfig {
  return {
    quick,
    postgresUrl: process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    natsUrl: process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222',
    tasks: quick ? 10 : 30,
    // Full: 1, 3, 3, 1 so that drift of the machine falls on both worker counts alike.
    workerLegs: quick ? [1, 3] : [1, 3, 3, 1],
    blocks: 4,
    purgesPerBlock: quick ? 25 : 100,
    historyTasks: quick ? 100_000 : 1_000_000,
    historyCalls: quick ? 140 : 700,
    deepCalls: quick ? 10 : 50,
    fleetPurges: quick ? 50 : 200,
    parts: (process.env.BENCH_SCALE_PARTS || 'a,b,c,d').split(',').map((x) => x.trim()),
  };
}

type Part<T> = T | { skipped: string };

export interface CpuShare {
  wallMs: number;
  /** Cores busy per process group over the window (1 = one core all the time). */
  cores: Record<string, number>;
}

export interface WorkerLeg {
  workers: number;
  tasks: number;
  urls: number;
  errors: number;
  intakeUrlsPerSec: number;
  e2eUrlsPerSec: number | null;
  create: Summary;
  cpu: CpuShare;
  /** CPU ms per 1000 URLs per group, over the whole window. */
  cpuMsPer1000: Record<string, number>;
  /** What the database's sessions were doing: share of samples per state or wait event. */
  pgWaits: Record<string, number>;
  /** Node results of a sampled URL (2 expected). */
  nodesPerUrl: number;
}

export interface WorkersResult {
  legs: WorkerLeg[];
  /** Median end-to-end URLs/s per worker count. */
  e2e: Record<number, number>;
  intake: Record<number, number>;
  ratio: number;
}

export interface TransportResult {
  http: Summary;
  nats: Summary;
  /** p50 of the create call alone, per transport (the rest is the wait until done). */
  createP50: { http: number; nats: number };
  ratio: { p50: number; p99: number };
  errors: { http: number; nats: number };
  cpu: { http: CpuShare; nats: CpuShare };
}

export interface PgHistoryResult {
  load: PgLoadResult;
  restartMs: number;
  history: HistoryQueryResult;
  /** Cores busy during the calls ('other': the machine's load not ours, which lands in the p99). */
  cpu: CpuShare;
}

export interface FleetResult {
  nodes: number;
  registerMs: number;
  /** Of which the 100 POST calls (4 at a time). */
  registerCallsMs: number;
  purge: Summary;
  createP50: number;
  errors: number;
  /** Sampled tasks whose per-node results were read: how many had all nodes done. */
  verified: { checked: number; allNodes: number };
  cpu: CpuShare;
  idleCpu: CpuShare;
}

export interface ScaleOutResult {
  workers: Part<WorkersResult>;
  transport: Part<TransportResult>;
  history: Part<PgHistoryResult>;
  fleet: Part<FleetResult>;
  elapsedMs: number;
}

// ---- processes ---------------------------------------------------------------------------------------

/** Everything started, stopped in reverse order; SIGKILLed if the bench exits first. */
class Stack {
  private readonly stops: Array<() => Promise<void>> = [];
  push(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }
  async unwind(): Promise<void> {
    for (const s of this.stops.splice(0).reverse()) await s().catch(() => undefined);
  }
}
const livePids = new Set<number>();
process.on('exit', () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
const track = (stack: Stack, pid: () => number, stop: () => Promise<void>) => {
  const p = pid();
  livePids.add(p);
  stack.push(async () => {
    await stop();
    livePids.delete(p);
  });
};

interface Env {
  dir: string;
  key: { accessKey: string; secretKey: string };
  originPort: number;
  log: (line: string) => void;
}

interface Serve {
  url: string;
  pid: number;
}

/** `cachectl serve` on the database; role worker has no API (url ''). */
async function startServe(env: Env, stack: Stack, name: string, databaseUrl: string, extra: Record<string, string> = {}): Promise<Serve> {
  const port = await freePort();
  const worker = extra.CACHECTL_ROLE === 'worker';
  const child: CachectlChild = cachectlChild(
    ['serve'],
    {
      CACHECTL_DATABASE_URL: databaseUrl,
      CACHECTL_HOST: '127.0.0.1',
      CACHECTL_PORT: String(port),
      CACHECTL_DATA_DIR: path.join(env.dir, name),
      CACHECTL_BUILTIN_EDGES: '0',
      CACHECTL_BOOTSTRAP_AK: env.key.accessKey,
      CACHECTL_BOOTSTRAP_SK: env.key.secretKey,
      CACHECTL_LOG_LEVEL: 'warn',
      ...extra,
    },
    path.join(env.dir, `${name}.log`),
    (l) => l.startsWith(worker ? 'cachectl worker running' : 'cachectl API listening on'),
    name,
  );
  try {
    await within(20_000, child.start(), `${name} did not start in 20 s; see ${path.join(env.dir, `${name}.log`)}`);
  } finally {
    if (child.pid()) track(stack, child.pid, () => child.kill());
  }
  return { url: worker ? '' : `http://127.0.0.1:${port}`, pid: child.pid() };
}

async function startAgent(env: Env, stack: Stack, natsUrl: string, prefix: string, pop: string): Promise<number> {
  const child = cachectlChild(['agent', '--nats', natsUrl, '--pop', pop, '--prefix', prefix, '--state-dir', path.join(env.dir, 'agent-state')], {}, path.join(env.dir, `agent-${pop}.log`), (l) => l.startsWith('{'), `agent ${pop}`);
  try {
    await within(20_000, child.start(), `agent ${pop} did not start in 20 s; see ${path.join(env.dir, `agent-${pop}.log`)}`);
  } finally {
    if (child.pid()) track(stack, child.pid, () => child.kill());
  }
  return child.pid();
}

/** A start takes a second or two: a hung one should not cost cachectlChild's 60 s. */
async function within<T>(ms: number, p: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface Edge {
  name: string;
  trafficUrl: string;
  controlUrl: string;
  pop?: string;
}

/** bench/edge-host.ts as a child: `count` built-in edges, `perPop` to a PoP. */
async function startEdgeHost(env: Env, stack: Stack, count: number, perPop = 0): Promise<{ pid: number; edges: Edge[] }> {
  const log = fs.openSync(path.join(env.dir, 'edge-host.log'), 'a');
  const child = spawn(process.execPath, [EDGE_HOST, String(count), String(perPop)], { stdio: ['ignore', 'pipe', log] });
  fs.closeSync(log);
  track(stack, () => child.pid!, () => stopPid(child.pid!));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('edge host did not start in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`edge host exited with ${code}`)));
    readline.createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  return { pid: child.pid!, edges: (JSON.parse(line) as { edges: Edge[] }).edges };
}

// ---- CPU per process group -----------------------------------------------------------------------------

const TICK_MS = 10;

/** utime+stime of a process, ms; null when gone. */
function procMs(pid: number): number | null {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const r = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(r[11]) + Number(r[12])) * TICK_MS;
  } catch {
    return null;
  }
}

function pidsByComm(comm: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function machineBusyMs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_MS;
}

/** The bench's own connections to a scratch database: named, so that the CPU count leaves them out. */
function benchPool(url: string, stack: Stack): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'cachectl-bench' });
  stack.push(() => pool.end());
  return pool;
}

/**
 * PostgreSQL processes by pid: `postgres`, the backends of this database (cachectl's connections; other
 * databases on the server, e.g. other people's tests, are left out), and `pg shared`, the server's
 * background processes (WAL writer, checkpointer: shared by every database).
 */
async function pgPids(pool: pg.Pool): Promise<Record<string, number[]>> {
  const r = await pool.query(
    `select pid, datname is not null as mine from pg_stat_activity
     where application_name <> 'cachectl-bench' and (datname = current_database() or datname is null)`,
  );
  const rows = r.rows as Array<{ pid: number; mine: boolean }>;
  return { postgres: rows.filter((x) => x.mine).map((x) => x.pid), 'pg shared': rows.filter((x) => !x.mine).map((x) => x.pid) };
}

/**
 * CPU over a window of: fixed process groups (our children), servers found by command name
 * (nats-server), and PostgreSQL's processes of the database behind `pool`, whose set changes as pools
 * connect: a backend present at the end and not at the start was born inside the window.
 */
async function startMeter(groups: Record<string, number[]>, pool?: pg.Pool, comms: Record<string, string> = {}): Promise<() => Promise<CpuShare>> {
  const pids0 = pool ? await pgPids(pool) : {};
  const fixed = { ...groups, ...Object.fromEntries(Object.entries(comms).map(([k, c]) => [k, pidsByComm(c)])) };
  const read = (pids: number[]) => new Map(pids.map((p) => [p, procMs(p) ?? 0]));
  const start = Object.fromEntries(Object.entries({ ...fixed, ...pids0 }).map(([k, pids]) => [k, read(pids)]));
  const wall0 = now();
  const bench0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  return async () => {
    const wallMs = msSince(wall0);
    const ms: Record<string, number> = {};
    const pids1 = pool ? await pgPids(pool) : {};
    for (const [k, pids] of Object.entries({ ...fixed, ...pids1 })) {
      ms[k] = 0;
      for (const [p, v] of read(pids)) ms[k] += v - (start[k]?.get(p) ?? 0);
    }
    const b = process.cpuUsage(bench0);
    ms.bench = (b.user + b.system) / 1000;
    const ours = Object.values(ms).reduce((x, v) => x + v, 0);
    ms.other = Math.max(0, machineBusyMs() - machine0 - ours);
    const cores: Record<string, number> = {};
    for (const [k, v] of Object.entries(ms)) cores[k] = Math.round((v / wallMs) * 100) / 100;
    return { wallMs: Math.round(wallMs), cores };
  };
}

function addCpu(a: CpuShare | undefined, b: CpuShare): CpuShare {
  if (!a) return b;
  const wallMs = a.wallMs + b.wallMs;
  const cores: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.cores), ...Object.keys(b.cores)])) {
    cores[k] = Math.round((((a.cores[k] ?? 0) * a.wallMs + (b.cores[k] ?? 0) * b.wallMs) / wallMs) * 100) / 100;
  }
  return { wallMs, cores };
}

// ---- API steps -----------------------------------------------------------------------------------------

async function prepareAccount(client: SignedClient): Promise<void> {
  await client.ok('PUT', `/cachectl/v1/accounts/${ACCOUNT}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
}

async function addDomain(client: SignedClient, originPort: number): Promise<void> {
  await client.ok('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: DOMAIN, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: originPort }] } },
  });
  const t0 = now();
  while (msSince(t0) < 30_000) {
    const list = await client.ok('GET', '/v1.0/cdn/domains', { query: [['domain_name', DOMAIN], ['exact_match', 'true']] });
    if (list.domains?.[0]?.domain_status === 'online') return;
    await sleep(25);
  }
  throw new Error(`domain ${DOMAIN} did not come online in 30 s`);
}

/**
 * Registers the edges under `names` (nats: with their pop), `concurrency` calls at a time; then waits
 * until all are up. Answers how long the calls took (the rest is the wait for up).
 */
async function registerNodes(client: SignedClient, edges: Edge[], names: string[], transport: 'http' | 'nats', pop?: string, concurrency = 1): Promise<number> {
  const t0 = now();
  await runBounded(edges.length, concurrency, now() + 60_000_000_000n, async (i) => {
    const e = edges[i];
    await client.ok('POST', '/cachectl/v1/nodes', {
      body: { name: names[i], driver: 'builtin', traffic_url: e.trafficUrl, control_url: e.controlUrl, ...(transport === 'nats' && { transport, pop: pop ?? e.pop }) },
    });
  });
  const callsMs = msSince(t0);
  await waitNodes(client, (nodes) => names.every((n) => nodes.some((x) => x.name === n && x.up)), `nodes ${names[0]}… up`);
  return callsMs;
}

async function waitNodes(client: SignedClient, ok: (nodes: Array<{ name: string; up: boolean }>) => boolean, what: string): Promise<void> {
  const t0 = now();
  while (msSince(t0) < 30_000) {
    if (ok((await client.ok('GET', '/cachectl/v1/nodes')).nodes)) return;
    await sleep(20);
  }
  throw new Error(`${what}: not within 30 s`);
}

/** GETs each path on each edge through its traffic port (fills their caches). */
async function warm(edges: Edge[], paths: string[], pools: Map<string, Pool>): Promise<void> {
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
async function timedPurge(client: SignedClient, urlPath: string): Promise<{ ms: number; createMs: number; id: string }> {
  const t0 = now();
  const created = await client.ok('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${DOMAIN}${urlPath}`] } } });
  const id = created.refresh_task as string;
  const createMs = msSince(t0);
  const waited = await client.call('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', '10000']] });
  const ms = msSince(t0);
  if (waited.status !== 200 || waited.json?.done !== true || waited.json.task.succeed !== 1) throw new Error(`task ${id}: ${waited.status} ${waited.text.slice(0, 200)}`);
  return { ms, createMs, id };
}

// ---- a. workers ----------------------------------------------------------------------------------------

async function workerLeg(env: Env, cfg: ScaleOutConfig, workers: number, leg: number): Promise<WorkerLeg> {
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

async function runWorkers(env: Env, cfg: ScaleOutConfig): Promise<WorkersResult> {
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
class WaitSampler {
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

function waitsText(w: Record<string, number>): string {
  return Object.entries(w).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') || 'all idle';
}

function median(xs: Array<number | null>): number {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

// ---- b. NATS vs HTTP ---------------------------------------------------------------------------------

async function runTransport(env: Env, cfg: ScaleOutConfig): Promise<TransportResult> {
  const stack = new Stack();
  const pools = new Map<string, Pool>();
  try {
    const db = await createScratchDatabase(cfg.postgresUrl);
    stack.push(db.drop);
    const prefix = `bench_${randomBytes(4).toString('hex')}`;
    stack.push(() => removeBus(cfg.natsUrl, prefix));
    const serve = await startServe(env, stack, 'b-serve', db.url, { CACHECTL_NATS_URL: cfg.natsUrl, CACHECTL_NATS_PREFIX: prefix });
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

// ---- c. history on PostgreSQL ------------------------------------------------------------------------

async function runHistory(env: Env, cfg: ScaleOutConfig): Promise<PgHistoryResult> {
  const stack = new Stack();
  try {
    const db = await createScratchDatabase(cfg.postgresUrl);
    stack.push(db.drop);
    // A first start migrates the database and creates the account; the load needs no server up.
    const first = new Stack();
    try {
      await startServe(env, first, 'c-serve-1', db.url);
    } finally {
      await first.unwind();
    }
    env.log(`6c. loading ${cfg.historyTasks.toLocaleString('en-US')} tasks into PostgreSQL`);
    const load = await bulkLoadPgTasks(db.url, ACCOUNT, cfg.historyTasks, env.log);
    env.log(`   ${load.tasksInTable.toLocaleString('en-US')} tasks (${load.tableMb} MB with indexes): insert ${load.insertMs} ms, indexes ${load.indexMs} ms, counts ${load.countsMs} ms, analyze ${load.analyzeMs} ms`);
    const t0 = now();
    const serve = await startServe(env, stack, 'c-serve-2', db.url);
    const restartMs = Math.round(msSince(t0));
    const client = new SignedClient(serve.url, env.key, 2);
    stack.push(() => client.close());
    const meter = await startMeter({ serve: [serve.pid] }, benchPool(db.url, stack));
    const history = await benchHistory({ client, calls: cfg.historyCalls, deepCalls: cfg.deepCalls, boundMs: 90_000, log: env.log });
    const cpu = await meter();
    env.log(`   p50 ${history.overall.p50} ms p99 ${history.overall.p99} ms over ${history.calls} calls; cores ${coresText(cpu)}`);
    return { load, restartMs, history, cpu };
  } finally {
    await stack.unwind();
  }
}

// ---- d. wide fleet ------------------------------------------------------------------------------------

async function runFleet(env: Env, cfg: ScaleOutConfig): Promise<FleetResult> {
  const stack = new Stack();
  const pools = new Map<string, Pool>();
  try {
    const db = await createScratchDatabase(cfg.postgresUrl);
    stack.push(db.drop);
    const prefix = `bench_${randomBytes(4).toString('hex')}`;
    stack.push(() => removeBus(cfg.natsUrl, prefix));
    const serve = await startServe(env, stack, 'd-serve', db.url, { CACHECTL_NATS_URL: cfg.natsUrl, CACHECTL_NATS_PREFIX: prefix });
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

// ---- the section ----------------------------------------------------------------------------------------

/** Runs one part; a failure skips it with the reason (and the last line of the log it names). */
async function part<T>(name: string, env: Env & { failed?: boolean }, fn: () => Promise<T>): Promise<Part<T>> {
  try {
    return await fn();
  } catch (err) {
    env.failed = true;
    let reason = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200);
    const file = /see (\S+\.log)/.exec(reason)?.[1];
    const last = file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').pop() : undefined;
    if (last) reason += ` (${last.slice(0, 160)})`;
    env.log(`   ${name} skipped: ${reason}`);
    return { skipped: reason };
  }
}

export async function runScaleOutSection(cfg: ScaleOutConfig, log: (line: string) => void): Promise<ScaleOutResult | { skipped: string }> {
  if (process.env.BENCH_SCALE === '0') return { skipped: 'BENCH_SCALE=0' };
  const pgAddr = new URL(cfg.postgresUrl);
  if (!(await reachable(pgAddr.hostname, Number(pgAddr.port || 5432)))) return { skipped: `PostgreSQL not reachable at ${pgAddr.host}` };
  const natsAddr = new URL(cfg.natsUrl.replace(/^nats:/, 'http:'));
  const natsUp = await reachable(natsAddr.hostname, Number(natsAddr.port || 4222));
  const t0 = now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-scale-'));
  const origin = await startBenchOrigin();
  const env: Env & { failed?: boolean } = { dir, key: { accessKey: randomBytes(10).toString('hex').toUpperCase(), secretKey: randomBytes(20).toString('hex') }, originPort: origin.port, log, failed: false };
  try {
    log(`6. scale-out (PostgreSQL ${pgAddr.host}, NATS ${natsUp ? natsAddr.host : 'not reachable'}); logs in ${dir}`);
    const off = { skipped: 'not in BENCH_SCALE_PARTS' };
    const noNats = { skipped: `NATS not reachable at ${natsAddr.host}` };
    const on = (p: string) => cfg.parts.includes(p);
    const workers = on('a') ? await part('6a', env, () => runWorkers(env, cfg)) : off;
    if (on('b')) log(`6b. purge latency: ${cfg.blocks} blocks x ${cfg.purgesPerBlock} per transport, 2 edges (NATS via agent p1 / HTTP)`);
    const transport = !on('b') ? off : natsUp ? await part('6b', env, () => runTransport(env, cfg)) : noNats;
    const history = on('c') ? await part('6c', env, () => runHistory(env, cfg)) : off;
    if (on('d')) log(`6d. 100 edges in 10 PoPs behind 10 agents: register, ${cfg.fleetPurges} sequential 1-URL purges`);
    const fleet = !on('d') ? off : natsUp ? await part('6d', env, () => runFleet(env, cfg)) : noNats;
    return { workers, transport, history, fleet, elapsedMs: Math.round(msSince(t0)) };
  } finally {
    await origin.close();
    // Logs stay when something went wrong: they say why.
    if (env.failed === false) fs.rmSync(dir, { recursive: true, force: true });
    else log(`   logs kept in ${dir}`);
  }
}

// ---- report rows --------------------------------------------------------------------------------------

function coresText(c: CpuShare): string {
  return Object.entries(c.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(' / ');
}

export function scaleOutRows(result: ScaleOutResult | { skipped: string }): Row[] {
  const S = '6. scale-out';
  if ('skipped' in result) return [info(S, 'skipped', result.skipped)];
  const rows: Row[] = [];
  const w = result.workers;
  const a = '6a. PG workers';
  if ('skipped' in w) rows.push(info(a, 'skipped', w.skipped));
  else {
    for (const n of Object.keys(w.e2e).map(Number)) {
      const legs = w.legs.filter((l) => l.workers === n);
      rows.push(
        row(a, `${n} worker(s): intake, ${legs[0].tasks} x 1000 URLs @4`, w.intake[n], 'URLs/s', undefined, 0),
        row(a, `${n} worker(s): end to end${legs.length > 1 ? ` (median of ${legs.length})` : ''}`, w.e2e[n], 'URLs/s', undefined, 0),
      );
      const avg = (f: (l: WorkerLeg) => Record<string, number>, digits = 2) => {
        const out: Record<string, number> = {};
        for (const l of legs) for (const [k, v] of Object.entries(f(l))) out[k] = (out[k] ?? 0) + v / legs.length;
        // The busiest first; few enough to read (the wait events vary from leg to leg).
        return Object.entries(out)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 6)
          .map(([k, v]) => `${k} ${v.toFixed(digits)}`)
          .join(' / ');
      };
      rows.push(
        info(a, `  cores busy (mean of legs)`, avg((l) => l.cpu.cores)),
        info(a, `  CPU ms per 1000 URLs`, avg((l) => l.cpuMsPer1000, 0)),
        info(a, `  PostgreSQL sessions busy (avg)`, avg((l) => l.pgWaits)),
      );
    }
    // As a percentage: the table shows targets without decimals.
    rows.push(row(a, 'end to end, 3 workers / 1', w.ratio * 100, '%', { op: '>=', limit: 160 }, 0));
    rows.push(info(a, 'errors / node results per sampled URL', `${w.legs.reduce((s, l) => s + l.errors, 0)} / ${w.legs.map((l) => l.nodesPerUrl).join(', ')} (2 expected)`));
  }
  const t = result.transport;
  const b = '6b. NATS purge';
  if ('skipped' in t) rows.push(info(b, 'skipped', t.skipped));
  else {
    rows.push(
      row(b, `NATS p50 (${t.nats.n} 1-URL purges, 2 edges)`, t.nats.p50, 'ms', { op: '<=', limit: 10 }),
      row(b, 'NATS p99', t.nats.p99, 'ms'),
      row(b, `HTTP p50 (${t.http.n}, same edges)`, t.http.p50, 'ms'),
      row(b, 'HTTP p99', t.http.p99, 'ms'),
      info(b, 'create call p50: NATS / HTTP blocks', `${t.createP50.nats.toFixed(2)} / ${t.createP50.http.toFixed(2)} ms (the rest is the wait until done)`),
      row(b, 'ratio NATS/HTTP p50', t.ratio.p50, ''),
      row(b, 'ratio NATS/HTTP p99', t.ratio.p99, ''),
      info(b, 'cores busy, NATS blocks', coresText(t.cpu.nats)),
      info(b, 'cores busy, HTTP blocks', coresText(t.cpu.http)),
      info(b, 'errors: NATS / HTTP', `${t.errors.nats} / ${t.errors.http}`),
    );
  }
  const h = result.history;
  const c = '6c. PG history';
  if ('skipped' in h) rows.push(info(c, 'skipped', h.skipped));
  else {
    const q = h.history;
    rows.push(
      row(c, `p50 (${q.calls} calls, ${h.load.tasksInTable.toLocaleString('en-US')} tasks)`, q.overall.p50, 'ms'),
      row(c, 'p99', q.overall.p99, 'ms', { op: '<=', limit: 20 }),
      ...q.combos.map((x) => row(c, `  p99 ${x.name}`, x.latency.p99, 'ms', { op: '<=', limit: 20 })),
      row(c, `page ${q.deepPage.pageNumber} p50 (${q.deepPage.combo})`, q.deepPage.latency.p50, 'ms'),
      row(c, `page ${q.deepPage.pageNumber} p99`, q.deepPage.latency.p99, 'ms'),
      info(c, 'cores busy during the calls', coresText(h.cpu)),
      info(c, 'first call after restart, worst', `${Math.max(...q.combos.map((x) => x.firstCallMs)).toFixed(1)} ms`),
      info(c, 'load: insert / indexes / counts / analyze', `${(h.load.insertMs / 1000).toFixed(1)} / ${(h.load.indexMs / 1000).toFixed(1)} / ${(h.load.countsMs / 1000).toFixed(1)} / ${(h.load.analyzeMs / 1000).toFixed(1)} s; ${h.load.tableMb} MB; restart ${h.restartMs} ms`),
      info(c, 'errors / bad pages', `${q.errors} / ${q.combos.reduce((s, x) => s + x.badRows, 0)}`),
    );
  }
  const f = result.fleet;
  const d = '6d. 100-edge fleet';
  if ('skipped' in f) rows.push(info(d, 'skipped', f.skipped));
  else {
    rows.push(
      row(d, 'register 100 nats nodes until all up', f.registerMs, 'ms', undefined, 0),
      info(d, '  of which the 100 POST calls (4 at a time)', `${f.registerCallsMs} ms`),
      row(d, `purge p50 (${f.purge.n}, done on 100 nodes)`, f.purge.p50, 'ms'),
      row(d, 'purge p99', f.purge.p99, 'ms', { op: '<=', limit: 100 }),
      info(d, 'create call p50', `${f.createP50.toFixed(2)} ms (the rest is the wait until done)`),
      info(d, 'cores busy, purges', coresText(f.cpu)),
      info(d, 'cores busy, 2 s idle before', coresText(f.idleCpu)),
      info(d, 'sampled tasks done on all 100 nodes', `${f.verified.allNodes} of ${f.verified.checked}`),
      info(d, 'errors', String(f.errors)),
    );
  }
  rows.push(info(S, 'section time', `${(result.elapsedMs / 1000).toFixed(0)} s`));
  return rows;
}
