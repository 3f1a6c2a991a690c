// `npm run bench`: cachectl's performance benchmark. The server runs as a child process on a fresh
// data directory (default settings: SQLite synchronous=FULL, two built-in edges).
//
//   1. purge latency through cachectl vs. the same purges sent straight to the edges
//   2. intake: 1-URL creates at concurrency 32; 1000-URL tasks at concurrency 4; the same tasks all at
//      once while /healthz is probed (the event-loop stall an intake batch causes)
//   3. ShowHistoryTasks over 1,000,000 tasks (loaded into the SQLite file while the server is stopped)
//   4. peak RSS of the server (VmHWM), per server process and overall
//   5. real engines: purge latency and URL throughput with 2 Varnish and 2 nginx nodes vs raw PURGE
//   6. scale-out on PostgreSQL + NATS: URL throughput with 1 vs 3 worker processes, purge latency through
//      NATS agents vs direct HTTP, historytasks at 1,000,000 tasks on PostgreSQL, a 100-node fleet in 10 PoPs
//      (BENCH_SCALE=0 skips; `node dist/bench/scale-main.js` runs it alone; see bench/scale-out.ts)
//   7. peak RSS of a server holding 100 stalled 8 MiB uploads: anonymous, unknown key, real key
//      (see bench/stalled-uploads.ts)
//   8. authorisation: a signed 1-URL create by the admin vs by a sub-user whose account holds 100 custom
//      policies (see bench/authorisation.ts; `node dist/bench/authorisation-main.js` runs it alone)
//   9. retention: 1-URL creates while 1,000,000 old tasks are pruned vs kept, alternating server starts (see
//      bench/retention.ts; BENCH_RETENTION_TASKS; `node dist/bench/retention-main.js` runs it alone)
//  10. logging: a signed 1-URL create on a server at --log-level warn vs one at info (see bench/logging.ts;
//      BENCH_LOG_CALLS; `node dist/bench/logging-main.js` runs it alone)
//
// Engines (section 5): BENCH_ENGINES=varnish,nginx ("" skips), BENCH_ENGINE_PURGES, BENCH_ENGINE_TASKS,
// BENCH_ENGINE_RAW_INFLIGHT (raw purges in flight per node in the throughput baseline; default per engine,
// what cachectl keeps in flight to it: see engine-rows.ts); BENCH_CPU_PROF=1 profiles those servers too.
// `node dist/bench/engines-main.js` runs that section alone.
// Knobs (environment): BENCH_QUICK=1 (a small run for development), BENCH_PURGES, BENCH_CREATES,
// BENCH_BIG_TASKS, BENCH_HISTORY_TASKS, BENCH_HISTORY_CALLS, BENCH_CPU_PROF=1 (run the server under
// `node --cpu-prof` and summarise the hottest functions per phase; slows the server down),
// BENCH_SERVER_NODE_ARGS="--trace-gc", BENCH_SERVER_ARGS="--sqlite-sync NORMAL" and
// BENCH_SERVER_LOG=file (diagnosis: flags for the server's node, extra serve flags, and a file that
// gets the server's output). The default run uses none of these.
import { engineRows, engineSectionConfig, runEngineSection } from './engine-rows.js';
import { runScaleOutSection, scaleOutConfig, scaleOutRows } from './scale-out.js';
import { runStalledUploadsSection, stalledUploadRows } from './stalled-uploads.js';
import { authorisationConfig, authorisationRows, runAuthorisationSection } from './authorisation.js';
import { retentionConfig, retentionRows, runRetentionSection } from './retention.js';
import { loggingConfig, loggingRows, runLoggingSection } from './logging.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignedClient } from './client.js';
import { CpuMeter, fsyncProbe, type CpuUse } from './cpu.js';
import { addOnlineDomain } from './domain.js';
import { latestProfile, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { bulkLoadTasks, benchHistory, type BulkLoadResult, type HistoryQueryResult } from './history.js';
import { benchIntakeStall, type IntakeStallResult } from './intake-stall.js';
import { benchBigTasks, benchSmallCreates, waitDrained, type BigTasksResult, type SmallCreatesResult } from './intake.js';
import { startBenchOrigin } from './origin.js';
import { benchPurgeLatency, type PurgeLatencyResult } from './purge-latency.js';
import { info, renderTable, row, type Row } from './report.js';
import { RssSampler, type RssReport } from './rss.js';
import { startServerChild, type ServerChild } from './server-process.js';
import { msSince, now } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.resolve(HERE, '../../bench/results');
const DOMAIN = 'bench-cdn.example.com';
const TOTAL_BOUND_MS = 9.5 * 60_000;

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a non-negative integer (got '${v}')`);
  return Number(v);
}

const quick = process.env.BENCH_QUICK === '1';
const cfg = {
  quick,
  purges: envInt('BENCH_PURGES', quick ? 200 : 1000),
  purgeBlocks: quick ? 4 : 10,
  creates: envInt('BENCH_CREATES', quick ? 2000 : 20_000),
  createConcurrency: 32,
  bigTasks: envInt('BENCH_BIG_TASKS', quick ? 20 : 100),
  urlsPerBigTask: 1000,
  bigConcurrency: 4,
  historyTasks: envInt('BENCH_HISTORY_TASKS', quick ? 100_000 : 1_000_000),
  historyCalls: envInt('BENCH_HISTORY_CALLS', quick ? 140 : 700),
  deepCalls: quick ? 10 : 50,
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  /** Extra `node` flags for the server child, space-separated (e.g. "--trace-gc"); diagnosis only. */
  serverNodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
  /** Extra `cachectl serve` flags, space-separated (e.g. "--sqlite-sync NORMAL"); diagnosis only, shown in the report. */
  serverArgs: (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean),
  /** File to append the server's output to (bootstrap secrets left out). */
  serverLog: process.env.BENCH_SERVER_LOG || undefined,
};

const t0 = now();
function log(line: string): void {
  console.log(`[${(msSince(t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}

/** Reads the last memory figures while the child is alive, then stops it. */
async function stopChild(child: ServerChild, rss: RssSampler): Promise<RssReport> {
  const report = rss.finish();
  const { code, signal } = await child.stop();
  if (code !== 0) log(`  server pid ${child.pid} exited with code ${code} signal ${signal}`);
  return report;
}

interface Window {
  fromUs: number;
  toUs: number;
}
const usNow = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const deadline = t0 + BigInt(TOTAL_BOUND_MS) * 1_000_000n;
  const remainingMs = () => Math.max(1000, Number(deadline - now()) / 1e6);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  log(`cachectl benchmark${quick ? ' (BENCH_QUICK)' : ''}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}`);
  log(`plan: ${cfg.purges} purges in ${cfg.purgeBlocks} alternating blocks; ${cfg.creates} 1-URL creates @${cfg.createConcurrency}; ${cfg.bigTasks} x ${cfg.urlsPerBigTask}-URL tasks @${cfg.bigConcurrency}; ${cfg.historyTasks.toLocaleString('en-US')} tasks, ${cfg.historyCalls} history calls`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bench-'));
  const dataDir = path.join(tmp, 'data');
  const profDir = path.join(tmp, 'prof');
  process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
  const origin = await startBenchOrigin();
  const windows: Record<string, Window> = {};
  let run1: ServerChild | null = null;
  let run2: ServerChild | null = null;
  let purge: PurgeLatencyResult;
  let small: SmallCreatesResult;
  let big: BigTasksResult;
  let stall: IntakeStallResult | undefined;
  let load: BulkLoadResult;
  let history: HistoryQueryResult;
  let rss1: RssReport;
  let rss2: RssReport;
  const profiles: Record<string, ProfileSummary> = {};
  const cpu: Record<string, CpuUse> = {};
  let fsync = { p50Ms: NaN, p99Ms: NaN };
  let fsyncAppend = { p50Ms: NaN, p99Ms: NaN };
  let run2StartupMs = 0;

  try {
    // ---- server run 1: purge latency and intake ---------------------------------------------------
    fs.mkdirSync(dataDir, { recursive: true });
    fsync = fsyncProbe(dataDir);
    fsyncAppend = fsyncProbe(dataDir, 50, true);
    log(`fdatasync of 4 KiB in the data dir: overwrite p50 ${fsync.p50Ms} ms p99 ${fsync.p99Ms} ms; append p50 ${fsyncAppend.p50Ms} ms p99 ${fsyncAppend.p99Ms} ms`);
    run1 = await startServerChild({ dataDir, cpuProfDir: cfg.cpuProf ? path.join(profDir, 'run1') : undefined, nodeArgs: cfg.serverNodeArgs, logFile: cfg.serverLog, extraArgs: cfg.serverArgs });
    const sampler1 = new RssSampler(run1.pid);
    log(`server run 1: pid ${run1.pid}, ${run1.api}, edges ${run1.edges.map((e) => e.controlUrl).join(' ')} (started in ${run1.startupMs.toFixed(0)} ms)`);
    const creds = run1.credentials;
    const client = new SignedClient(run1.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, 4);
    try {
      await client.ok('PUT', `/cachectl/v1/accounts/${encodeURIComponent(creds.account)}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
      await addOnlineDomain(client, DOMAIN, origin.port);
      log(`account ${creds.account} (${creds.account_id}): quotas raised; domain ${DOMAIN} online → origin 127.0.0.1:${origin.port}`);
      sampler1.mark('ready');

      log(`1. purge latency: ${cfg.purges} via cachectl, ${cfg.purges} direct to ${run1.edges.length} edges`);
      windows.purge = { fromUs: usNow(), toUs: 0 };
      const m1 = new CpuMeter(run1.pid);
      purge = await benchPurgeLatency({ client, edges: run1.edges, domain: DOMAIN, count: cfg.purges, blocks: cfg.purgeBlocks, log, deadline: now() + 90_000_000_000n, serverPid: run1.pid });
      windows.purge.toUs = usNow();
      cpu.purge = m1.stop();
      sampler1.mark('after purge latency');
      log(`   cachectl p50 ${purge.cachectl.p50} ms p99 ${purge.cachectl.p99} ms | baseline p50 ${purge.baseline.p50} ms p99 ${purge.baseline.p99} ms`);

      log(`2a. intake: ${cfg.creates} signed 1-URL creates at concurrency ${cfg.createConcurrency}`);
      const intakeClient = new SignedClient(run1.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, Math.max(32, cfg.createConcurrency));
      try {
        small = await benchSmallCreates({
          client: intakeClient,
          domain: DOMAIN,
          count: cfg.creates,
          concurrency: cfg.createConcurrency,
          boundMs: Math.min(60_000, remainingMs()),
          drainBoundMs: Math.min(60_000, remainingMs()),
          log,
          serverPid: run1.pid,
          onTimed: (m) => (cpu.intakeSmall = m),
        });
        windows.intakeSmall = small.timedUs;
        sampler1.mark('after 1-URL intake');
        log(`   ${small.callsPerSec} calls/s, p50 ${small.latency.p50} ms p99 ${small.latency.p99} ms, errors ${small.errors}; drained in ${small.drainMs ?? 'n/a'} ms`);

        log(`2b. intake: ${cfg.bigTasks} tasks x ${cfg.urlsPerBigTask} URLs at concurrency ${cfg.bigConcurrency}`);
        big = await benchBigTasks({
          client: intakeClient,
          domain: DOMAIN,
          tasks: cfg.bigTasks,
          urlsPerTask: cfg.urlsPerBigTask,
          concurrency: cfg.bigConcurrency,
          boundMs: Math.min(60_000, remainingMs()),
          drainBoundMs: Math.min(60_000, remainingMs()),
          log,
          serverPid: run1.pid,
          onTimed: (m) => (cpu.intakeBig = m),
        });
        windows.intakeBig = big.timedUs;
        windows.drainBig = { fromUs: windows.intakeBig.toUs, toUs: usNow() };
        sampler1.mark('after 1000-URL intake');
        log(`   ${big.urlsPerSec} URLs/s accepted, per call p50 ${big.latency.p50} ms p99 ${big.latency.p99} ms, errors ${big.errors}; drained in ${big.drainMs ?? 'n/a'} ms`);

        log(`2c. intake stall: ${cfg.bigTasks} tasks x ${cfg.urlsPerBigTask} URLs at once, /healthz probed every 5 ms`);
        const burstClient = new SignedClient(run1.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, cfg.bigTasks);
        try {
          stall = await benchIntakeStall({ client: burstClient, api: run1.api, domain: DOMAIN, tasks: cfg.bigTasks, urlsPerTask: cfg.urlsPerBigTask, boundMs: Math.min(60_000, remainingMs()), log });
        } finally {
          await burstClient.close();
        }
        log(`   ${stall.accepted} of ${stall.tasks} accepted in ${stall.burstMs} ms; /healthz p50 ${stall.healthz.p50} ms, max ${stall.healthz.max} ms over ${stall.probes} probes`);
        await waitDrained(intakeClient, Math.min(60_000, remainingMs()));
      } finally {
        await intakeClient.close();
      }
      await waitDrained(client, Math.min(15_000, remainingMs()));
    } finally {
      await client.close().catch(() => undefined);
      rss1 = await stopChild(run1, sampler1);
      log(`server run 1 stopped: VmHWM ${rss1.peakHwmMb} MB`);
    }

    // ---- bulk load while the server is stopped ----------------------------------------------------
    log(`3. historytasks: loading ${cfg.historyTasks.toLocaleString('en-US')} tasks into ${path.join('<data-dir>', 'cachectl.db')}`);
    load = bulkLoadTasks(path.join(dataDir, 'cachectl.db'), creds.account_id, cfg.historyTasks, log);
    log(`   ${load.tasksInTable.toLocaleString('en-US')} tasks in the table; insert ${load.insertMs} ms, counts ${load.countsMs} ms, checkpoint ${load.checkpointMs} ms; db ${(load.dbBytes / 1024 / 1024).toFixed(0)} MB`);

    // ---- server run 2: history queries --------------------------------------------------------------
    run2 = await startServerChild({ dataDir, cpuProfDir: cfg.cpuProf ? path.join(profDir, 'run2') : undefined, nodeArgs: cfg.serverNodeArgs, logFile: cfg.serverLog, extraArgs: cfg.serverArgs });
    run2StartupMs = run2.startupMs;
    const sampler2 = new RssSampler(run2.pid);
    sampler2.mark('ready');
    log(`server run 2: pid ${run2.pid}, ${run2.api} (started in ${run2.startupMs.toFixed(0)} ms)`);
    const client2 = new SignedClient(run2.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, 2);
    try {
      windows.history = { fromUs: usNow(), toUs: 0 };
      const m3 = new CpuMeter(run2.pid);
      history = await benchHistory({ client: client2, calls: cfg.historyCalls, deepCalls: cfg.deepCalls, boundMs: Math.min(120_000, remainingMs()), log });
      windows.history.toUs = usNow();
      cpu.history = m3.stop();
      sampler2.mark('after history');
      log(`   p50 ${history.overall.p50} ms p99 ${history.overall.p99} ms over ${history.calls} calls; page 100: p50 ${history.deepPage.latency.p50} ms`);
    } finally {
      await client2.close().catch(() => undefined);
      rss2 = await stopChild(run2, sampler2);
      log(`server run 2 stopped: VmHWM ${rss2.peakHwmMb} MB`);
    }

    if (cfg.cpuProf) {
      const p1 = latestProfile(path.join(profDir, 'run1'));
      const p2 = latestProfile(path.join(profDir, 'run2'));
      if (p1) {
        profiles.purgeCachectl = summarizeProfile(p1, purge.legWindows.cachectl);
        profiles.purgeBaseline = summarizeProfile(p1, purge.legWindows.baseline);
        profiles.intakeSmall = summarizeProfile(p1, windows.intakeSmall);
        profiles.intakeBig = summarizeProfile(p1, windows.intakeBig);
        profiles.drainBig = summarizeProfile(p1, windows.drainBig);
      }
      if (p2) profiles.history = summarizeProfile(p2, windows.history);
    }
  } finally {
    if (run1) await run1.stop().catch(() => undefined);
    if (run2) await run2.stop().catch(() => undefined);
    await origin.close();
  }

  // ---- engines: 2 Varnish, 2 nginx nodes (each beside raw purges) ------------------------------------
  const engines = await runEngineSection(engineSectionConfig(quick), log);

  // ---- scale-out: PostgreSQL, several processes, NATS agents ----------------------------------------
  const scaleOut = await runScaleOutSection(scaleOutConfig(quick), log);

  // ---- stalled uploads: memory under 100 bodies that never finish --------------------------------------
  const stalledUploads = await runStalledUploadsSection(log);

  // ---- authorisation: the admin's create call beside a sub-user's with 100 policies ---------------------
  const authorisation = await runAuthorisationSection(authorisationConfig(quick), log);

  // ---- retention: intake while the old history is pruned, and after --------------------------------------
  const retention = await runRetentionSection(retentionConfig(quick), log);

  // ---- logging: a request line and a task's lines at info, beside the same call at warn ----------------
  const logging = await runLoggingSection(loggingConfig(quick), log);

  // ---- report ---------------------------------------------------------------------------------------
  const peakMb = Math.max(rss1.peakHwmMb, rss2.peakHwmMb);
  const hm = history;
  const rows: Row[] = [
    row('1. purge', `cachectl p50 (${purge.count.cachectl} tasks)`, purge.cachectl.p50, 'ms', { op: '<=', limit: 5 }),
    row('1. purge', 'cachectl p99', purge.cachectl.p99, 'ms', { op: '<=', limit: 25 }),
    row('1. purge', 'cachectl mean', purge.cachectl.mean, 'ms'),
    info('1. purge', '  legs p50: create call / wait', `${purge.cachectlCreate.p50.toFixed(2)} / ${purge.cachectlWait.p50.toFixed(2)} ms`),
    row('1. purge', `baseline p50 (${purge.count.baseline}, both edges)`, purge.baseline.p50, 'ms'),
    row('1. purge', 'baseline p99', purge.baseline.p99, 'ms'),
    row('1. purge', 'ratio cachectl/baseline p50', purge.ratio.p50, '', { op: '<=', limit: 3 }),
    row('1. purge', 'ratio cachectl/baseline p99', purge.ratio.p99, '', { op: '<=', limit: 3 }),
    info('1. purge', 'errors', `${purge.errors.cachectl + purge.errors.baseline} (baseline objects not cached: ${purge.baselineNotCached})`),
    info('1. purge', 'edge check after cachectl purge', `${purge.verified.miss} of ${purge.verified.checked} sampled objects gone (MISS)`),
    row('2. intake', `1-URL creates @${small.concurrency}`, small.callsPerSec, 'calls/s', { op: '>=', limit: 5000 }, 0),
    row('2. intake', '1-URL create p50', small.latency.p50, 'ms'),
    row('2. intake', '1-URL create p99', small.latency.p99, 'ms'),
    info('2. intake', '1-URL server CPU per call', cpu.intakeSmall?.serverCpuMs != null ? `${(cpu.intakeSmall.serverCpuMs / Math.max(1, small.completed)).toFixed(2)} ms` : 'n/a'),
    row('2. intake', `${big.urlsPerTask}-URL tasks @${big.concurrency}`, big.urlsPerSec, 'URLs/s', { op: '>=', limit: 20_000 }, 0),
    row('2. intake', `${big.urlsPerTask}-URL create p50`, big.latency.p50, 'ms'),
    row('2. intake', `${big.urlsPerTask}-URL create p99`, big.latency.p99, 'ms'),
    info('2. intake', 'calls / errors', `${small.completed + big.completedTasks} / ${small.errors + big.errors}`),
    info('2. intake', 'engine drain after (1-URL / 1000-URL)', `${small.drainMs ?? 'n/a'} ms / ${big.drainMs ?? 'n/a'} ms`),
    row('2. intake', `max /healthz, ${stall?.tasks ?? '?'} x ${stall?.urlsPerTask ?? '?'}-URL tasks at once`, stall ? stall.healthz.max : null, 'ms', { op: '<=', limit: 50 }, 1),
    info('2. intake', '  burst: accepted / ms / /healthz p50', stall ? `${stall.accepted} of ${stall.tasks} / ${stall.burstMs} ms / ${stall.healthz.p50} ms` : 'n/a'),
    row('3. historytasks', `p50 (${hm.calls} calls, ${load.tasksInTable.toLocaleString('en-US')} tasks)`, hm.overall.p50, 'ms'),
    row('3. historytasks', 'p99', hm.overall.p99, 'ms', { op: '<=', limit: 20 }),
    ...hm.combos.map((c) => row('3. historytasks', `  p99 ${c.name}`, c.latency.p99, 'ms', { op: '<=', limit: 20 })),
    row('3. historytasks', `page ${hm.deepPage.pageNumber} p50 (${hm.deepPage.combo})`, hm.deepPage.latency.p50, 'ms'),
    row('3. historytasks', `page ${hm.deepPage.pageNumber} p99`, hm.deepPage.latency.p99, 'ms'),
    info(
      '3. historytasks',
      'first call after restart (cold), worst',
      (() => {
        const w = hm.combos.reduce((a, b) => (b.firstCallMs > a.firstCallMs ? b : a));
        return `${w.firstCallMs.toFixed(1)} ms (${w.name})`;
      })(),
    ),
    info('3. historytasks', 'load / restart', `${(load.insertMs / 1000).toFixed(1)} s insert, ${(load.countsMs / 1000).toFixed(1)} s counts / ${run2StartupMs.toFixed(0)} ms`),
    info('3. historytasks', 'errors / bad pages', `${hm.errors} / ${hm.combos.reduce((s, c) => s + c.badRows, 0)}`),
    row('4. peak RSS', 'server VmHWM, max of both runs', peakMb, 'MB', { op: '<=', limit: 300 }, 1),
    row('4. peak RSS', 'run 1 (purge + intake)', rss1.peakHwmMb, 'MB', { op: '<=', limit: 300 }, 1),
    row('4. peak RSS', `run 2 (${(load.tasksInTable / 1e6).toFixed(2)}M-task history)`, rss2.peakHwmMb, 'MB', { op: '<=', limit: 300 }, 1),
    info('4. peak RSS', 'run 1 sampled peak: anon / file', `${rss1.peakSampledAnonMb} / ${rss1.peakSampledFileMb} MB`),
    info('4. peak RSS', 'run 2 sampled peak: anon / file', `${rss2.peakSampledAnonMb} / ${rss2.peakSampledFileMb} MB`),
  ];
  rows.push(...engineRows(engines));
  rows.push(...scaleOutRows(scaleOut));
  rows.push(...stalledUploadRows(stalledUploads));
  rows.push(...authorisationRows(authorisation));
  rows.push(...retentionRows(retention));
  rows.push(...loggingRows(logging));
  const cores = (c: CpuUse | undefined) => (c ? `server ${c.serverCores ?? 'n/a'} / bench ${c.benchCores}` : 'n/a');
  rows.push(info('CPU (cores busy)', 'purge latency', cores(cpu.purge)));
  rows.push(info('CPU (cores busy)', '1-URL intake', cores(cpu.intakeSmall)));
  rows.push(info('CPU (cores busy)', '1000-URL intake', cores(cpu.intakeBig)));
  rows.push(info('CPU (cores busy)', 'historytasks', cores(cpu.history)));
  rows.push(info('CPU (cores busy)', 'server CPU per purge: cachectl / baseline', `${purge.serverCpuPerPurgeMs.cachectl ?? 'n/a'} / ${purge.serverCpuPerPurgeMs.baseline ?? 'n/a'} ms`));
  rows.push(info('CPU (cores busy)', 'fdatasync 4 KiB p50: overwrite / append', `${fsync.p50Ms} / ${fsyncAppend.p50Ms} ms`));
  if (cfg.serverArgs.length > 0 || cfg.serverNodeArgs.length > 0) {
    rows.push(info('note', 'non-default server flags', [...cfg.serverNodeArgs, ...cfg.serverArgs].join(' ')));
  }
  if (cfg.cpuProf) rows.push(info('note', 'BENCH_CPU_PROF=1', 'server ran under --cpu-prof: figures are slower than usual'));

  console.log('');
  console.log(renderTable(rows));
  const misses = rows.filter((r) => r.result === 'MISS').length;
  console.log(`\n${rows.filter((r) => r.result === 'PASS').length} PASS, ${misses} MISS; total ${(msSince(t0) / 1000).toFixed(1)} s`);

  for (const [phase, p] of Object.entries(profiles)) {
    console.log(`\nCPU profile of the server, ${phase} (${p.sampledMs} ms sampled${p.windowMatched ? '' : ', whole profile: window did not match'}):`);
    for (const a of p.byArea.slice(0, 8)) console.log(`  ${String(a.selfPct).padStart(5)}%  ${a.area}`);
    console.log('  top self time:');
    for (const f of p.top.slice(0, 12)) console.log(`  ${String(f.selfPct).padStart(5)}%  ${f.name}  ${f.where}`);
    console.log('  by innermost cachectl function on the stack:');
    for (const f of p.byCachectlFrame.slice(0, 12)) console.log(`  ${String(f.pct).padStart(5)}%  ${f.name}  ${f.where}`);
  }

  const result = {
    timestamp: new Date().toISOString(),
    machine: { ...machine, fdatasync4k: { overwrite: fsync, append: fsyncAppend } },
    config: cfg,
    cpu,
    purge,
    intake: { small, big, stall },
    history: { load, queries: history, restartMs: Math.round(run2StartupMs) },
    rss: { peakHwmMb: peakMb, run1: rss1, run2: rss2 },
    engines,
    scaleOut,
    stalledUploads,
    authorisation,
    retention,
    logging,
    table: rows,
    ...(cfg.cpuProf && { cpuProfiles: profiles }),
    totalMs: Math.round(msSince(t0)),
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.timestamp.replace(/:/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), file) || file}`);
}

process.once('SIGINT', () => {
  console.error('bench: interrupted; stopping the server');
  process.exit(130); // the exit handlers kill the children and remove the temp dir
});

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
