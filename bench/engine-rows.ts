// The engine section of the benchmark: configuration from the environment, the run, and report rows.
import { ENGINE_NAMES, type EngineName } from '../src/edge/local-engines.js';
import { runEngineBench, type EngineBenchResult } from './engines.js';
import { info, row, type Row } from './report.js';

export interface EngineSectionConfig {
  engines: EngineName[];
  purges: number;
  tasks: number;
}

export function engineSectionConfig(quick: boolean): EngineSectionConfig {
  const list = (process.env.BENCH_ENGINES ?? 'varnish,nginx').split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of list) if (!(ENGINE_NAMES as readonly string[]).includes(e)) throw new Error(`BENCH_ENGINES: unknown engine '${e}'`);
  const int = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
  return { engines: list as EngineName[], purges: int('BENCH_ENGINE_PURGES', quick ? 100 : 500), tasks: int('BENCH_ENGINE_TASKS', quick ? 5 : 20) };
}

export type EngineOutcome = EngineBenchResult | { engine: EngineName; skipped: string };

export async function runEngineSection(cfg: EngineSectionConfig, log: (line: string) => void): Promise<EngineOutcome[]> {
  const out: EngineOutcome[] = [];
  for (const engine of cfg.engines) {
    log(`5. engine ${engine}: 2 nodes; ${cfg.purges} 1-URL purges and ${cfg.tasks} x 1000-URL tasks, each beside raw purges`);
    // The driver keeps at most 16 calls in flight per Varnish node (batches of 64 requests over 16
    // sockets); the baseline gets 64 purges in flight per node over its own keep-alive sockets.
    const r = await runEngineBench(engine, { purges: cfg.purges, tasks: cfg.tasks, urlsPerTask: 1000, taskConcurrency: 4, rawInFlightPerNode: 64, log });
    out.push('skipped' in r ? { engine, skipped: r.skipped } : r);
    if ('skipped' in r) log(`   ${engine} skipped: ${r.skipped}`);
  }
  return out;
}

export function engineRows(results: EngineOutcome[]): Row[] {
  const rows: Row[] = [];
  for (const r of results) {
    const s = `5. ${r.engine} x2`;
    if ('skipped' in r) {
      rows.push(info(s, 'skipped', r.skipped));
      continue;
    }
    rows.push(
      row(s, `purge p50 (${r.latency.cachectl.n} 1-URL tasks)`, r.latency.cachectl.p50, 'ms', { op: '<=', limit: 5 }),
      row(s, 'purge p99', r.latency.cachectl.p99, 'ms'),
      row(s, 'raw PURGE to both nodes p50', r.latency.baseline.p50, 'ms'),
      row(s, 'raw PURGE p99', r.latency.baseline.p99, 'ms'),
      row(s, 'ratio p50 cachectl/raw', r.latency.ratioP50, ''),
      row(s, '1000-URL tasks', r.throughput.cachectlUrlsPerSec, 'URLs/s', undefined, 0),
      row(s, 'raw PURGE (64 in flight per node)', r.throughput.baselineUrlsPerSec, 'URLs/s', undefined, 0),
      row(s, 'throughput % of raw', r.throughput.percentOfBaseline, '%', { op: '>=', limit: 50 }, 0),
      info(s, 'cores busy during tasks: server / agent / bench', `${r.cpu.cachectl.serverCores ?? 'n/a'} / ${r.cpu.agent?.serverCores ?? '-'} / ${r.cpu.cachectl.benchCores}`),
      info(s, 'bench cores during raw PURGE', `${r.cpu.baseline.benchCores}`),
      info(s, 'errors: cachectl / raw', `${r.errors.cachectl} / ${r.errors.baseline}`),
    );
  }
  return rows;
}
