// Password-guessing brake for IAM logins: after `limit` failures of one key further attempts wait a
// delay that doubles with each failure after it, up to a cap. A delay, never a lock: once it has
// passed, one attempt goes through. Attempts are counted when admitted, before the password is
// hashed, so a concurrent burst gets at most `limit` verifications per key. In memory, per process
// (see the README's Security).
//
// The keys, after OWASP's advice on throttling logins:
// - a user from one source (IPv4 address or IPv6 /64): the main delay. It is not per user alone, or an
//   attacker who sends one wrong guess each time the delay expires wins the one attempt allowed after
//   it every time, and the real user, elsewhere, is locked out for as long as the attacker likes;
// - a user from all sources, with a looser limit and a short cap, so that guesses spread over many
//   addresses are slowed too. Sources the user has logged in from recently skip it: a distributed
//   attack delays a user's new places, never the ones the user is known at;
// - a source for all users, so that one client cannot try a password on many names.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { sourceKey } from './source-key.js';

export interface LoginLimits {
  /** Failures of one account user from one source before the delays start (ten times that from all sources). */
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

// Keys kept at most per table; the least recently used goes first. Random user names cannot grow memory
// past this (a few MB: keys are at most MAX_KEY_CHARS), and each source adds at most `addressFailures`
// user keys before it waits.
const MAX_KEYS = 100_000;
const MAX_KEY_CHARS = 160;
/** The all-sources limit of a user is this many times the limit from one source… */
export const ALL_SOURCES_FACTOR = 10;
/** …and its delay doubles up to this at most: it also delays the real user at a new address. */
export const ALL_SOURCES_MAX_DELAY_MS = 60_000;
/** Sources remembered per user after a success, and for how long after the last one. */
const KNOWN_SOURCES = 5;
const KNOWN_SOURCE_MS = 30 * 24 * 3600_000;

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
  | { ok: false; waitMs: number; by: 'user' | 'all-sources' | 'address' };

export interface Settled {
  /** Failures of this user from this source. */
  userFailures: number;
  /** Failures of this user from all sources not known for it (0 from a known source: not counted). */
  allSourcesFailures: number;
  addressFailures: number;
  /** The delay this failure started, for any of the three (0: none). */
  delayMs: number;
}

export class LoginThrottle {
  /** Per user and source. */
  private readonly pairs: StrikeTable;
  /** Per user, from sources not known for it. */
  private readonly users: StrikeTable;
  /** Per source. */
  private readonly addresses: StrikeTable;
  /** Per user: the sources of its recent successful logins, and when. Only a right password adds one. */
  private readonly known: LRUCache<string, Map<string, number>>;

  constructor(limits: LoginLimits, maxKeys = MAX_KEYS) {
    this.pairs = new StrikeTable(limits.userFailures, limits, maxKeys);
    this.users = new StrikeTable(limits.userFailures * ALL_SOURCES_FACTOR, {
      baseDelayMs: Math.min(limits.baseDelayMs, ALL_SOURCES_MAX_DELAY_MS),
      maxDelayMs: Math.min(limits.maxDelayMs, ALL_SOURCES_MAX_DELAY_MS),
    }, maxKeys);
    this.addresses = new StrikeTable(limits.addressFailures, limits, maxKeys);
    this.known = new LRUCache({ max: maxKeys });
  }

  /** Keys held, for tests of the memory bound. */
  get size(): number {
    return this.pairs.size + this.users.size + this.addresses.size + this.known.size;
  }

  /** Admits one attempt of `user` (account id or name + user name) from `address`, or says how long to wait. */
  admit(userName: string, address: string, now = Date.now()): Admission {
    const user = boundedKey(userName);
    const source = sourceKey(address);
    const pair = boundedKey(`${user}\u0000${source}`);
    // The source first: a waiting source adds no user keys.
    const addressWait = this.addresses.admit(source, now);
    if (addressWait > 0) return { ok: false, waitMs: addressWait, by: 'address' };
    const pairWait = this.pairs.admit(pair, now);
    if (pairWait > 0) {
      this.addresses.release(source);
      return { ok: false, waitMs: pairWait, by: 'user' };
    }
    const known = this.isKnown(user, source, now);
    if (!known) {
      const userWait = this.users.admit(user, now);
      if (userWait > 0) {
        this.pairs.release(pair);
        this.addresses.release(source);
        return { ok: false, waitMs: userWait, by: 'all-sources' };
      }
    }
    let settled = false;
    return {
      ok: true,
      settle: (outcome, at = Date.now()) => {
        if (settled) throw new Error('login attempt settled twice');
        settled = true;
        if (outcome === 'abandoned' || outcome === 'success') {
          if (!known) this.users.release(user);
          this.addresses.release(source);
          if (outcome === 'abandoned') this.pairs.release(pair);
          else {
            // A success clears this source's record for the user, not the all-sources one: the real user
            // logging in must not hand a distributed attacker a fresh allowance.
            this.pairs.succeed(pair, true);
            this.remember(user, source, at);
          }
          return { userFailures: 0, allSourcesFailures: 0, addressFailures: 0, delayMs: 0 };
        }
        const p = this.pairs.fail(pair, at);
        const u = known ? { failures: 0, delayMs: 0 } : this.users.fail(user, at);
        const a = this.addresses.fail(source, at);
        return { userFailures: p.failures, allSourcesFailures: u.failures, addressFailures: a.failures, delayMs: Math.max(p.delayMs, u.delayMs, a.delayMs) };
      },
    };
  }

  private isKnown(user: string, source: string, now: number): boolean {
    const at = this.known.get(user)?.get(source);
    return at !== undefined && now - at <= KNOWN_SOURCE_MS;
  }

  private remember(user: string, source: string, now: number): void {
    let sources = this.known.get(user);
    if (!sources) this.known.set(user, (sources = new Map()));
    sources.delete(source); // re-added last: the Map keeps the least recent success first
    sources.set(source, now);
    for (const [old] of sources) {
      if (sources.size <= KNOWN_SOURCES) break;
      sources.delete(old);
    }
  }
}

/** A key of at most MAX_KEY_CHARS: names nobody has (an unknown account's, up to the body limit) are hashed. */
function boundedKey(key: string): string {
  return key.length <= MAX_KEY_CHARS ? key : `#${createHash('sha256').update(key).digest('base64url')}`;
}
