// Age-based retention run in the background: at start and then hourly, rows older than the retention
// are deleted in small batches, one short transaction each, paced so that intake is not held up. Every process of a shared store may run one: each batch skips the rows
// another process is deleting (the repositories' part).
import { setTimeout as sleep } from 'node:timers/promises';

const DAY_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
// The share of time a pass spends in its batches: after each it rests nine times as long, so that the
// store (on SQLite, one connection and an fsync per commit) stays free for intake most of the time.
const BUSY_SHARE = 0.1;

export interface PrunerOptions<S> {
  /** 0: kept forever. */
  retentionDays: number;
  /** Rows one batch deletes at most: a batch deleting fewer ends its scope's pass. */
  batchSize: number;
  /** Where a pass works, one scope after the other (e.g. each account's history); one scope by default. */
  scopes?: () => Promise<S[]>;
  /** Deletes up to batchSize rows created before `before` in `scope`; answers how many. */
  batch: (before: number, scope: S | undefined) => Promise<number>;
  /** What is pruned, for the log line of a failed pass. */
  what: string;
  log?: (msg: string, err?: unknown) => void;
}

export class BackgroundPruner<S = never> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopping = false;
  /** Cuts a rest between batches short when stop() comes (a rest is 9 times a batch: seconds on a busy store). */
  private rest = new AbortController();

  constructor(private readonly options: PrunerOptions<S>) {}

  /** One pass (joined when one is running); answers how many rows it deleted. */
  prune(now = Date.now()): Promise<number> {
    const { retentionDays, batchSize, batch } = this.options;
    if (retentionDays === 0) return Promise.resolve(0);
    this.running ??= (async () => {
      const before = now - retentionDays * DAY_MS;
      let total = 0;
      try {
        const scopes: Array<S | undefined> = this.options.scopes ? await this.options.scopes() : [undefined];
        for (const scope of scopes) {
          for (;;) {
            if (this.stopping) return total;
            const started = performance.now();
            const n = await batch(before, scope);
            total += n;
            if (n < batchSize) break;
            await sleep((performance.now() - started) * (1 / BUSY_SHARE - 1), undefined, { signal: this.rest.signal }).catch(() => undefined);
          }
        }
        return total;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Prunes now and then hourly. */
  start(): void {
    if (this.options.retentionDays === 0 || this.timer) return;
    const run = () => void this.prune().catch((err: unknown) => this.options.log?.(`pruning ${this.options.what} failed`, err));
    run();
    this.timer = setInterval(run, PRUNE_EVERY_MS);
    this.timer.unref();
  }

  /** Stops after the batch under way (a long pass is not waited for to its end). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    this.rest.abort();
    await this.running?.catch(() => undefined);
    this.stopping = false;
    this.rest = new AbortController();
  }
}
