// Group commit: jobs submitted in the same turn of the event loop are handled as one batch in one
// transaction, so with synchronous=FULL a burst of task creations costs one fsync, and the handler
// can read and write for the whole batch at once instead of statement by statement per job.
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import { isRetryableConflict } from './transient-error.js';
import { isPostgres } from './dialect-of.js';

const MAX_ATTEMPTS = 5;

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

type Pending<J, R> = { job: J; resolve: (v: R) => void; reject: (e: unknown) => void };

/** How many jobs, and how much of their weight (say, rows), one batch may take. */
export interface BatchLimits<J> {
  maxJobs: number;
  /** The weight of a job; a batch takes jobs while their sum stays within maxWeight (at least one job). */
  weight?: (job: J) => number;
  maxWeight?: number;
}

/**
 * `handle` gets the batch and answers one Settled per job, in order. A job it refuses must leave no
 * writes behind (decide first, then write); if it throws, nothing of the batch is stored and every
 * job is rejected. `read`, when given, is a read outside the transaction that starts with it (on
 * PostgreSQL on another connection, so its round trip overlaps the transaction's first ones); its
 * result is handed to `handle`.
 */
export class GroupCommit<J, R, P = undefined> {
  private queue: Pending<J, R>[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;
  private readonly overlap: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly handle: (trx: Kysely<Database>, jobs: J[], read: P) => Promise<Settled<R>[]>,
    private readonly read?: (jobs: J[]) => Promise<P>,
    private readonly limits: BatchLimits<J> = { maxJobs: 512 },
    /** Told of each batch committed: its jobs, and the seconds from its read to its commit (metrics). */
    private readonly onCommit?: (jobs: number, seconds: number) => void,
  ) {
    this.overlap = isPostgres(db);
  }

  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.flush().finally(() => {
        this.running = null;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  /** The number of queued jobs the next batch takes. */
  private batchSize(): number {
    const { maxJobs, weight, maxWeight } = this.limits;
    const n = Math.min(maxJobs, this.queue.length);
    if (weight === undefined || maxWeight === undefined) return n;
    let total = weight(this.queue[0].job);
    let k = 1;
    while (k < n && total + weight(this.queue[k].job) <= maxWeight) total += weight(this.queue[k++].job);
    return k;
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.batchSize());
    const jobs = batch.map((p) => p.job);
    let settled: Settled<R>[] | undefined;
    const started = performance.now();
    for (let attempt = 1; !settled; attempt++) {
      const read = this.read ? this.read(jobs) : Promise.resolve(undefined as P);
      read.catch(() => undefined);
      try {
        // SQLite has one connection: the read must be done before the transaction takes it.
        if (!this.overlap) await read;
        settled = await this.db.transaction().execute(async (trx) => this.handle(trx, jobs, await read));
      } catch (err) {
        // A deadlock with another process rolled everything back: the batch can run again as is.
        if (isRetryableConflict(err) && attempt < MAX_ATTEMPTS) continue;
        for (const p of batch) p.reject(err);
        return;
      }
    }
    this.onCommit?.(batch.length, (performance.now() - started) / 1000);
    batch.forEach((p, i) => {
      const s = settled[i];
      if (s.ok) p.resolve(s.value);
      else p.reject(s.error);
    });
  }
}
