// The engine section of the benchmark: configuration from the environment, the run, and report rows.
import { ENGINE_NAMES, type EngineName } from '../src/edge/local-engines.js';
import { runEngineBench, type EngineBenchResult } from './engines.js';
import type { GroupCpu } from './proc-cpu.js';
import { info, row, type Row } from './report.js';

export interface EngineSectionConfig {
  engines: EngineName[];
  purges: number;
  tasks: number;
  /** Override of RAW_IN_FLIGHT for every engine (BENCH_ENGINE_RAW_INFLIGHT). */
  rawInFlightPerNode?: number;
  cpuProf: boolean;
}

/**
 * Raw purges in flight per node in the throughput baseline: the same concurrency as cachectl has on the
 * wire to that engine. Varnish: the driver's Pool of 16 sockets per node (src/edge/varnish/
 * varnish/driver.ts; its maxInFlight 16 batches x 64 queue behind those sockets). nginx: the edge agent's
 * Pool of 64 sockets to the purge location (src/edge/nginx/nginx-engine.ts). ATS: the agent's Pool of 32
 * to the traffic port (src/edge/ats/ats-engine.ts). Keep in step when those change.
 */
export const RAW_IN_FLIGHT: Record<EngineName, number> = { varnish: 16, nginx: 64, ats: 32 };

export function engineSectionConfig(quick: boolean): EngineSectionConfig {
  const list = (process.env.BENCH_ENGINES ?? 'varnish,nginx').split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of list) if (!(ENGINE_NAMES as readonly string[]).includes(e)) throw new Error(`BENCH_ENGINES: unknown engine '${e}'`);
  const int = (name: string, fallback: number) => {
    const v = process.env[name];
    if (v === undefined || v === '') return fallback;
    if (!/^[1-9]\d*$/.test(v)) throw new Error(`${name} must be a positive integer (got '${v}')`);
    return Number(v);
  };
  return {
    engines: list as EngineName[],
    purges: int('BENCH_ENGINE_PURGES', quick ? 100 : 500),
    tasks: int('BENCH_ENGINE_TASKS', quick ? 5 : 20),
    rawInFlightPerNode: process.env.BENCH_ENGINE_RAW_INFLIGHT ? int('BENCH_ENGINE_RAW_INFLIGHT', 0) : undefined,
    cpuProf: process.env.BENCH_CPU_PROF === '1',
  };
}

export type EngineOutcome = EngineBenchResult | { engine: EngineName; skipped: string };

export async function runEngineSection(cfg: EngineSectionConfig, log: (line: string) => void): Promise<EngineOutcome[]> {
  const out: EngineOutcome[] = [];
  for (const engine of cfg.engines) {
    log(`5. engine ${engine}: 2 nodes; ${cfg.purges} 1-URL purges and ${cfg.tasks} x 1000-URL tasks, each beside raw purges`);
    const r = await runEngineBench(engine, {
      purges: cfg.purges,
      blocks: 4,
      tasks: cfg.tasks,
      urlsPerTask: 1000,
      taskConcurrency: 4,
      rawInFlightPerNode: cfg.rawInFlightPerNode ?? RAW_IN_FLIGHT[engine],
      boundMs: 240_000,
      cpuProf: cfg.cpuProf,
      log,
    });
    if ('profile' in r && r.profile) {
      for (const [leg, p] of Object.entries(r.profile)) {
        log(`   ${engine} server CPU profile, ${leg} (${p.sampledMs} ms sampled):`);
        for (const a of p.byArea.slice(0, 8)) log(`     ${String(a.selfPct).padStart(5)}%  ${a.area}`);
        for (const f of p.top.slice(0, 12)) log(`     ${String(f.selfPct).padStart(5)}%  ${f.name}  ${f.where}`);
        for (const f of p.byCachectlFrame.slice(0, 10)) log(`     ${String(f.pct).padStart(5)}%  (under) ${f.name}  ${f.where}`);
      }
    }
    out.push('skipped' in r ? { engine, skipped: r.skipped } : r);
    if ('skipped' in r) log(`   ${engine} skipped: ${r.skipped}`);
  }
  return out;
}

