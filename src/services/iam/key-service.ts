// Access keys of an account's users: at most 2 per user (as Huawei), enabled or disabled, with an
// optional expiry; the secret is returned once, at creation, and stored sealed when a key file is set.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import * as accounts from '../../store/repositories/account-repository.js';
import { deleteAccessKey, findAccessKey, type AccessKey, type User } from '../../store/repositories/account-repository.js';
import { keysOf, updateAccessKey } from '../../store/repositories/user-repository.js';
import { badParameter, notFound } from '../../errors.js';
import { newSecret } from '../password-hash.js';
import { SecretSealer } from '../secret-sealer.js';
import type { Call } from './call.js';
import type { IdentityWriter } from './identity-writer.js';
import { isAdministrator, onlyAdministrators } from './admin-group.js';

export const MAX_KEYS_PER_USER = 2;
/** A new key's state: enabled, no expiry, never used. */
export const NEW_KEY = { enabled: 1, expires_at: null, last_used_at: null } as const;

const AK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Huawei-style access key: 20 upper-case letters and digits. */
export function newAccessKey(): string {
  const bytes = crypto.randomBytes(20);
  let out = '';
  for (const b of bytes) out += AK_ALPHABET[b % AK_ALPHABET.length];
  return out;
}

export interface KeyView {
  access_key: string;
  account: string;
  user: string;
  description: string;
  enabled: boolean;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

export interface NewKey {
  account: string;
  user: string;
  access_key: string;
  secret_key: string;
  description: string;
  expires_at: number | null;
}

const num = (v: number | null) => (v === null ? null : Number(v));

/** An expiry as the API takes it: epoch ms or an ISO-8601 time, in the future; null: never. */
export function expiryOf(value: number | string | null | undefined, now = Date.now()): number | null | undefined {
  if (value === undefined || value === null) return value;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw badParameter(`expires_at '${String(value).slice(0, 40)}' is neither epoch milliseconds nor an ISO-8601 time`);
  if (ms <= now) throw badParameter('expires_at must be in the future');
  return ms;
}

export class KeyService {
  constructor(
    private readonly writer: IdentityWriter,
    private readonly sealer = SecretSealer.none(),
  ) {}

  private get db(): Kysely<Database> {
    return this.writer.db;
  }

  /** The keys of the call's account (of one user), or with `allAccounts` of every account (the platform admin's listing). */
  async list(call: Call, filter: { user?: string; allAccounts?: boolean } = {}): Promise<KeyView[]> {
    const user = filter.user === undefined ? undefined : await this.user(this.db, call, filter.user);
    const keys = await keysOf(this.db, { ...(!filter.allAccounts && { accountId: call.accountId }), ...(user && { userId: user.id }) });
    const accountNames = new Map((await accounts.findAccountsByIds(this.db, [...new Set(keys.map((k) => k.account_id))])).map((a) => [a.id, a.name]));
    const userNames = new Map<string, string>();
    for (const id of new Set(keys.map((k) => k.user_id))) userNames.set(id, (await accounts.findUserById(this.db, id))?.name ?? id);
    return keys.map((k) => this.view(k, accountNames.get(k.account_id) ?? k.account_id, userNames.get(k.user_id) ?? k.user_id));
  }

  /**
   * A new key pair for a user of the call's account: the one named, else the caller itself when it is
   * of that account, else the account's first user (its administrator). At most 2 per user.
   */
  async add(call: Call, input: { user?: string; description?: string; expiresAt?: number | null } = {}): Promise<NewKey> {
    const accessKey = newAccessKey();
    const secretKey = newSecret(30);
    return this.writer.write(call, `key/${accessKey}`, async (trx) => {
      const user = await this.ownerFor(trx, call, input.user);
      if (await isAdministrator(trx, call.accountId, user.id)) onlyAdministrators(call, `a key of administrator '${user.name}'`);
      if ((await keysOf(trx, { userId: user.id })).length >= MAX_KEYS_PER_USER) {
        throw badParameter(`user '${user.name}' has ${MAX_KEYS_PER_USER} access keys, the most a user may have: delete one first`);
      }
      const account = await accounts.findAccountById(trx, call.accountId);
      const row: AccessKey = {
        ...NEW_KEY,
        access_key: accessKey,
        secret_key: this.sealer.seal(accessKey, secretKey),
        account_id: call.accountId,
        user_id: user.id,
        description: input.description ?? '',
        created_at: Date.now(),
        expires_at: input.expiresAt ?? null,
      };
      await accounts.insertAccessKey(trx, row);
      return { account: account?.name ?? call.accountId, user: user.name, access_key: accessKey, secret_key: secretKey, description: row.description, expires_at: row.expires_at };
    });
  }

  async update(call: Call, accessKey: string, change: { enabled?: boolean; expiresAt?: number | null; description?: string }): Promise<KeyView> {
    await this.writer.write(call, `key/${accessKey}`, async (trx) => {
      await this.administratorsOnly(trx, call, await this.key(trx, call, accessKey));
      await updateAccessKey(trx, accessKey, {
        ...(change.enabled !== undefined && { enabled: change.enabled ? 1 : 0 }),
        ...(change.expiresAt !== undefined && { expires_at: change.expiresAt }),
        ...(change.description !== undefined && { description: change.description }),
      });
    });
    const [key] = (await this.list(call)).filter((k) => k.access_key === accessKey);
    return key;
  }

  async remove(call: Call, accessKey: string): Promise<void> {
    await this.writer.write(call, `key/${accessKey}`, async (trx) => {
      await this.administratorsOnly(trx, call, await this.key(trx, call, accessKey));
      await deleteAccessKey(trx, accessKey);
    });
  }

  private view(k: AccessKey, account: string, user: string): KeyView {
    return {
      access_key: k.access_key,
      account,
      user,
      description: k.description,
      enabled: k.enabled === 1,
      created_at: Number(k.created_at),
      last_used_at: num(k.last_used_at),
      expires_at: num(k.expires_at),
    };
  }

  /** The keys of the account's administrators are theirs to change. */
  private async administratorsOnly(db: Kysely<Database>, call: Call, key: AccessKey): Promise<void> {
    if (await isAdministrator(db, call.accountId, key.user_id)) onlyAdministrators(call, `a key of an administrator`);
  }

  private async key(db: Kysely<Database>, call: Call, accessKey: string): Promise<AccessKey> {
    const key = await findAccessKey(db, accessKey);
    if (!key || key.account_id !== call.accountId) throw notFound(`no access key '${accessKey.slice(0, 64)}'`);
    return key;
  }

  private async user(db: Kysely<Database>, call: Call, name: string): Promise<User> {
    const user = await accounts.findUser(db, call.accountId, name);
    if (!user) throw notFound(`no user '${name.slice(0, 64)}'`);
    return user;
  }

  private async ownerFor(db: Kysely<Database>, call: Call, name: string | undefined): Promise<User> {
    if (name !== undefined) return this.user(db, call, name);
    const self = call.actor.userId === null ? undefined : await accounts.findUserById(db, call.actor.userId);
    if (self && self.account_id === call.accountId) return self;
    const first = await db.selectFrom('users').selectAll().where('account_id', '=', call.accountId).orderBy('created_at').orderBy('name').executeTakeFirst();
    if (!first) throw notFound('the account has no user');
    return first;
  }
}
