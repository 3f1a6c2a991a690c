// One fill per object at a time on the agent's engine: a prefetch of an object whose fill still runs (an
// earlier try whose caller gave up, or a retry that raced it) waits for that fill and shares its
// outcome instead of making the engine fetch it from the origin again. Neither nginx (a prefetch
// bypasses its cache lock) nor ATS (a no-cache GET skips its read-while-writer) would coalesce them.
import type { CallOptions, EdgeDriver, EdgeResult, EdgeTarget } from '../edge-driver.js';

const keyOf = (t: EdgeTarget): string => `${t.host.toLowerCase()} ${t.path}`;

export class PrefetchFlights {
  private readonly running = new Map<string, Promise<EdgeResult>>();

  constructor(private readonly engine: EdgeDriver) {}

  /** The engine's prefetch of the targets not being filled now, joined with the fills that are. */
  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    const fresh: EdgeTarget[] = [];
    const freshAt: number[] = [];
    const out = new Array<Promise<EdgeResult>>(targets.length);
    targets.forEach((t, i) => {
      const joined = this.running.get(keyOf(t));
      if (joined) out[i] = joined;
      else {
        fresh.push(t);
        freshAt.push(i);
      }
    });
    if (fresh.length > 0) {
      const batch = this.engine.prefetch(fresh, options);
      fresh.forEach((t, j) => {
        const key = keyOf(t);
        // A batch that rejects (the engine could not be asked) rejects each of its targets alike.
        const one = batch.then((results) => results[j]);
        // Two identical targets in one batch: the second shares the first's fill.
        const shared = this.running.get(key) ?? one;
        if (shared === one) {
          this.running.set(key, one);
          void one.then(
            () => this.running.delete(key),
            () => this.running.delete(key),
          );
        }
        out[freshAt[j]] = shared;
      });
    }
    return Promise.all(out);
  }
}
