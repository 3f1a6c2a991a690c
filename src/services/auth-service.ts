// Who is calling: access keys for signed requests, and IAM password tokens (huawei-cdn-api.md §12–§14).
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { SealError, SecretSealer } from './secret-sealer.js';
import type { Database } from '../store/database.js';
import * as accounts from '../store/repositories/account-repository.js';
import { hashPassword, newSecret, tokenDigest, verifyPassword } from './password-hash.js';
import { LoginThrottle, type LoginLimits } from './login-throttle.js';
import { HashSlots, SLOTS_FULL } from './hash-slots.js';
import * as identity from '../store/repositories/identity-repository.js';
import { authFailed } from '../errors.js';
import { insertAuditEvents, type AuditRow } from '../store/repositories/audit-repository.js';
import { Permissions, type Grant } from './iam/permissions.js';
import { parsePolicyDocument } from './iam/policy-document.js';
import { systemPolicy } from './iam/system-policies.js';

export interface Caller {
  accountId: string;
  accountName: string;
  /** The platform's admin account (nodes, accounts); not the account's own administrators. */
  isAdmin: boolean;
  userId: string;
  userName: string;
  /** The access key the call was signed with; null for a token. */
  accessKey: string | null;
  permissions: Permissions;
}

export interface KeyOwner extends Caller {
  secretKey: string;
  /** Why the key may not be used, though it exists: refused before the body is read. */
  refusal?: 'disabled' | 'expired';
  expiresAt: number | null;
}

// How often each process looks for identity changes made by another process (revocation within 1 s).
const IDENTITY_POLL_MS = 250;
// Key uses are written in batches: last_used_at is exact to this.
const KEY_USE_FLUSH_MS = 5_000;

const TOKEN_TTL_MS = 24 * 3600_000;
// Deleting a key takes effect within this time on a running server; the cache saves a query per call.
const KEY_CACHE_MS = 5_000;
// Unknown keys and tokens are remembered apart, briefly and in a smaller cache: a flood of random ones
// churns only that cache, never the entries of the keys in use (a shared cache cleared at 10,000 entries
// let random keys flush it).
const KNOWN_ENTRIES = 10_000;
const UNKNOWN_ENTRIES = 2_000;
const UNKNOWN_CACHE_MS = 1_000;

/** Known answers in one bounded LRU, unknown ones in another; both expire. */
class AnswerCache<T extends object> {
  private readonly known: LRUCache<string, T>;
  constructor(private readonly ttlMs: number) {
    this.known = new LRUCache<string, T>({ max: KNOWN_ENTRIES, ttl: ttlMs, ttlAutopurge: false });
  }
  private readonly unknown = new LRUCache<string, true>({ max: UNKNOWN_ENTRIES, ttl: UNKNOWN_CACHE_MS, ttlAutopurge: false });

  /** The cached answer: a value, null for "known to be unknown", undefined for "not cached". */
  get(key: string): T | null | undefined {
    return this.known.get(key) ?? (this.unknown.get(key) ? null : undefined);
  }

  set(key: string, value: T | null, ttlMs = this.ttlMs): void {
    if (value === null) this.unknown.set(key, true);
    else this.known.set(key, value, { ttl: Math.max(1, ttlMs) });
  }

