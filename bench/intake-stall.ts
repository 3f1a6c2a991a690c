// Section 2c: does a burst of big tasks stall the server? 100 tasks of 1,000 URLs are sent at once while
// a probe asks GET /healthz (no store, no auth) every 5 ms on a connection of its own: its latency is the
// server's event-loop stall, which an intake transaction on SQLite (synchronous on the event loop) causes.
import { Pool } from 'undici';
import type { SignedClient } from './client.js';
import { msSince, now, runBounded, summarize, type Summary } from './stats.js';

export interface IntakeStallResult {
  tasks: number;
  urlsPerTask: number;
  accepted: number;
  errors: number;
  burstMs: number;
  probes: number;
  /** /healthz latency during the burst. */
  healthz: Summary;
}

export async function benchIntakeStall(o: { client: SignedClient; api: string; domain: string; tasks: number; urlsPerTask: number; boundMs: number; log: (line: string) => void }): Promise<IntakeStallResult> {
  const bodies = Array.from({ length: o.tasks }, (_, t) =>
    JSON.stringify({ refresh_task: { type: 'file', urls: Array.from({ length: o.urlsPerTask }, (_, j) => `http://${o.domain}/burst/${t}/${j}.png`) } }),
  );
  const probe = new Pool(o.api, { connections: 1 });
  const latencies: number[] = [];
  let running = true;
  const probing = (async () => {
    while (running) {
      const s = now();
      const res = await probe.request({ method: 'GET', path: '/healthz' });
      await res.body.dump();
      latencies.push(msSince(s));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  let accepted = 0;
  let errors = 0;
  const t0 = now();
  try {
    await runBounded(o.tasks, o.tasks, t0 + BigInt(o.boundMs) * 1_000_000n, async (t) => {
      const r = await o.client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: bodies[t] }).catch(() => null);
      if (r?.status === 200) accepted++;
      else if (errors++ < 3) o.log(`  burst error: ${r ? `${r.status} ${r.text.slice(0, 200)}` : 'no answer'}`);
    });
  } finally {
    running = false;
    await probing.catch(() => undefined);
    await probe.close();
  }
  const burstMs = Math.round(msSince(t0));
  return { tasks: o.tasks, urlsPerTask: o.urlsPerTask, accepted, errors, burstMs, probes: latencies.length, healthz: summarize(latencies) };
}
