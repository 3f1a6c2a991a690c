// Section 2: task intake. (a) signed 1-URL refresh creates at concurrency 32; (b) 1000-URL tasks at
// concurrency 4. Both time the create call only (accepted = durably stored, answered 200); the
// engine's purging of what was accepted is timed separately as "drain".
import type { SignedClient } from './client.js';
import { CpuMeter, type CpuUse } from './cpu.js';
import { msSince, now, runBounded, summarize, type Summary } from './stats.js';

export interface SmallCreatesResult {
  requested: number;
  completed: number;
  errors: number;
  concurrency: number;
  elapsedMs: number;
  callsPerSec: number;
  latency: Summary;
  /** From the end of the calls until the engine had no task in process. */
  drainMs: number | null;
  /** The timed calls' span on the monotonic clock, µs (to line up a server CPU profile). */
  timedUs: { fromUs: number; toUs: number };
}

export interface BigTasksResult {
  requested: number;
  completedTasks: number;
  errors: number;
  urlsPerTask: number;
  concurrency: number;
  elapsedMs: number;
  urlsPerSec: number;
  latency: Summary;
  drainMs: number | null;
  /** Accepted URLs per second counting until every task was done. */
  endToEndUrlsPerSec: number | null;
  timedUs: { fromUs: number; toUs: number };
}

/** Waits until no task is in process (and the nodes have no backlog); null if not within the bound. */
export async function waitDrained(client: SignedClient, boundMs: number): Promise<number | null> {
  const t0 = now();
  while (msSince(t0) < boundMs) {
    const nodes = await client.ok('GET', '/cachectl/v1/nodes');
    const backlog = (nodes.nodes as Array<{ backlog: number }>).reduce((s, n) => s + n.backlog, 0);
    if (backlog === 0) {
      const h = await client.ok('GET', '/v1.0/cdn/historytasks', { query: [['status', 'task_inprocess'], ['page_size', '1'], ['page_number', '1']] });
      if (h.total === 0) return Math.round(msSince(t0));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

export async function benchSmallCreates(o: {
  client: SignedClient;
  domain: string;
  count: number;
  concurrency: number;
  boundMs: number;
  drainBoundMs: number;
  log: (line: string) => void;
  serverPid: number;
  onTimed?: (cpu: CpuUse) => void;
}): Promise<SmallCreatesResult> {
  const latencies = new Float64Array(o.count);
  let completed = 0;
  let errors = 0;
  // Warm-up, untimed: open every connection.
  await Promise.all(
    Array.from({ length: o.concurrency }, (_, i) =>
      o.client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${o.domain}/iw/${i}`] } } }),
    ),
  );
  const meter = new CpuMeter(o.serverPid);
  const t0 = now();
  const deadline = t0 + BigInt(o.boundMs) * 1_000_000n;
  let lastReport = t0;
  await runBounded(o.count, o.concurrency, deadline, async (i) => {
    const s = now();
    try {
      const r = await o.client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${o.domain}/i/${i}.js`] } } });
      if (r.status !== 200) {
        errors++;
        if (errors <= 3) o.log(`  create error: ${r.status} ${r.text.slice(0, 200)}`);
        return;
      }
      latencies[completed++] = msSince(s);
    } catch (err) {
      errors++;
      if (errors <= 3) o.log(`  create error: ${err instanceof Error ? err.message : String(err)}`);
    }
    const t = now();
    if (t - lastReport > 5_000_000_000n) {
      lastReport = t;
      o.log(`  intake (1-URL): ${completed} calls, ${(completed / (msSince(t0) / 1000)).toFixed(0)}/s so far`);
    }
  });
  const elapsedMs = msSince(t0);
  o.onTimed?.(meter.stop());
  const timedUs = { fromUs: Number(t0 / 1000n), toUs: Number(process.hrtime.bigint() / 1000n) };
  o.log(`  intake (1-URL): ${completed} calls in ${(elapsedMs / 1000).toFixed(1)} s; waiting for the engine to finish them`);
  const drainMs = await waitDrained(o.client, o.drainBoundMs);
  return {
    requested: o.count,
    completed,
    errors,
    concurrency: o.concurrency,
    elapsedMs: Math.round(elapsedMs),
    callsPerSec: Math.round(completed / (elapsedMs / 1000)),
    latency: summarize(latencies.subarray(0, completed)),
    drainMs,
    timedUs,
  };
}

export async function benchBigTasks(o: {
  client: SignedClient;
  domain: string;
  tasks: number;
  urlsPerTask: number;
  concurrency: number;
  boundMs: number;
  drainBoundMs: number;
  log: (line: string) => void;
  serverPid: number;
  onTimed?: (cpu: CpuUse) => void;
}): Promise<BigTasksResult> {
  // The request bodies are data, built before the clock starts; signing happens per call.
  const bodies = Array.from({ length: o.tasks }, (_, t) =>
    JSON.stringify({ refresh_task: { type: 'file', urls: Array.from({ length: o.urlsPerTask }, (_, j) => `http://${o.domain}/u/${t}/${j}.css`) } }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const meter = new CpuMeter(o.serverPid);
  const t0 = now();
  const deadline = t0 + BigInt(o.boundMs) * 1_000_000n;
  await runBounded(o.tasks, o.concurrency, deadline, async (t) => {
    const s = now();
    try {
      const r = await o.client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: bodies[t] });
      if (r.status !== 200) {
        errors++;
        if (errors <= 3) o.log(`  create error: ${r.status} ${r.text.slice(0, 200)}`);
        return;
      }
      latencies.push(msSince(s));
    } catch (err) {
      errors++;
      if (errors <= 3) o.log(`  create error: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const elapsedMs = msSince(t0);
  o.onTimed?.(meter.stop());
  const timedUs = { fromUs: Number(t0 / 1000n), toUs: Number(process.hrtime.bigint() / 1000n) };
  const urls = latencies.length * o.urlsPerTask;
  o.log(`  intake (${o.urlsPerTask}-URL): ${latencies.length} tasks in ${(elapsedMs / 1000).toFixed(1)} s; waiting for the engine to finish them`);
  const drainMs = await waitDrained(o.client, o.drainBoundMs);
  return {
    requested: o.tasks,
    completedTasks: latencies.length,
    errors,
    urlsPerTask: o.urlsPerTask,
    concurrency: o.concurrency,
    elapsedMs: Math.round(elapsedMs),
    urlsPerSec: Math.round(urls / (elapsedMs / 1000)),
    latency: summarize(latencies),
    drainMs,
    endToEndUrlsPerSec: drainMs === null ? null : Math.round(urls / ((elapsedMs + drainMs) / 1000)),
    timedUs,
  };
}