  clear(): void {
    this.known.clear();
    this.unknown.clear();
  }
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { userFailures: 5, addressFailures: 50, baseDelayMs: 1000, maxDelayMs: 15 * 60_000 };
// Password hashes at once (libuv's thread pool has 4 threads), and logins waiting for one.
const HASH_SLOTS = 2;
const HASH_QUEUE = 64;

export interface IssuedToken {
  token: string;
  expiresAt: number;
  issuedAt: number;
  account: { id: string; name: string };
  user: { id: string; name: string };
}

/** What a password login came to; `failed` and `throttled` say nothing of which part was wrong. */
export type LoginResult =
  | { kind: 'issued'; issued: IssuedToken }
  | { kind: 'failed'; userFailures: number; allSourcesFailures: number; addressFailures: number; delayMs: number }
  | { kind: 'throttled'; waitMs: number; by: 'user' | 'all-sources' | 'address' | 'busy' }
  /** The password was right, but the token was asked for another account: none is issued. */
  | { kind: 'wrong-scope' };

export interface LoginInput {
  accountName?: string;
  accountId?: string;
  user: string;
  password: string;
  /** The client's address. */
  source: string;
  userAgent: string;
  requestId: string;
  /** The domain (account) the token is to be scoped to, when the request names one. */
  scope?: { id?: string; name?: string };
}

/** The audit trail's action for a password login (a token issued). */
export const LOGIN_ACTION = 'iam:tokens:create';
/** The code a failed login is answered with (iam-routes.ts), on its audit row. */
const LOGIN_FAILED = authFailed('The username or password is wrong.').code;

/** The audit row of a login: the user as sent (never the password), the account when it exists. */
function loginAuditRow(input: LoginInput, accountId: string | null, userId: string | null, status: number, errorCode: string | null): AuditRow {
  const userName = input.user.slice(0, 64);
  return {
    time: Date.now(),
    account_id: accountId,
    user_id: userId,
    user_name: userName,
    access_key: null,
    source_ip: input.source,
    user_agent: input.userAgent.slice(0, 256),
    request_id: input.requestId,
    action: LOGIN_ACTION,
    resource: `user/${userName}`,
    status,
    error_code: errorCode,
  };
}

export class AuthService {
  private readonly keyCache: AnswerCache<KeyOwner>;
  private readonly tokenCache: AnswerCache<Caller>;
  private readonly permissionCache = new LRUCache<string, Permissions>({ max: KNOWN_ENTRIES });
  private version: string | undefined;
  /**
   * Counts invalidations. A load that an invalidation overtook (it read a row before the change and
   * finished after the caches were dropped) answers its own call but is not cached: it would outlive
   * the change.
   */
  private generation = 0;
  private watchTimer: NodeJS.Timeout | undefined;
  private readonly keyUses = new Map<string, number>();
  private keyUseTimer: NodeJS.Timeout | undefined;
  private readonly dummyHash: Promise<string>;
  private readonly throttle: LoginThrottle;
  private readonly hashSlots = new HashSlots(HASH_SLOTS, HASH_QUEUE);
  /** Password verifications run so far (tests read it to see that a burst was bounded). */
  passwordChecks = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { loginLimits?: LoginLimits; cacheMs?: number; sealer?: SecretSealer } = {},
  ) {
    this.keyCache = new AnswerCache(options.cacheMs ?? KEY_CACHE_MS);
    this.tokenCache = new AnswerCache(options.cacheMs ?? KEY_CACHE_MS);
    this.throttle = new LoginThrottle(options.loginLimits ?? DEFAULT_LOGIN_LIMITS);
    // Made now, so that the first login of an unknown user costs one hash like any other.
    this.dummyHash = hashPassword(newSecret(16));
  }

  /** The owner of an access key, or null when the key (or its user, or its account) is unknown. */
  async keyOwner(accessKey: string): Promise<KeyOwner | null> {
    const hit = this.keyCache.get(accessKey);
    const owner = hit !== undefined ? hit : await this.loadKeyOwner(accessKey);
    if (owner && owner.refusal === undefined && owner.expiresAt !== null && Date.now() >= owner.expiresAt) return { ...owner, refusal: 'expired' };
    return owner;
  }

