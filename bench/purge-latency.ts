// Section 1: end-to-end purge latency through cachectl (signed create → long-poll until done) against
// a baseline of the same purges sent straight to both edges' admin endpoints. Blocks of the two
// alternate, so that machine noise falls on both alike.
import { Pool } from 'undici';
import type { SignedClient } from './client.js';
import { childCpu } from './cpu.js';
import type { EdgeUrls } from './server-process.js';
import { msSince, now, summarize, type Summary } from './stats.js';

export interface PurgeLatencyOptions {
  client: SignedClient;
  edges: EdgeUrls[];
  domain: string;
  count: number;
  blocks: number;
  log: (line: string) => void;
  /** Stop starting new blocks after this hrtime. */
  deadline: bigint;
  serverPid: number;
}

export interface PurgeLatencyResult {
  count: { cachectl: number; baseline: number };
  blocks: number;
  cachectl: Summary;
  /** The two legs of a cachectl purge: the create call (durable intake), then the long-poll. */
  cachectlCreate: Summary;
  cachectlWait: Summary;
  baseline: Summary;
  ratio: { p50: number; p99: number; mean: number };
  errors: { cachectl: number; baseline: number };
  /** Baseline purges whose edge answered purged != 1 (object was not cached: warm-up failed). */
  baselineNotCached: number;
  /** cachectl tasks whose purged object was checked on an edge afterwards, and how many were gone (MISS). */
  verified: { checked: number; miss: number };
  /** Server CPU (all threads, user+system) per purge while only that kind of purge was running. */
  serverCpuPerPurgeMs: { cachectl: number | null; baseline: number | null };
  /** Monotonic-clock windows (µs) of the cachectl and the baseline legs, for a CPU profile. */
  legWindows: { cachectl: Array<{ fromUs: number; toUs: number }>; baseline: Array<{ fromUs: number; toUs: number }> };
  elapsedMs: number;
}

async function readJson(body: { text(): Promise<string> }): Promise<any> {
  const t = await body.text();
  return t ? JSON.parse(t) : undefined;
}

