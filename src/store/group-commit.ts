// Group commit: jobs submitted in the same turn of the event loop share one transaction, so with
// synchronous=FULL a burst of task creations costs one fsync instead of one each. Each job runs
// under its own savepoint: a job that throws leaves no trace and does not fail its neighbours.
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';

type Job = { run: (trx: Kysely<Database>) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxJobs = 256,
  ) {}

  submit<R>(run: (trx: Kysely<Database>) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
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

  private async flush(): Promise<void> {
    const jobs = this.queue.splice(0, this.maxJobs);
    const settled: Array<{ ok: boolean; value: unknown }> = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const job of jobs) {
          await sql`savepoint job`.execute(trx);
          try {
            settled.push({ ok: true, value: await job.run(trx) });
            await sql`release savepoint job`.execute(trx);
          } catch (err) {
            await sql`rollback to savepoint job`.execute(trx);
            await sql`release savepoint job`.execute(trx);
            settled.push({ ok: false, value: err });
          }
        }
      });
    } catch (err) {
      // The commit itself failed: nothing of this batch is stored.
      for (const job of jobs) job.reject(err);
      return;
    }
    jobs.forEach((job, i) => (settled[i].ok ? job.resolve(settled[i].value) : job.reject(settled[i].value)));
  }
}
