// Shared mode (several processes on one PostgreSQL store): this process's registration in `workers`,
// renewed while it lives. A process taken for dead (it stalled longer than the lease) may find its URLs
// with others: it stops working under its old name at once, gives back what is still in that name, and
// works on under a new one. What to drop when the lease is lost is the engine's (onLost).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { heartbeat, reapDeadWorkers, registerWorker, releaseWorker } from '../store/repositories/lease-repository.js';

export interface SharedWork {
  /** This process, as lease_owner: unique per start (a suffix is added if it is ever reaped). */
  owner: string;
  /** How long this process counts as alive without renewing; a dead process's URLs wait this long. */
  leaseMs: number;
  /** How often an idle worker looks for unclaimed or expired work. */
  pollMs: number;
  /** false for an API-only process: it stores work and leaves it to the workers. */
  worker: boolean;
  /**
   * How often a /wait reads the store, since another process may finish the task: 50 ms by default;
   * longer when finished tasks are announced (tasksDoneElsewhere), where the read is only a fallback.
   */
  waitPollMs?: number;
}

/**
 * One registration of this process in `workers`. Its name is never used again once the lease is lost,
 * so a URL row's lease_owner names the attempt that may finish it.
 */
export interface Lease {
  owner: string;
  /**
   * false from the moment this process learns it was taken for dead: nothing more is claimed or sent
   * under it, and what was decided before is written only where the row is still in its name.
   */
  live: boolean;
}

export interface LeaseHooks {
  /** The lease was lost: drop every URL taken under it, at once. */
  onLost(lease: Lease): void;
  /** Look for work now: a new lease is held, or dead processes' URLs were freed (and on every poll). */
  claim(): void;
  log(msg: string, err?: unknown): void;
}

export class WorkerLease {
  /** This process's current registration. */
  current: Lease;
  /** Registering anew after a lost lease is under way (renewals may overlap; this must not). */
  private registering = false;
  private stopped = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly shared: SharedWork,
    private readonly hooks: LeaseHooks,
  ) {
    this.current = { owner: shared.owner, live: true };
  }

  /** Registers this process, then renews its row and polls for work until halt(). */
  async start(): Promise<void> {
    const shared = this.shared;
    await registerWorker(this.db, this.current.owner, shared.leaseMs);
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(shared.pollMs, () => this.hooks.claim());
    every(Math.max(100, Math.floor(shared.leaseMs / 3)), () => void this.keepAlive());
  }

  /** No more renewals or polls; the row stays until release() (or runs out). */
  halt(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }

  /** Gives back this process's row and the URLs still in its name: the others need not wait for it to run out. */
  release(): Promise<void> {
    return releaseWorker(this.db, this.current.owner);
  }

  /**
   * Renews this process's row and reaps dead processes' URLs. If this process was itself reaped
   * (stalled longer than the lease), its URLs may be with others now: it stops working under its old
   * name at once (nothing more is claimed or sent under it), frees what is still in that
   * name, registers a new one, and only then claims again.
   */
  private async keepAlive(): Promise<void> {
    const shared = this.shared;
    if (this.stopped) return;
    try {
      const lease = this.current;
      // live again after the await: an overlapping renewal may have found out first.
      if (lease.live && !(await heartbeat(this.db, lease.owner, shared.leaseMs)) && lease.live) {
        lease.live = false;
        this.hooks.onLost(lease);
        this.hooks.log(`this process was taken for dead (no renewal within ${shared.leaseMs} ms); it dropped the URLs it held, which went back to the pool`);
      }
      // Also after a failed try: until it has a new name, this process claims nothing.
      if (!this.current.live) await this.registerAnew();
      const freed = await reapDeadWorkers(this.db);
      if (freed > 0) {
        this.hooks.log(`took back ${freed} URLs of processes that stopped renewing`);
        this.hooks.claim();
      }
    } catch (err) {
      this.hooks.log('renewing this worker failed; retrying', err);
    }
  }

  /** After a lost lease: gives back what is still in the old name, then registers a new one, then claims. */
  private async registerAnew(): Promise<void> {
    if (this.registering) return;
    this.registering = true;
    try {
      await releaseWorker(this.db, this.current.owner);
      const owner = `${this.shared.owner}~${randomBytes(3).toString('hex')}`;
      await registerWorker(this.db, owner, this.shared.leaseMs);
      if (this.stopped) return void (await releaseWorker(this.db, owner));
      this.current = { owner, live: true };
    } finally {
      this.registering = false;
    }
    this.hooks.claim();
  }
}