export async function benchPurgeLatency(o: PurgeLatencyOptions): Promise<PurgeLatencyResult> {
  const started = now();
  const traffic = o.edges.map((e) => new Pool(e.trafficUrl, { connections: 8, keepAliveTimeout: 30_000 }));
  const admin = o.edges.map((e) => new Pool(e.controlUrl, { connections: 2, keepAliveTimeout: 30_000 }));
  const cachectl: number[] = [];
  const createLeg: number[] = [];
  const waitLeg: number[] = [];
  const baseline: number[] = [];
  const errors = { cachectl: 0, baseline: 0 };
  let baselineNotCached = 0;
  const verified = { checked: 0, miss: 0 };
  const cpu = { cachectl: 0, baseline: 0 };
  const legWindows: PurgeLatencyResult['legWindows'] = { cachectl: [], baseline: [] };
  const usNow = () => Number(process.hrtime.bigint() / 1000n);

  const get = async (edge: number, path: string): Promise<string> => {
    const res = await traffic[edge].request({ method: 'GET', path, headers: { host: o.domain } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`warm ${path} on ${o.edges[edge].name}: ${res.statusCode}`);
    return String(res.headers['x-cache'] ?? '');
  };
  const warm = async (paths: string[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < paths.length) {
          const p = paths[next++];
          await Promise.all(o.edges.map((_, e) => get(e, p)));
        }
      }),
    );
  };

  const viaCachectl = async (path: string, record: boolean, verify: boolean) => {
    const t0 = now();
    try {
      const created = await o.client.call('POST', '/v1.0/cdn/content/refresh-tasks', {
        body: { refresh_task: { type: 'file', urls: [`http://${o.domain}${path}`] } },
      });
      if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text.slice(0, 200)}`);
      const id = created.json.refresh_task as string;
      const createMs = msSince(t0);
      const waited = await o.client.call('GET', `/cachectl/v1/tasks/${id}/wait`, { query: [['timeout_ms', '10000']] });
      const ms = msSince(t0);
      if (waited.status !== 200 || waited.json.done !== true || waited.json.task.succeed !== 1) {
        throw new Error(`wait ${id}: ${waited.status} ${waited.text.slice(0, 200)}`);
      }
      if (record) {
        cachectl.push(ms);
        createLeg.push(createMs);
        waitLeg.push(ms - createMs);
      }
    } catch (err) {
      errors.cachectl++;
      if (errors.cachectl <= 3) o.log(`  cachectl purge error: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (verify) {
      verified.checked++;
      if ((await get(0, path)) !== 'HIT') verified.miss++;
    }
  };

  const direct = async (path: string, record: boolean) => {
    const body = JSON.stringify({ items: [{ host: o.domain, path }] });
    const t0 = now();
    try {
      const answers = await Promise.all(
        admin.map(async (pool, e) => {
          const headers = { 'content-type': 'application/json', authorization: `Bearer ${o.edges[e].secret}` };
          const res = await pool.request({ method: 'POST', path: '/purge', headers, body });
          const json = await readJson(res.body);
          if (res.statusCode !== 200) throw new Error(`edge /purge: ${res.statusCode}`);
          return json;
        }),
      );
      const ms = msSince(t0);
      if (record) {
        baseline.push(ms);
        // (The warm-up purges paths cachectl has just purged: nothing there to count.)
        for (const a of answers) if (a?.results?.[0]?.purged !== 1) baselineNotCached++;
      }
    } catch (err) {
      errors.baseline++;
      if (errors.baseline <= 3) o.log(`  baseline purge error: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  try {
    // Warm-up, untimed: connections, JIT, the edges' caches.
    const warmPaths = Array.from({ length: 20 }, (_, i) => `/warmup/${i}`);
    await warm(warmPaths);
    if ((await get(0, warmPaths[0])) !== 'HIT' || (await get(1 % o.edges.length, warmPaths[0])) !== 'HIT') {
      throw new Error('edge did not cache the origin object (expected X-Cache: HIT on a second GET)');
    }
    for (const p of warmPaths) {
      await viaCachectl(p, false, false);
      await direct(p, false);
    }

    const perBlock = Math.ceil(o.count / o.blocks);
    let done = 0;
    for (let b = 0; b < o.blocks && done < o.count; b++) {
      if (now() > o.deadline) {
        o.log(`  purge: time bound reached after ${b} blocks`);
        break;
      }
      const n = Math.min(perBlock, o.count - done);
      const cPaths = Array.from({ length: n }, (_, i) => `/c/${b}/${i}.bin`);
      const bPaths = Array.from({ length: n }, (_, i) => `/b/${b}/${i}.bin`);
      await warm([...cPaths, ...bPaths]);
      const runC = async () => {
        const c0 = childCpu(o.serverPid);
        const w = { fromUs: usNow(), toUs: 0 };
        for (let i = 0; i < n; i++) await viaCachectl(cPaths[i], true, i % 25 === 0 && i > 0);
        w.toUs = usNow();
        legWindows.cachectl.push(w);
        const c1 = childCpu(o.serverPid);
        if (c0 && c1) cpu.cachectl += c1.user + c1.system - c0.user - c0.system;
        // The edge checks above are sampled after the clock stopped; keep them out of the CPU too.
      };
      const runB = async () => {
        const c0 = childCpu(o.serverPid);
        const w = { fromUs: usNow(), toUs: 0 };
        for (let i = 0; i < n; i++) await direct(bPaths[i], true);
        w.toUs = usNow();
        legWindows.baseline.push(w);
        const c1 = childCpu(o.serverPid);
        if (c0 && c1) cpu.baseline += c1.user + c1.system - c0.user - c0.system;
      };
      if (b % 2 === 0) {
        await runC();
        await runB();
      } else {
        await runB();
        await runC();
      }
      done += n;
      const c = summarize(cachectl.slice(-n));
      const d = summarize(baseline.slice(-n));
      o.log(`  purge block ${b + 1}/${o.blocks}: cachectl p50 ${c.p50.toFixed(2)} ms p99 ${c.p99.toFixed(2)} ms | baseline p50 ${d.p50.toFixed(2)} ms p99 ${d.p99.toFixed(2)} ms`);
    }
  } finally {
    await Promise.all([...traffic, ...admin].map((p) => p.close().catch(() => undefined)));
  }

  const c = summarize(cachectl);
  const d = summarize(baseline);
  const r = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    count: { cachectl: cachectl.length, baseline: baseline.length },
    blocks: o.blocks,
    cachectl: c,
    cachectlCreate: summarize(createLeg),
    cachectlWait: summarize(waitLeg),
    baseline: d,
    ratio: { p50: r(c.p50, d.p50), p99: r(c.p99, d.p99), mean: r(c.mean, d.mean) },
    errors,
    baselineNotCached,
    verified,
    legWindows,
    serverCpuPerPurgeMs: {
      cachectl: cachectl.length ? Math.round((cpu.cachectl / cachectl.length) * 100) / 100 : null,
      baseline: baseline.length ? Math.round((cpu.baseline / baseline.length) * 100) / 100 : null,
    },
    elapsedMs: Math.round(msSince(started)),
  };
}
