// Latency statistics for the benchmark: nearest-rank percentiles over millisecond samples.

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.length ? sum / sorted.length : NaN),
    min: round(sorted.length ? sorted[0] : NaN),
    max: round(sorted.length ? sorted[sorted.length - 1] : NaN),
  };
}

/** Milliseconds since `start` (a process.hrtime.bigint() reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function now(): bigint {
  return process.hrtime.bigint();
}

/** Runs `worker` over indexes 0..count-1 with `concurrency` in flight; stops starting new ones after `deadline` (hrtime). */
export async function runBounded(
  count: number,
  concurrency: number,
  deadline: bigint,
  worker: (i: number) => Promise<void>,
): Promise<{ started: number }> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    for (;;) {
      if (next >= count || process.hrtime.bigint() > deadline) return;
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(lanes);
  return { started: next };
}