/** "server 0.74 / engines 0.31 / agents 0.00 / bench 0.02" (cores busy). */
function cores(c: GroupCpu): string {
  return Object.entries(c.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' / ');
}

/** CPU ms per purge of the server (and its kernel part), the engines (both nodes together), agents, bench. */
function perPurge(c: GroupCpu, n: number): string {
  const f = (k: string) => (n > 0 ? (c.cpuMs[k] / n).toFixed(2) : 'n/a');
  const sys = n > 0 ? ` (sys ${(c.systemMs.server / n).toFixed(2)})` : '';
  return `server ${f('server')}${sys} / engines ${f('engines')}${c.cpuMs.agents ? ` / agents ${f('agents')}` : ''} / bench ${f('bench')} ms`;
}

export function engineRows(results: EngineOutcome[]): Row[] {
  const rows: Row[] = [];
  for (const r of results) {
    const s = `5. ${r.engine} x2`;
    if ('skipped' in r) {
      rows.push(info(s, 'skipped', r.skipped));
      continue;
    }
    const l = r.latency;
    const t = r.throughput;
    rows.push(
      row(s, `purge p50 (${l.cachectl.n} 1-URL tasks)`, l.cachectl.p50, 'ms', { op: '<=', limit: 5 }),
      row(s, 'purge p99', l.cachectl.p99, 'ms'),
      info(s, '  legs p50: create call / wait', `${l.create.p50.toFixed(2)} / ${l.wait.p50.toFixed(2)} ms`),
      row(s, `raw purge on both nodes p50 (${l.baseline.n})`, l.baseline.p50, 'ms'),
      row(s, 'raw purge p99', l.baseline.p99, 'ms'),
      row(s, 'ratio cachectl/raw p50', l.ratio.p50, ''),
      row(s, 'ratio cachectl/raw p99', l.ratio.p99, ''),
      info(s, 'CPU per purge, cachectl', perPurge(l.cpu.cachectl, l.cachectl.n)),
      info(s, 'CPU per purge, raw', perPurge(l.cpu.baseline, l.baseline.n)),
      info(s, 'cores busy, purge latency (cachectl)', cores(l.cpu.cachectl)),
      row(s, `${t.urls / 1000} x 1000-URL tasks @4`, t.cachectlUrlsPerSec, 'URLs/s', undefined, 0),
      row(s, `raw purge, ${t.rawInFlightPerNode} in flight per node`, t.baselineUrlsPerSec, 'URLs/s', undefined, 0),
      row(s, 'throughput % of raw', t.percentOfBaseline, '%', { op: '>=', limit: 50 }, 0),
      info(s, 'cores busy, 1000-URL tasks', cores(t.cpu.cachectl)),
      info(s, 'cores busy, raw purge', cores(t.cpu.baseline)),
      info(s, 'CPU per URL (both nodes), tasks', perPurge(t.cpu.cachectl, t.urls)),
      info(s, 'CPU per URL (both nodes), raw', perPurge(t.cpu.baseline, t.urls)),
      info(s, 'fdatasync 4 KiB in the data dir p50 / p99', `${r.fsync.p50Ms} / ${r.fsync.p99Ms} ms`),
      info(s, 'not cached when purged: cachectl / raw', `${r.notCached.cachectl} of ${r.notCached.cachectlOf} / ${r.notCached.baseline} of ${r.notCached.baselineOf} node purges`),
      info(s, 'node 1 check after cachectl purge', r.verified.checked ? `${r.verified.gone} of ${r.verified.checked} sampled objects gone (MISS)` : 'n/a (no cache status header)'),
      info(s, 'errors: cachectl / raw', `${r.errors.cachectl} / ${r.errors.baseline}`),
    );
  }
  return rows;
}
