// Carries every accepted URL to every edge node, retries node failures with backoff until the URL's
// deadline, and records one terminal outcome per URL. The outcome is decided at the deadline at the
// latest: a node still busy with the URL then fails it, and its late answer is ignored. State lives in the store: after a crash,
// start() picks up every URL that was accepted but not finished.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { listInFlightUrls } from '../store/repositories/task-repository.js';
import type { TaskRow } from '../store/repositories/task-rows.js';
import { claimUrls, leaseAlive } from '../store/repositories/lease-repository.js';
import type { EdgeResult } from '../edge/edge-driver.js';
import type { EdgeFleet } from './edge-fleet.js';
import { OutcomeWriter } from './outcome-writer.js';
import { encodeNodeResults } from './node-results.js';
import { jobOfRow, type DeadlineGroup, type Tracking, type UrlJob } from './tracked-url.js';
import { TaskWaiters } from './task-waiters.js';
import { WorkerLease, type Lease, type SharedWork } from './worker-lease.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../logging/logger.js';
import { FailureLines } from './failure-lines.js';

export interface EngineOptions {
  /**
   * URLs this process tracks at once. More wait in the store (as `waiting`) and are read back as room
   * frees, so memory stays bounded whatever the backlog, also when a restart resumes millions.
   */
  maxTracked?: number;
  /** How URL states are written (Store.recoverableStatement); defaults to an ordinary transaction. */
  outcomeWrite?: <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
  deadlineMs: number;
  /**
   * How long a prefetch of a URL on this host may take on a node (a slow or large object): a prefetch
   * URL is decided at the longer of this and deadlineMs, and its node calls may last that long.
   */
  prefetchTimeoutMs?: (host: string) => number;
  retryBaseMs: number;
  log: (msg: string, err?: unknown) => void;
  /** Where the lifecycle lines go: a task done (with its counts and time), each failed URL (its nodes and why). */
  logger?: Logger;
  /** Set when several processes share the store (PostgreSQL): work is claimed with leases. */
  shared?: SharedWork;
  /** How long stop() tries to write the outcomes it holds (the store may be down); default 10 s. */
  drainMs?: number;
  /** When set: URL outcomes and task completion times are counted there. */
  metrics?: Metrics;
}

/** The engines of a fleet, for the completion histogram: `builtin`, `varnish`, or a mixed fleet's `nginx+varnish`. */
function engineLabel(members: EdgeFleet['members']): string {
  return [...new Set(members.map((m) => m.node.driver))].sort().join('+') || 'none';
}

const MAX_BACKOFF_MS = 2000;
const REMOVED: EdgeResult = { ok: false, classify: 'INNER_ERROR', retryable: false, message: 'the node was removed from the fleet before it answered' };
const REFILL_PAGE = 5000;
const DEFAULT_MAX_TRACKED = 100_000;
const DEFAULT_DRAIN_MS = 10_000;
const DEFAULT_WAIT_POLL_MS = 50;

