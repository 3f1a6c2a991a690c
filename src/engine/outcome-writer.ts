// Writes URL state changes in batches: everything that happened since the last write goes into one
// atomic write (one statement on PostgreSQL, a transaction on SQLite), so a burst of results costs one
// commit, and counters move with the URL rows.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { writeUrlStates } from '../store/repositories/task-repository.js';
import type { TaskRow, UrlOutcome } from '../store/repositories/task-rows.js';

const STARTED_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 5000;

/**
 * Outcomes decided under one lease owner (shared mode; undefined otherwise), in the order recorded.
 * The owner is the one the URLs were claimed under, not the process's name at write time: a process
 * taken for dead registers anew, and an outcome of its old attempt must not be written for the new one.
 */
interface Batch {
  owner: string | undefined;
  outcomes: UrlOutcome[];
}

export class OutcomeWriter {
  private started = new Map<string, number[]>();
  private batches: Batch[] = [];
  private queued = 0;
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private failures = 0;
  /** After a failed write: when the next attempt is due (drain waits for it too, instead of spinning). */
  private retryAt = 0;
  /** Outcomes in the write under way. */
  private writing = 0;
  private startedTimer: NodeJS.Timeout | null = null;

  constructor(
    /** Runs one atomic write (writeUrlStates): Store.recoverableStatement, or a transaction. */
    private readonly write: <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>,
    /** The tasks that became task_done, as they now are. */
    private readonly onTasksDone: (tasks: TaskRow[]) => void,
    private readonly log: (err: unknown) => void,
    /** URLs whose outcome write ended (stored, or not theirs to store any more), with the owner they were written under. */
    private readonly onFlushed: (urlIds: number[], owner: string | undefined) => void = () => undefined,
  ) {}

  /**
   * waiting → refreshing/preheating is written a little later: most purges finish within that time,
   * and their terminal state is then the only write (one transaction per purge instead of two).
   */
  markStarted(ids: number[], status: 'refreshing' | 'preheating'): void {
    let list = this.started.get(status);
    if (!list) this.started.set(status, (list = []));
    for (const id of ids) list.push(id);
    if (!this.startedTimer) {
      this.startedTimer = setTimeout(() => {
        this.startedTimer = null;
        this.schedule();
      }, STARTED_DELAY_MS);
      this.startedTimer.unref();
    }
  }

  /** Shared mode: `owner` is the lease the URL was claimed under; the outcome is written only while the row is still in that name. */
  record(outcome: UrlOutcome, owner?: string): void {
    const last = this.batches[this.batches.length - 1];
    if (last !== undefined && last.owner === owner) last.outcomes.push(outcome);
    else this.batches.push({ owner, outcomes: [outcome] });
    this.queued++;
    this.schedule();
  }

  /**
   * Writes everything recorded so far, for at most `deadlineMs` (the store may be down: a stop must
   * not wait for it forever, nor retry in a tight loop). Answers how many outcomes are still
   * unwritten then; their URLs are not terminal in the store, so the next start does them again.
   */
  async drain(deadlineMs = 10_000): Promise<number> {
    const end = Date.now() + deadlineMs;
    while (this.flushing || this.queued > 0 || this.started.size > 0) {
      const left = end - Date.now();
      if (left <= 0) break;
      if (this.flushing) await within(this.flushing, left);
      else if (this.retryAt > Date.now()) await sleep(Math.min(this.retryAt, end) - Date.now());
      else await within(this.flush(), left);
    }
    return this.queued + this.writing;
  }

  private schedule(delayMs = 0): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      // A write drain() started meanwhile schedules the rest when it ends.
      if (!this.flushing) void this.flush();
    };
    if (delayMs > 0) setTimeout(run, delayMs).unref();
    else setImmediate(run);
  }

  /** Writes the started marks and the oldest batch of outcomes (one owner per write). */
  private flush(): Promise<void> {
    const started = this.started;
    const batch = this.batches.shift() ?? { owner: undefined, outcomes: [] };
    const outcomes = batch.outcomes;
    this.started = new Map();
    this.queued -= outcomes.length;
    const now = Date.now();
    this.writing = outcomes.length;
    this.flushing = (async () => {
      let delay = 0;
      try {
        // A URL whose outcome is in this batch need not be marked started first.
        const finished = new Set(outcomes.map((o) => o.id));
        const marks = [...started].flatMap(([status, ids]) => ids.filter((id) => !finished.has(id)).map((id) => ({ id, status })));
        const done = await this.write((db) => writeUrlStates(db, marks, outcomes, now, batch.owner));
        this.failures = 0;
        this.retryAt = 0;
        if (outcomes.length > 0) this.onFlushed(outcomes.map((o) => o.id), batch.owner);
        if (done.length > 0) this.onTasksDone(done);
      } catch (err) {
        // Keep what could not be written and try again: an outcome must never be lost.
        this.log(err);
        for (const [status, ids] of started) this.markStartedQuiet(ids, status);
        this.requeue(batch);
        delay = Math.min(MAX_RETRY_DELAY_MS, 50 * 2 ** this.failures++);
        this.retryAt = Date.now() + delay;
      } finally {
        this.flushing = null;
        this.writing = 0;
      }
      if (this.queued > 0 || this.started.size > 0) this.schedule(delay);
    })();
    return this.flushing;
  }

  /** Puts a batch that could not be written back in front, merged with what its owner recorded since. */
  private requeue(batch: Batch): void {
    if (batch.outcomes.length === 0) return;
    const first = this.batches[0];
    if (first !== undefined && first.owner === batch.owner) first.outcomes.unshift(...batch.outcomes);
    else this.batches.unshift(batch);
    this.queued += batch.outcomes.length;
  }

  private markStartedQuiet(ids: number[], status: string): void {
    let list = this.started.get(status);
    if (!list) this.started.set(status, (list = []));
    list.push(...ids);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `p`, at most `ms`: a write stuck on an unreachable store must not hold up a stop. */
function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}
