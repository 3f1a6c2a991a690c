// How far V8 lets the heap grow past what a full GC found alive. On a machine with a large heap limit
// (a quarter of the RAM, up to 4 GB) V8 lets it reach four times that before collecting again: the
// server's live heap stays near 40–60 MB under the intake benchmark, yet its resident set reached
// ~350–400 MB, nearly all garbage waiting for the next collection. Twice the live heap keeps that peak
// near 245 MB for ~5% more server CPU per 1-URL create (1.5 times: ~225 MB for ~15%).
// V8's command line wins: `node --heap-growing-percent=N …/cachectl serve`.
import v8 from 'node:v8';

export const HEAP_GROWING_PERCENT = 100;

/** The flag to set, or null when node was started with its own (then it is left alone). */
export function heapGrowthFlag(execArgv: readonly string[]): string | null {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return null;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** For a long-running server process: set before it allocates much. */
export function limitHeapGrowth(): void {
  const flag = heapGrowthFlag(process.execArgv);
  if (flag) v8.setFlagsFromString(flag);
}