export class TaskEngine {
  private readonly writer: OutcomeWriter;
  private readonly waiters: TaskWaiters;
  private inFlight = 0;
  private stopped = false;
  private started = false;
  /** URL ids dispatched here whose terminal state is not stored yet. */
  private readonly tracked = new Set<number>();
  private readonly maxTracked: number;
  /** Lowest URL id that may be in the store but not dispatched; null when none. */
  private backlogFrom: number | null = null;
  /** Highest URL id that dispatch() left in the store for lack of room. */
  private skippedMax = 0;
  private refilling: Promise<number> | null = null;
  /** Deadline groups with URLs not decided yet (dropped all at once when their lease is lost). */
  private readonly groups = new Set<DeadlineGroup>();
  /** Shared mode: this process's registration among the workers. */
  private readonly workers?: WorkerLease;
  private readonly failureLines?: FailureLines;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly fleet: EdgeFleet,
    private readonly options: EngineOptions,
  ) {
    // A /wait polls the store in shared mode: another process may finish the task.
    this.waiters = new TaskWaiters(options.shared ? (options.shared.waitPollMs ?? DEFAULT_WAIT_POLL_MS) : undefined);
    this.writer = new OutcomeWriter(
      options.outcomeWrite ?? ((fn) => db.transaction().execute(fn)),
      (tasks) => {
        for (const t of tasks) this.waiters.done(t.id, t);
        const now = Date.now();
        if (options.metrics) {
          const engine = engineLabel(this.fleet.members);
          for (const t of tasks) options.metrics.taskCompletion.labels(t.task_type, engine).observe((now - Number(t.create_time)) / 1000);
        }
        for (const t of tasks) {
          const unlogged = this.failureLines?.forget(t.id) ?? 0;
          if (options.logger?.isLevelEnabled('info')) {
            options.logger.info(
              { task_id: t.id, task_type: t.task_type, account_id: t.account_id, total: t.total, succeed: t.succeed, failed: t.failed, ms: now - Number(t.create_time), ...(unlogged > 0 && { failed_urls_not_logged: unlogged }) },
              'task done',
            );
          }
        }
      },
      (err) => options.log('writing URL outcomes failed; retrying', err),
      (ids, owner) => {
        // URLs of a lost lease left `tracked` when it was lost; the same ids may be tracked again under the new one.
        if (owner === undefined || owner === this.workers?.current.owner) for (const id of ids) this.tracked.delete(id);
        if ((this.backlogFrom !== null || options.shared) && this.tracked.size <= this.maxTracked / 2) void this.refill();
      },
    );
    this.maxTracked = options.maxTracked ?? DEFAULT_MAX_TRACKED;
    if (options.logger) this.failureLines = new FailureLines(options.logger);
    if (options.shared) {
      this.workers = new WorkerLease(db, options.shared, { onLost: (lease) => this.abandon(lease), claim: () => void this.refill(), log: options.log });
    }
  }

  /** Started and not stopped (readiness). */
  get running(): boolean {
    return this.started && !this.stopped;
  }

  /**
   * Readiness of a shared-store worker: its lease is held and its row in `workers` has not run out;
   * null when this process holds no lease (one store of its own, or API only).
   */
  async leaseHealthy(): Promise<boolean | null> {
    if (!this.options.shared?.worker || !this.workers) return null;
    const lease = this.workers.current;
    return lease.live && (await leaseAlive(this.db, lease.owner));
  }

  /** URLs in flight in this process. */
  get load(): number {
    return this.inFlight;
  }

  /** Resumes every URL that a previous run accepted and did not finish; returns how many it took up now. */
  async start(): Promise<number> {
    const shared = this.options.shared;
    this.started = true;
    if (!shared) {
      this.backlogFrom = 1;
      return this.refill();
    }
    if (!shared.worker) return 0;
    await this.workers!.start();
    return this.refill();
  }

  /**
   * Shared mode: whether URLs stored now should be leased to this process at intake (it has room and
   * works), so that they are dispatched here without a claim; otherwise they wait for any worker.
   */
  leaseAtIntake(count: number): { owner: string | null; shared: boolean } {
    const shared = this.options.shared;
    if (!shared) return { owner: null, shared: false };
    const lease = this.workers!.current;
    if (!shared.worker || this.stopped || !lease.live || this.tracked.size + count > this.maxTracked) return { owner: null, shared: true };
    return { owner: lease.owner, shared: true };
  }

  /**
   * The lease is lost: every URL taken under it is dropped here, undecided (its queued and retried
   * calls are not sent, a late answer is ignored). Outcomes already decided are still written, but
   * only where the row is still in the old name (OutcomeWriter): whoever took a URL over finishes it.
   */
  private abandon(lease: Lease): void {
    for (const group of this.groups) {
      if (group.lease !== lease) continue;
      clearTimeout(group.timer);
      for (const t of group.urls) {
        if (t.pending === 0) continue;
        t.pending = 0;
        t.attempts.fill(-1);
        this.inFlight--;
      }
      this.groups.delete(group);
    }
    this.tracked.clear();
  }

  /**
   * Sends each URL to every node, or leaves it in the store when this process has no room. Call after
   * the URLs are committed. Shared mode: `owner` is what leaseAtIntake answered for them.
   */
  dispatch(jobs: UrlJob[], owner: string | null = null): void {
    if (this.stopped || jobs.length === 0) return;
    if (this.options.shared) {
      // Only what was leased to this process at intake, and only under a lease still held: rows in a
      // lost lease's name are reaped and claimed like any other.
      const lease = this.workers!.current;
      if (owner === lease.owner && lease.live) this.track(jobs, lease);
      return;
    }
    if (this.backlogFrom !== null || this.tracked.size + jobs.length > this.maxTracked) {
      // Ids grow with commit order, so the store scan from backlogFrom finds these again.
      for (const job of jobs) {
        this.backlogFrom = Math.min(this.backlogFrom ?? job.id, job.id);
        this.skippedMax = Math.max(this.skippedMax, job.id);
      }
      void this.refill();
      return;
    }
    this.track(jobs);
  }

  /** Reads waiting URLs back from the store while there is room; one reader at a time. */
  private refill(): Promise<number> {
    // Cleared in a later microtask, so never before the assignment (a pass can end without awaiting).
    this.refilling ??= this.refillPass().finally(() => {
      this.refilling = null;
    });
    return this.refilling;
  }

  private async refillPass(): Promise<number> {
    if (this.options.shared) return this.claimPass(this.options.shared, this.workers!.current);
    let count = 0;
    try {
      while (this.backlogFrom !== null && !this.stopped) {
        const room = this.maxTracked - this.tracked.size;
        if (room < Math.min(REFILL_PAGE, this.maxTracked / 2)) break; // onFlushed calls again
        const limit = Math.min(room, REFILL_PAGE);
        const from = this.backlogFrom;
        const rows = await listInFlightUrls(this.db, from - 1, limit);
        const jobs = rows.filter((r) => !this.tracked.has(Number(r.id))).map(jobOfRow);
        this.track(jobs);
        count += jobs.length;
        const last = rows.length > 0 ? Number(rows[rows.length - 1].id) : from - 1;
        // Done when the scan reached the end and nothing was left behind after it started.
        this.backlogFrom = rows.length < limit && this.skippedMax <= last ? null : last + 1;
      }
    } catch (err) {
      this.options.log('reading waiting URLs failed; retrying', err);
      setTimeout(() => void this.refill(), 1000).unref();
    }
    return count;
  }

  /** Claims unclaimed URLs while there is room. */
  private async claimPass(shared: SharedWork, lease: Lease): Promise<number> {
    let count = 0;
    try {
      while (shared.worker && !this.stopped && lease.live) {
        const room = this.maxTracked - this.tracked.size;
        if (room < Math.min(REFILL_PAGE, this.maxTracked / 2)) break;
        const limit = Math.min(room, REFILL_PAGE);
        const rows = await claimUrls(this.db, lease.owner, limit);
        if (this.stopped) break; // claimed by a stopping process: stop() gives them back
        if (!lease.live) break; // lost meanwhile: the rows are in a dead name, and reaped
        this.track(rows.map(jobOfRow), lease);
        count += rows.length;
        if (rows.length < limit) break;
      }
    } catch (err) {
      this.options.log('claiming work failed; retrying', err);
    }
    return count;
  }

  private track(jobs: UrlJob[], lease?: Lease): void {
    if (jobs.length === 0) return;
    const members = this.fleet.members;
    const now = Date.now();
    const starting = new Map<'refreshing' | 'preheating', number[]>();
    // URLs with the same span share a group (one timer): usually one for the whole batch.
    const groups = new Map<number, DeadlineGroup>();
    for (const job of jobs) {
      const spanMs = this.spanOf(job);
      let group = groups.get(spanMs);
      if (!group) groups.set(spanMs, (group = { spanMs, urls: [], open: 0, lease }));
      const deadline = now + spanMs;
      // Fields listed, not spread from job: a spread object took 2.4 times the memory (745 vs 313 bytes a
      // URL), and up to maxTracked of these live at once.
      const t: Tracking = { id: job.id, taskId: job.taskId, host: job.host, target: job.target, kind: job.kind, deadline, pending: members.length, sentAt: now, failures: [], nodes: [], members, attempts: members.map(() => 0), group };
      this.inFlight++;
      this.tracked.add(job.id);
      const status = job.kind === 'prefetch' ? 'preheating' : 'refreshing';
      let ids = starting.get(status);
      if (!ids) starting.set(status, (ids = []));
      ids.push(job.id);
      if (members.length === 0) {
        t.pending = 1;
        this.settle(t, { node: '-', classify: 'INNER_ERROR', message: 'no edge node is configured' });
        continue;
      }
      group.urls.push(t);
      group.open++;
      for (let i = 0; i < members.length; i++) this.send(t, i, 0);
    }
    for (const group of groups.values()) {
      if (group.open === 0) continue;
      group.timer = setTimeout(() => this.expire(group), Math.max(0, now + group.spanMs - Date.now()));
      group.timer.unref();
      this.groups.add(group);
    }
    for (const [status, ids] of starting) this.writer.markStarted(ids, status);
  }

  /** How long a URL has: the task deadline, or for a prefetch the longer of it and the fill timeout. */
  private spanOf(job: UrlJob): number {
    const fill = job.kind === 'prefetch' ? this.options.prefetchTimeoutMs?.(job.host) : undefined;
    return fill === undefined ? this.options.deadlineMs : Math.max(this.options.deadlineMs, fill);
  }

  /** Sends the URL to member i of its fleet. */
  private send(t: Tracking, i: number, attempt: number): void {
    const m = t.members[i];
    if (m.removed) return this.onResult(t, i, attempt, REMOVED);
    const target = { host: t.host, path: t.target, ref: t.id };
    m.queue.push({ kind: t.kind, target, deadline: t.deadline, wanted: () => t.attempts[i] === attempt, done: (r) => this.onResult(t, i, attempt, r) });
  }

  private onResult(t: Tracking, i: number, attempt: number, r: EdgeResult): void {
    // Decided already (the deadline passed): a late answer changes nothing.
    if (t.attempts[i] !== attempt) return;
    const m = t.members[i];
    const ms = Date.now() - t.sentAt;
    if (r.ok) {
      t.attempts[i] = -1;
      t.nodes.push({ node: m.node.name, ok: true, ms, attempts: attempt + 1, ...(r.detail !== undefined && { detail: r.detail }) });
      return this.settle(t);
    }
    // A node removed from the fleet is not asked again. A retry must start before the deadline; one that
    // is still unanswered then is abandoned by expire(). A prefetch's longer deadline is for waiting on a
    // fill: a failing node is retried only within the task deadline, as for any URL (a down node fails
    // its prefetches after --task-deadline-ms, not after the prefetch timeout).
    if (r.retryable && !this.stopped && !m.removed) {
      const backoff = Math.min(MAX_BACKOFF_MS, this.options.retryBaseMs * 2 ** attempt);
      if (Date.now() + backoff < Math.min(t.deadline, t.sentAt + this.options.deadlineMs)) {
        t.attempts[i] = attempt + 1;
        (t.lastErrors ??= [])[i] = r.message;
        setTimeout(() => {
          if (t.attempts[i] === attempt + 1) this.send(t, i, attempt + 1);
        }, backoff).unref();
        return;
      }
    }
    t.attempts[i] = -1;
    const message = r.retryable && !m.removed ? `${r.message} (gave up after ${attempt + 1} attempts)` : r.message;
    t.nodes.push({ node: m.node.name, ok: false, ms, attempts: attempt + 1, classify: r.classify, error: message });
    this.settle(t, { node: m.node.name, classify: r.classify, message });
  }

  /** The deadline of these URLs has come: every node still busy with one of them fails it now. */
  private expire(group: DeadlineGroup): void {
    group.timer = undefined;
    for (const t of group.urls) {
      for (let i = 0; i < t.attempts.length; i++) {
        const attempt = t.attempts[i];
        if (attempt < 0) continue;
        t.attempts[i] = -1;
        const m = t.members[i];
        const last = t.lastErrors?.[i];
        const message = `${last === undefined ? '' : `${last}; then `}no answer within ${group.spanMs === this.options.deadlineMs ? 'the task deadline' : 'the prefetch timeout'} of ${group.spanMs} ms (gave up after ${attempt + 1} attempts)`;
        t.nodes.push({ node: m.node.name, ok: false, ms: Date.now() - t.sentAt, attempts: attempt + 1, classify: 'INNER_ERROR', error: message });
        this.settle(t, { node: m.node.name, classify: 'INNER_ERROR', message });
      }
    }
  }

  /** One node is finished with the URL, well or not; the last one records the URL's outcome. */
  private settle(t: Tracking, failure?: Tracking['failures'][number]): void {
    if (failure) t.failures.push(failure);
    if (--t.pending > 0) return;
    this.inFlight--;
    // A URL that went to no node never joined its group.
    if (t.attempts.length > 0 && --t.group.open === 0) {
      clearTimeout(t.group.timer);
      t.group.timer = undefined;
      t.group.urls = [];
      this.groups.delete(t.group);
    }
    // After stop() the store may be closed: the URL stays in flight there and the next start resumes it.
    if (this.stopped) return;
    const owner = t.group.lease?.owner;
    const nodeResults = encodeNodeResults(t.nodes);
    if (t.failures.length === 0) {
      this.writer.record({ id: t.id, ok: true, nodeResults }, owner);
      this.options.metrics?.urlSucceeded.inc();
      return;
    }
    // An origin problem is the likelier explanation for the user; node names say where.
    const classify = t.failures.some((f) => f.classify === 'ORIGIN_ERROR') ? 'ORIGIN_ERROR' : 'INNER_ERROR';
    this.options.metrics?.urlsFinished.labels('failed', classify).inc();
    const desc = t.failures.map((f) => `node ${f.node}: ${f.message}`).join('; ');
    this.failureLines?.failed(t, classify);
    this.writer.record({ id: t.id, ok: false, failClassify: classify, failDesc: desc.slice(0, 1000), nodeResults }, owner);
  }

  /** Resolves done when the task is done, not done after timeoutMs (TaskWaiters.wait). */
  waitDone(taskId: number, timeoutMs: number, isDone: () => Promise<boolean>): Promise<{ done: boolean; final?: TaskRow }> {
    return this.waiters.wait(taskId, timeoutMs, isDone);
  }

  /** Another process finished this task (or this one did, and the store says so): wakes its waiters. */
  taskDoneElsewhere(taskId: number): void {
    this.waiters.done(taskId);
  }

  /** Stops taking work and writes what is known. URLs still in flight stay in the store for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.workers?.halt();
    const unwritten = await this.writer.drain(this.options.drainMs ?? DEFAULT_DRAIN_MS);
    if (unwritten > 0) {
      // Not lost: those URLs are not terminal in the store, and the next start (or, sharing the
      // store, another process once this one's lease runs out) does them again.
      this.options.log(`stopping with ${unwritten} URL outcomes not written: the store did not take them within ${this.options.drainMs ?? DEFAULT_DRAIN_MS} ms; those URLs are done again by the next start`);
      return;
    }
    // The other processes need not wait for this one's row to run out.
    if (this.options.shared?.worker) await this.workers!.release().catch((err: unknown) => this.options.log('giving back URLs failed (they are reaped when the lease runs out)', err));
  }
}
