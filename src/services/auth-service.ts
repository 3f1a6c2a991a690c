// Who is calling: access keys for signed requests, and IAM password tokens (huawei-cdn-api.md §12–§14).
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import * as accounts from '../store/repositories/account-repository.js';
import { hashPassword, newSecret, tokenDigest, verifyPassword } from './password-hash.js';

export interface Caller {
  accountId: string;
  accountName: string;
  isAdmin: boolean;
}

export interface KeyOwner extends Caller {
  secretKey: string;
}

const TOKEN_TTL_MS = 24 * 3600_000;
// Deleting a key takes effect within this time on a running server; the cache saves a query per call.
const KEY_CACHE_MS = 5_000;

export class AuthService {
  private readonly keyCache = new Map<string, { owner: KeyOwner | null; until: number }>();
  private readonly tokenCache = new Map<string, { caller: Caller | null; until: number }>();
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  /** The owner of an access key, or null when the key is unknown. */
  async keyOwner(accessKey: string): Promise<KeyOwner | null> {
    const now = Date.now();
    const hit = this.keyCache.get(accessKey);
    if (hit && hit.until > now) return hit.owner;
    const key = await accounts.findAccessKey(this.db, accessKey);
    const account = key ? await accounts.findAccountById(this.db, key.account_id) : undefined;
    const owner = key && account ? { accountId: account.id, accountName: account.name, isAdmin: account.is_admin === 1, secretKey: key.secret_key } : null;
    if (this.keyCache.size > 10_000) this.keyCache.clear();
    this.keyCache.set(accessKey, { owner, until: now + KEY_CACHE_MS });
    return owner;
  }

  forgetKey(accessKey: string): void {
    this.keyCache.delete(accessKey);
  }

  /** The caller behind an X-Auth-Token, or null when it is unknown or expired. */
  async tokenCaller(token: string): Promise<Caller | null> {
    const now = Date.now();
    const digest = tokenDigest(token);
    const hit = this.tokenCache.get(digest);
    if (hit && hit.until > now) return hit.caller;
    const row = await accounts.findToken(this.db, digest);
    const account = row && row.expires_at > now ? await accounts.findAccountById(this.db, row.account_id) : undefined;
    const caller = account ? { accountId: account.id, accountName: account.name, isAdmin: account.is_admin === 1 } : null;
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(digest, { caller, until: Math.min(now + KEY_CACHE_MS, row?.expires_at ?? now + KEY_CACHE_MS) });
    return caller;
  }

  /**
   * Password authentication. The account is named by name or id; returns null on any mismatch
   * without saying which part was wrong.
   */
  async issueToken(input: { accountName?: string; accountId?: string; user: string; password: string }): Promise<{
    token: string;
    expiresAt: number;
    issuedAt: number;
    account: { id: string; name: string };
    user: { id: string; name: string };
  } | null> {
    const account = input.accountId
      ? await accounts.findAccountById(this.db, input.accountId)
      : input.accountName !== undefined
        ? await accounts.findAccountByName(this.db, input.accountName)
        : undefined;
    const user = account ? await accounts.findUser(this.db, account.id, input.user) : undefined;
    // Hash even when the user is unknown, so timing does not tell which names exist.
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await (this.dummyHash ??= hashPassword(newSecret(16)))));
    if (!account || !user || !ok) return null;
    const token = 'MII' + crypto.randomBytes(48).toString('base64url');
    const issuedAt = Date.now();
    const expiresAt = issuedAt + TOKEN_TTL_MS;
    await accounts.insertToken(this.db, { digest: tokenDigest(token), account_id: account.id, user_id: user.id, expires_at: expiresAt });
    return { token, issuedAt, expiresAt, account: { id: account.id, name: account.name }, user: { id: user.id, name: user.name } };
  }
}
