// /readyz: whether this process can do its work now — the store answers, its schema is current, the
// engine runs and, for a worker sharing the store, its lease row is alive. /healthz only says "alive".
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import type { DialectName } from '../store/migrations.js';
import { pendingMigrations, ping } from '../store/schema-state.js';
import type { TaskEngine } from '../engine/task-engine.js';

export type CheckName = 'store' | 'migrations' | 'engine' | 'lease';

export interface Readiness {
  ready: boolean;
  /** The checks that failed, in order (empty when ready). */
  failed: CheckName[];
  /** Each check's outcome: "ok", or why not (never a store error's text: the route is public). */
  checks: Partial<Record<CheckName, string>>;
}

/** A store that does not answer within this is taken as down. */
const CHECK_TIMEOUT_MS = 2000;
/**
 * A result is reused this long after it came, and while it is coming: probes from anyone cost at most one
 * set of queries at a time (a hung store's take up to two timeouts) and one a second.
 */
const REUSE_MS = 1000;

export class ReadinessService {
  private last: { at: number; result: Promise<Readiness>; settled: boolean } | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    private readonly engine: Pick<TaskEngine, 'running' | 'leaseHealthy'>,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  check(): Promise<Readiness> {
    const now = Date.now();
    if (this.last && (!this.last.settled || now - this.last.at < REUSE_MS)) return this.last.result;
    const last = { at: now, result: this.run(), settled: false };
    const settled = () => {
      last.settled = true;
      last.at = Date.now();
    };
    last.result.then(settled, settled);
    this.last = last;
    return last.result;
  }

  private async run(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    const failed: CheckName[] = [];
    const fail = (name: CheckName, why: string) => {
      checks[name] = why;
      failed.push(name);
    };
    const store = await this.timed('store', () => ping(this.db));
    if (store.ok) {
      checks.store = 'ok';
      const pending = await this.timed('migrations', () => pendingMigrations(this.db, this.dialect));
      if (!pending.ok) fail('migrations', pending.why);
      else if (pending.value.length > 0) fail('migrations', `${pending.value.length} pending: ${pending.value.join(', ')}`);
      else checks.migrations = 'ok';
    } else {
      fail('store', store.why);
      checks.migrations = 'not checked: the store did not answer';
    }
    if (this.engine.running) checks.engine = 'ok';
    else fail('engine', 'not running');
    // A stopped engine has given its lease back: that is the engine's failure, not a second one.
    if (store.ok && this.engine.running) {
      const lease = await this.timed('lease', () => this.engine.leaseHealthy());
      if (!lease.ok) fail('lease', lease.why);
      else if (lease.value === false) fail('lease', "this worker's lease row is gone or ran out");
      else if (lease.value === true) checks.lease = 'ok';
    }
    return { ready: failed.length === 0, failed, checks };
  }

  /** The check's value, or a short public reason it failed (the error itself goes to the log). */
  private async timed<T>(name: CheckName, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; why: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ ok: false; why: string }>((resolve) => {
      timer = setTimeout(() => {
        this.log(`readiness: the ${name} check timed out`);
        resolve({ ok: false, why: `no answer within ${CHECK_TIMEOUT_MS} ms` });
      }, CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([fn().then((value) => ({ ok: true as const, value })), timeout]);
    } catch (err) {
      this.log(`readiness: the ${name} check failed`, err);
      return { ok: false, why: 'failed (see the server log)' };
    } finally {
      clearTimeout(timer);
    }
  }
}
