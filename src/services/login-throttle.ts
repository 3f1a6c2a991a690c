// Password-guessing brake for IAM logins: after `limit` failures of one key (an account's user, or a
// source address) further attempts wait a delay that doubles with each failure after it, up to a cap.
// A delay, never a lock: once it has passed, one attempt goes through, and a success clears the user's
// record. Attempts are counted when admitted, before the password is hashed, so a concurrent burst
// gets at most `limit` verifications per key. In memory, per process (see the README's Security).

export interface LoginLimits {
  /** Failures of one account user before the delays start. */
  userFailures: number;
  /** Failures from one source address before the delays start (higher: many users share NAT). */
  addressFailures: number;
  /** The first delay; each further failure doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
}

interface Strikes {
  failures: number;
  /** Admitted attempts not yet settled. */
  pending: number;
  last: number;
  blockedUntil: number;
  /** Blocks so far: the next one waits baseDelayMs * 2^level. */
  level: number;
}

// Keys kept at most; the least recently used goes first. Random user names cannot grow memory past
// this (a few MB), and each address adds at most `addressFailures` user keys before it waits.
const MAX_KEYS = 100_000;

export class StrikeTable {
  private readonly entries = new Map<string, Strikes>();
  /** Failures are forgotten this long after the last one (and then the delays start over). */
  private readonly windowMs: number;

  constructor(
    private readonly limit: number,
    private readonly limits: Pick<LoginLimits, 'baseDelayMs' | 'maxDelayMs'>,
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.windowMs = Math.max(15 * 60_000, 2 * limits.maxDelayMs);
  }

  get size(): number {
    return this.entries.size;
  }

  /** 0 when the attempt may go ahead (and it is then counted as pending), else the ms to wait. */
  admit(key: string, now: number): number {
    let s = this.entries.get(key);
    if (s && s.pending === 0 && now >= s.blockedUntil && now - s.last > this.windowMs) {
      this.entries.delete(key);
      s = undefined;
    }
    if (s && now < s.blockedUntil) return s.blockedUntil - now;
    if (s && s.failures + s.pending >= this.limit) {
      // Past a delay exactly one attempt at a time goes through; before the first delay the
      // attempts in flight already fill the allowance.
      if (s.failures < this.limit || s.pending > 0) return this.delay(s.level);
    }
    if (!s) {
      s = { failures: 0, pending: 0, last: now, blockedUntil: 0, level: 0 };
      this.evictFor(1);
    } else this.entries.delete(key);
    this.entries.set(key, s);
    s.pending++;
    return 0;
  }

  /** Undoes an admit that did not go ahead. */
  release(key: string): void {
    const s = this.entries.get(key);
    if (s && s.pending > 0) s.pending--;
  }

  /** A failed attempt: its failures so far, and the delay it started (0 when none). */
  fail(key: string, now: number): { failures: number; delayMs: number } {
    const s = this.entries.get(key);
    if (!s) return { failures: 1, delayMs: 0 };
    if (s.pending > 0) s.pending--;
    s.failures++;
    s.last = now;
    if (s.failures < this.limit) return { failures: s.failures, delayMs: 0 };
    const delayMs = this.delay(s.level);
    s.level++;
    s.blockedUntil = now + delayMs;
    return { failures: s.failures, delayMs };
  }

  /** A successful attempt; `forget` clears the record (the user's), else only the attempt settles. */
  succeed(key: string, forget: boolean): void {
    if (forget) this.entries.delete(key);
    else this.release(key);
  }

  private delay(level: number): number {
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(level, 40));
  }

  private evictFor(n: number): void {
    // A key with attempts in flight stays (its settle must find it); the table may then briefly
    // exceed the bound by the number of attempts in flight, which the hash slots bound.
    for (const [key, s] of this.entries) {
      if (this.entries.size + n <= this.maxKeys) return;
      if (s.pending === 0) this.entries.delete(key);
    }
  }
}

export type Admission =
  /** settle: once per admitted attempt; 'abandoned' (not verified: busy, or a store error) counts nothing. */
  | { ok: true; settle(outcome: 'success' | 'failure' | 'abandoned', now?: number): Settled }
  | { ok: false; waitMs: number; by: 'user' | 'address' };

export interface Settled {
  userFailures: number;
  addressFailures: number;
  /** The delay this failure started, for the user or the address (0: none). */
  delayMs: number;
}

export class LoginThrottle {
  private readonly users: StrikeTable;
  private readonly addresses: StrikeTable;

  constructor(limits: LoginLimits, maxKeys = MAX_KEYS) {
    this.users = new StrikeTable(limits.userFailures, limits, maxKeys);
    this.addresses = new StrikeTable(limits.addressFailures, limits, maxKeys);
  }

  /** Keys held, for tests of the memory bound. */
  get size(): number {
    return this.users.size + this.addresses.size;
  }

  /** Admits one attempt of `user` (account id or name + user name) from `address`, or says how long to wait. */
  admit(user: string, address: string, now = Date.now()): Admission {
    // The address first: a waiting address adds no user keys.
    const addressWait = this.addresses.admit(address, now);
    if (addressWait > 0) return { ok: false, waitMs: addressWait, by: 'address' };
    const userWait = this.users.admit(user, now);
    if (userWait > 0) {
      this.addresses.release(address);
      return { ok: false, waitMs: userWait, by: 'user' };
    }
    let settled = false;
    return {
      ok: true,
      settle: (outcome, at = Date.now()) => {
        if (settled) throw new Error('login attempt settled twice');
        settled = true;
        if (outcome === 'abandoned') {
          this.users.release(user);
          this.addresses.release(address);
          return { userFailures: 0, addressFailures: 0, delayMs: 0 };
        }
        if (outcome === 'success') {
          this.users.succeed(user, true);
          this.addresses.succeed(address, false);
          return { userFailures: 0, addressFailures: 0, delayMs: 0 };
        }
        const u = this.users.fail(user, at);
        const a = this.addresses.fail(address, at);
        return { userFailures: u.failures, addressFailures: a.failures, delayMs: Math.max(u.delayMs, a.delayMs) };
      },
    };
  }
}
