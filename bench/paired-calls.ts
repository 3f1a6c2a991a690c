// Two ways of making the same signed 1-URL create, compared in one run: one call at a time, alternately,
// who goes first alternating too (neither always follows the other's commit), after a warm-up. The p50
// difference and the median of per-pair differences (less sensitive to a busy machine) are the result.
import type { SignedClient } from './client.js';
import { summarize, type Summary } from './stats.js';

export interface PairedConfig {
  /** Timed calls per side (after the warm-up). */
  calls: number;
  warmup: number;
}

/** `envVar` (a count of calls) overrides the default: 3000 a side, 500 with BENCH_QUICK. */
export function pairedConfig(envVar: string, quick: boolean): PairedConfig {
  const calls = process.env[envVar];
  return { calls: calls && /^\d+$/.test(calls) ? Number(calls) : quick ? 500 : 3000, warmup: quick ? 50 : 300 };
}

export interface Paired {
  base: Summary;
  other: Summary;
  /** p50 of `other` minus p50 of `base`. */
  addedP50Ms: number;
  /** Median over call pairs of (other − base). */
  pairedP50Ms: number;
  errors: number;
}

/** One create of a 1-URL refresh task for `url`: its time, and whether it was accepted. */
export async function timedCreate(client: SignedClient, url: string): Promise<{ ms: number; ok: boolean }> {
  const start = process.hrtime.bigint();
  const reply = await client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [url] } } });
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, ok: reply.status === 200 };
}

/** Creates by `base` and by `other`, alternately; `urlOf(side, i)` names each call's URL. */
export async function comparePaired(cfg: PairedConfig, base: SignedClient, other: SignedClient, urlOf: (side: 'base' | 'other', i: number) => string): Promise<Paired> {
  const samples = { base: [] as number[], other: [] as number[] };
  let errors = 0;
  for (let i = 0; i < cfg.warmup + cfg.calls; i++) {
    const order = i % 2 === 0 ? (['base', 'other'] as const) : (['other', 'base'] as const);
    for (const side of order) {
      const r = await timedCreate(side === 'base' ? base : other, urlOf(side, i));
      if (!r.ok) errors++;
      if (i >= cfg.warmup) samples[side].push(r.ms);
    }
  }
  const b = summarize(samples.base);
  const o = summarize(samples.other);
  return { base: b, other: o, addedP50Ms: Math.round((o.p50 - b.p50) * 1000) / 1000, pairedP50Ms: summarize(samples.other.map((ms, i) => ms - samples.base[i])).p50, errors };
}
