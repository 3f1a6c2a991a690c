// Section 6 of the benchmark: the scale-out deployment (PostgreSQL store, NATS edge bus), each figure
// beside a baseline of the same run.
//
//   a. 1000-URL tasks through one API process with 1 and with 3 worker processes: intake, end to end,
//      the scaling ratio, and which processes were busy (API, workers, edges, PostgreSQL)
//   b. 1-URL purge latency with the same 2 edges as NATS nodes (through a PoP agent) and as HTTP nodes,
//      in alternating blocks
//   c. ShowHistoryTasks over 1,000,000 tasks on PostgreSQL (bench/pg-history.ts loads them)
//   d. 100 edges in 10 PoPs behind 10 agents: registering them, and 1-URL purges done on all 100, with
//      the agents in one process and in ten, in alternating blocks
//
// Knobs: BENCH_SCALE=0 skips; BENCH_QUICK=1 small sizes; BENCH_SCALE_PARTS=a,c runs only those;
// BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_NATS_URL (default
// nats://127.0.0.1:4222). Without PostgreSQL the section is skipped; without NATS parts b and d are; a
// part that fails (e.g. `cachectl agent --nats` does not start) is skipped with the reason.
// BENCH_CPU_PROF=1 runs every child process under --cpu-prof (slower figures): a summary per profile is
// printed, and the profiles are kept with the logs.
// Every process, scratch database and NATS prefix is the run's own, and stopped or dropped after.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reachable } from '../src/cluster/private-nats.js';
import { summarizeProfile } from './cpu-profile.js';
import { startBenchOrigin } from './origin.js';
import { info, row, type Row } from './report.js';
import { msSince, now } from './stats.js';
import { type FleetRun, type Part, type ScaleOutConfig, type ScaleOutResult, type WorkerLeg } from './scale/results.js';
import { type Env } from './scale/processes.js';
import { coresText } from './scale/cpu-groups.js';
import { median, runWorkers } from './scale/workers.js';
import { runTransport } from './scale/transport.js';
import { runHistory } from './scale/pg-history-part.js';
import { runFleet } from './scale/fleet.js';
export { scaleOutConfig } from './scale/results.js';
export type { ScaleOutConfig, ScaleOutResult } from './scale/results.js';

// ---- the section ----------------------------------------------------------------------------------------

/** One line per child's profile: where its CPU went, by area and by its hottest functions. */
function logProfiles(dir: string, log: (line: string) => void): void {
  // One folder per child, one profile per thread in it (Node names them CPU.<date>.<time>.<pid>.<thread>…).
  const files = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
  for (const f of files) {
    const p = summarizeProfile(path.join(dir, f), undefined, 4);
    const pct = (x: { selfPct: number }) => `${x.selfPct.toFixed(0)}%`;
    const areas = p.byArea.filter((a) => a.area !== 'idle').slice(0, 4).map((a) => `${a.area} ${pct(a)}`);
    const top = p.top.filter((t) => t.name !== '(idle)').map((t) => `${t.name || '(anonymous)'} ${pct(t)}`);
    log(`   profile ${f}: ${Math.round(p.sampledMs)} ms sampled, of which ${areas.join(', ')}; top ${top.join(', ')}`);
  }
  log(`   profiles in ${dir} (open in Chrome DevTools or summarise with bench/cpu-profile.ts)`);
}

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
  const cpuProfDir = process.env.BENCH_CPU_PROF === '1' ? path.join(dir, 'cpu-prof') : undefined;
  const env: Env & { failed?: boolean } = { dir, cpuProfDir, key: { accessKey: randomBytes(10).toString('hex').toUpperCase(), secretKey: randomBytes(20).toString('hex') }, originPort: origin.port, log, failed: false };
  try {
    log(`6. scale-out (PostgreSQL ${pgAddr.host}, NATS ${natsUp ? natsAddr.host : 'not reachable'}); logs in ${dir}`);
    const off = { skipped: 'not in BENCH_SCALE_PARTS' };
    const noNats = { skipped: `NATS not reachable at ${natsAddr.host}` };
    const on = (p: string) => cfg.parts.includes(p);
    const workers = on('a') ? await part('6a', env, () => runWorkers(env, cfg)) : off;
    if (on('b')) log(`6b. purge latency: ${cfg.blocks} blocks x ${cfg.purgesPerBlock} per transport, 2 edges (NATS via agent p1 / HTTP)`);
    const transport = !on('b') ? off : natsUp ? await part('6b', env, () => runTransport(env, cfg)) : noNats;
    const history = on('c') ? await part('6c', env, () => runHistory(env, cfg)) : off;
    if (on('d')) log(`6d. 100 edges in 10 PoPs behind 10 agents: register, ${cfg.fleetPurges} sequential 1-URL purges per agent layout`);
    const fleet = !on('d') ? off : natsUp ? await part('6d', env, () => runFleet(env, cfg)) : noNats;
    return { workers, transport, history, fleet, elapsedMs: Math.round(msSince(t0)) };
  } finally {
    await origin.close();
    if (cpuProfDir) logProfiles(cpuProfDir, log);
    // Logs stay when something went wrong (they say why) or when they hold profiles.
    if (env.failed === false && !cpuProfDir) fs.rmSync(dir, { recursive: true, force: true });
    else log(`   logs kept in ${dir}`);
  }
}

// ---- report rows --------------------------------------------------------------------------------------

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
    const runRows = (r: FleetRun, how: string, target: boolean) => [
      row(d, `purge p50, ${how} (${r.purge.n}, done on 100 nodes)`, r.purge.p50, 'ms'),
      row(d, `purge p99, ${how}`, r.purge.p99, 'ms', target ? { op: '<=', limit: 100 } : undefined),
      info(d, '  create call p50', `${r.createP50.toFixed(2)} ms (the rest is the wait until done)`),
      info(d, '  cores busy, purges', coresText(r.cpu)),
      info(d, '  errors', String(r.errors)),
    ];
    rows.push(
      row(d, 'register 100 nats nodes until all up', f.registerMs, 'ms', undefined, 0),
      info(d, '  of which the 100 POST calls (4 at a time)', `${f.registerCallsMs} ms`),
      ...runRows(f.inOne, '10 agents in 1 process', true),
      ...runRows(f.apart, '10 agent processes', false),
      row(d, 'p99 ratio, 10 processes / 1', f.apart.purge.p99 / f.inOne.purge.p99, ''),
      info(d, 'cores busy, 2 s idle before', coresText(f.idleCpu)),
      info(d, 'sampled tasks done on all 100 nodes', `${f.verified.allNodes} of ${f.verified.checked}`),
    );
  }
  rows.push(info(S, 'section time', `${(result.elapsedMs / 1000).toFixed(0)} s`));
  return rows;
}