  private async loadKeyOwner(accessKey: string): Promise<KeyOwner | null> {
    const generation = this.generation;
    const key = await accounts.findAccessKey(this.db, accessKey);
    const account = key ? await accounts.findAccountById(this.db, key.account_id) : undefined;
    const user = key && account ? await accounts.findUserById(this.db, key.user_id) : undefined;
    const secretKey = key ? this.openSecret(key.access_key, key.secret_key) : undefined;
    let owner: KeyOwner | null = null;
    if (key && account && user && user.enabled === 1 && secretKey !== undefined) {
      owner = {
        accountId: account.id,
        accountName: account.name,
        isAdmin: account.is_admin === 1,
        userId: user.id,
        userName: user.name,
        accessKey,
        permissions: await this.permissionsOf(user.id),
        secretKey,
        expiresAt: key.expires_at === null ? null : Number(key.expires_at),
        ...(key.enabled !== 1 && { refusal: 'disabled' as const }),
      };
    }
    if (generation === this.generation) this.keyCache.set(accessKey, owner);
    return owner;
  }

  /** A user's permissions: its groups' policies, compiled (cached until identities change). */
  async permissionsOf(userId: string): Promise<Permissions> {
    const hit = this.permissionCache.get(userId);
    if (hit) return hit;
    const generation = this.generation;
    const groups = await identity.groupsOfUser(this.db, userId);
    let permissions: Permissions;
    if (groups.some((g) => g.name === identity.ADMIN_GROUP)) permissions = Permissions.administrator();
    else {
      const attachments = await identity.attachmentsOfGroups(this.db, groups.map((g) => g.id));
      const custom = new Map((await identity.policiesByIds(this.db, attachments.map((a) => a.policy_id).filter((id) => !systemPolicy(id)))).map((p) => [p.id, p]));
      const grants: Grant[] = [];
      for (const a of attachments) {
        const document = systemPolicy(a.policy_id)?.document ?? (custom.has(a.policy_id) ? parsePolicyDocument(custom.get(a.policy_id)!.document) : undefined);
        if (document) grants.push({ document, project: a.project_id });
      }
      permissions = Permissions.of(grants);
    }
    if (generation === this.generation) this.permissionCache.set(userId, permissions);
    return permissions;
  }

  /**
   * Drops every cached key, token and permission when the store's identity version changed (a user,
   * key, group or policy was changed by this process or another), checking every 250 ms.
   */
  startWatching(pollMs = IDENTITY_POLL_MS): void {
    if (this.watchTimer) return;
    const poll = async () => {
      try {
        const v = await identity.identityVersion(this.db);
        if (this.version !== undefined && v !== this.version) this.invalidate();
        this.version = v;
      } catch {
        // The store is unreachable: the caches expire by themselves; the next poll tries again.
      }
    };
    void poll();
    this.watchTimer = setInterval(poll, pollMs);
    this.watchTimer.unref();
  }

  /** Forgets every cached identity answer (after a change in this process; the watch does it for others). */
  invalidate(): void {
    this.generation++;
    this.keyCache.clear();
    this.tokenCache.clear();
    this.permissionCache.clear();
  }

  /** Notes a signed call's key; last_used_at is written in batches. */
  noteKeyUse(accessKey: string): void {
    this.keyUses.set(accessKey, Date.now());
    if (!this.keyUseTimer) {
      this.keyUseTimer = setTimeout(() => void this.flushKeyUses(), KEY_USE_FLUSH_MS);
      this.keyUseTimer.unref();
    }
  }

  async flushKeyUses(): Promise<void> {
    clearTimeout(this.keyUseTimer);
    this.keyUseTimer = undefined;
    const uses = [...this.keyUses];
    this.keyUses.clear();
    for (const [accessKey, at] of uses) {
      try {
        await accounts.touchAccessKey(this.db, accessKey, at);
      } catch {
        // Best effort: a lost last-used time is not a lost change.
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    await this.flushKeyUses();
  }

  /** The plain secret, or undefined for one sealed under another key (the start checks all; another process may not have). */
  private openSecret(accessKey: string, stored: string): string | undefined {
    try {
      return (this.options.sealer ?? SecretSealer.none()).open(accessKey, stored);
    } catch (err) {
      if (err instanceof SealError) return undefined;
      throw err;
    }
  }

  /** The caller behind an X-Auth-Token, or null when it is unknown or expired, or its user is disabled or gone. */
  async tokenCaller(token: string): Promise<Caller | null> {
    const now = Date.now();
    const digest = tokenDigest(token);
    const hit = this.tokenCache.get(digest);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const row = await accounts.findToken(this.db, digest);
    const account = row && row.expires_at > now ? await accounts.findAccountById(this.db, row.account_id) : undefined;
    const user = row && account ? await accounts.findUserById(this.db, row.user_id) : undefined;
    const caller: Caller | null =
      account && user && user.enabled === 1
        ? { accountId: account.id, accountName: account.name, isAdmin: account.is_admin === 1, userId: user.id, userName: user.name, accessKey: null, permissions: await this.permissionsOf(user.id) }
        : null;
    const cacheMs = this.options.cacheMs ?? KEY_CACHE_MS;
    if (generation === this.generation) this.tokenCache.set(digest, caller, Math.min(cacheMs, (row?.expires_at ?? now + cacheMs) - now));
    return caller;
  }

  /**
   * Password authentication from `source` (the client's address). The account is named by name or
   * id. Each attempt is counted before its hash (login-throttle.ts); unknown accounts and users cost
   * the same hash as known ones, so timing does not tell which names exist.
   */
  async login(input: LoginInput): Promise<LoginResult> {
    const account = input.accountId
      ? await accounts.findAccountById(this.db, input.accountId)
      : input.accountName !== undefined
        ? await accounts.findAccountByName(this.db, input.accountName)
        : undefined;
    // One key per user whichever way the account is named; an unknown account by what was sent.
    const who = `${account ? account.id : `?${input.accountId ?? ''}/${input.accountName ?? ''}`}\u0000${input.user}`;
    const admission = this.throttle.admit(who, input.source);
    if (!admission.ok) return { kind: 'throttled', waitMs: admission.waitMs, by: admission.by };
    let settled = false;
    try {
      const user = account ? await accounts.findUser(this.db, account.id, input.user) : undefined;
      const stored = user && user.enabled === 1 ? user.password_hash : await this.dummyHash;
      const ok = await this.hashSlots.run(() => {
        this.passwordChecks++;
        return verifyPassword(input.password, stored);
      });
      if (ok === SLOTS_FULL) {
        // Not a failure of this user: the server is busy hashing.
        return { kind: 'throttled', waitMs: 1000, by: 'busy' };
      }
      if (!account || !user || user.enabled !== 1 || !ok) {
        settled = true;
        const failed = admission.settle('failure');
        await insertAuditEvents(this.db, [loginAuditRow(input, account?.id ?? null, user?.id ?? null, 401, LOGIN_FAILED)]);
        return { kind: 'failed', ...failed };
      }
      settled = true;
      admission.settle('success');
      const scope = input.scope;
      if (scope && ((scope.id !== undefined && scope.id !== account.id) || (scope.name !== undefined && scope.name !== account.name))) {
        await insertAuditEvents(this.db, [loginAuditRow(input, account.id, user.id, 401, LOGIN_FAILED)]);
        return { kind: 'wrong-scope' };
      }
      const token = 'MII' + crypto.randomBytes(48).toString('base64url');
      const issuedAt = Date.now();
      const expiresAt = issuedAt + TOKEN_TTL_MS;
      await this.db.transaction().execute(async (trx) => {
        await accounts.insertToken(trx, { digest: tokenDigest(token), account_id: account.id, user_id: user.id, expires_at: expiresAt });
        await insertAuditEvents(trx, [loginAuditRow(input, account.id, user.id, 201, null)]);
      });
      return { kind: 'issued', issued: { token, issuedAt, expiresAt, account: { id: account.id, name: account.name }, user: { id: user.id, name: user.name } } };
    } finally {
      // A busy refusal or a store error: the attempt did not count either way.
      if (!settled) admission.settle('abandoned');
    }
  }
}
