// Accounts (tenants), their users and access keys: bootstrap on first start and the admin operations.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import * as accounts from '../store/repositories/account-repository.js';
import { hashPassword, newSecret } from './password-hash.js';
import { badParameter, notFound } from '../errors.js';
import { SecretSealer } from './secret-sealer.js';
import * as identity from '../store/repositories/identity-repository.js';
import { CDN_ADMINISTRATOR_ID } from './iam/system-policies.js';

export interface NewCredentials {
  accountId: string;
  account: string;
  user: string;
  password: string;
  accessKey: string;
  secretKey: string;
}

const hex32 = () => crypto.randomBytes(16).toString('hex');
const AK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Huawei-style access key: 20 upper-case letters and digits. */
export function newAccessKey(): string {
  const bytes = crypto.randomBytes(20);
  let out = '';
  for (const b of bytes) out += AK_ALPHABET[b % AK_ALPHABET.length];
  return out;
}
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** A new key's state: enabled, no expiry, never used. */
export const NEW_KEY = { enabled: 1, expires_at: null, last_used_at: null } as const;

export class AccountService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealer = SecretSealer.none(),
  ) {}

  /**
   * At start: with a key file, seals the secret keys still stored plain (an older store, or one run
   * without the key file) and checks that every sealed one opens; without it, refuses a store that
   * holds sealed ones (a SealError that names the flag). Returns how many were sealed now.
   */
  async sealStoredSecrets(): Promise<number> {
    let count = 0;
    for (const key of await accounts.listAccessKeys(this.db)) {
      if (SecretSealer.isSealed(key.secret_key)) this.sealer.open(key.access_key, key.secret_key);
      else if (this.sealer.enabled) {
        await accounts.updateSecretKey(this.db, key.access_key, key.secret_key, this.sealer.seal(key.access_key, key.secret_key));
        count++;
      }
    }
    return count;
  }

  /** Creates an account with one user and one key pair. Secrets are returned once and never again. */
  async createAccount(input: { name: string; user: string; password?: string; accessKey?: string; secretKey?: string; admin?: boolean }): Promise<NewCredentials> {
    if (!NAME.test(input.name)) throw badParameter(`account name '${input.name}': 1-64 letters, digits, '_', '.', '-'`);
    if (!NAME.test(input.user)) throw badParameter(`user name '${input.user}': 1-64 letters, digits, '_', '.', '-'`);
    if (await accounts.findAccountByName(this.db, input.name)) throw badParameter(`account '${input.name}' exists`);
    const password = input.password ?? newSecret(18);
    const accessKey = input.accessKey ?? newAccessKey();
    const secretKey = input.secretKey ?? newSecret(30);
    if (await accounts.findAccessKey(this.db, accessKey)) throw badParameter('that access key is taken');
    const now = Date.now();
    const accountId = hex32();
    const userId = hex32();
    const passwordHash = await hashPassword(password);
    await this.db.transaction().execute(async (trx) => {
      await accounts.insertAccount(trx, {
        id: accountId,
        name: input.name,
        is_admin: input.admin ? 1 : 0,
        quota_file_refresh: null,
        quota_dir_refresh: null,
        quota_preheat: null,
        quota_domain: null,
        created_at: now,
      });
      await accounts.insertUser(trx, { id: userId, account_id: accountId, name: input.user, password_hash: passwordHash, created_at: now, enabled: 1, description: 'the account administrator' });
      await accounts.insertAccessKey(trx, { ...NEW_KEY, access_key: accessKey, secret_key: this.sealer.seal(accessKey, secretKey), account_id: accountId, user_id: userId, description: 'created with the account', created_at: now });
      // The first user is the account's administrator: the 'admin' group, with CDN Administrator attached (shown in listings).
      const groupId = hex32();
      await identity.insertGroup(trx, { id: groupId, account_id: accountId, name: identity.ADMIN_GROUP, description: 'account administrators', created_at: now });
      await identity.addMember(trx, groupId, userId);
      await identity.attachPolicy(trx, groupId, CDN_ADMINISTRATOR_ID, '*');
    });
    return { accountId, account: input.name, user: input.user, password, accessKey, secretKey };
  }

  /**
   * At start: creates the admin account unless an account of that name exists. Returns its credentials
   * when this call created it (shown once), else undefined. Several processes starting on one fresh
   * PostgreSQL race here: one of them creates it, and the others find it.
   */
  async bootstrapAdmin(input: { name: string; user: string; password?: string; accessKey?: string; secretKey?: string }): Promise<NewCredentials | undefined> {
    if (await accounts.findAccountByName(this.db, input.name)) return undefined;
    try {
      return await this.createAccount({ ...input, admin: true });
    } catch (err) {
      if (await accounts.findAccountByName(this.db, input.name)) return undefined;
      throw err;
    }
  }

  async listAccounts() {
    return accounts.listAccounts(this.db);
  }

  async accountByName(name: string) {
    const a = await accounts.findAccountByName(this.db, name);
    if (!a) throw notFound(`no account '${name}'`);
    return a;
  }

  /** A new key pair for the account's first user (or the named one). */
  async addKey(accountName: string, description = '', userName?: string): Promise<{ accessKey: string; secretKey: string; account: string }> {
    const account = await this.accountByName(accountName);
    const user = userName
      ? await accounts.findUser(this.db, account.id, userName)
      : await this.db.selectFrom('users').selectAll().where('account_id', '=', account.id).orderBy('created_at').executeTakeFirst();
    if (!user) throw notFound(`no user ${userName ?? ''} in account '${accountName}'`);
    const accessKey = newAccessKey();
    const secretKey = newSecret(30);
    await accounts.insertAccessKey(this.db, { ...NEW_KEY, access_key: accessKey, secret_key: this.sealer.seal(accessKey, secretKey), account_id: account.id, user_id: user.id, description, created_at: Date.now() });
    return { accessKey, secretKey, account: account.name };
  }

  async listKeys(accountName?: string) {
    const account = accountName ? await this.accountByName(accountName) : undefined;
    const keys = await accounts.listAccessKeys(this.db, account?.id);
    const names = new Map((await accounts.listAccounts(this.db)).map((a) => [a.id, a.name]));
    return keys.map((k) => ({ access_key: k.access_key, account: names.get(k.account_id) ?? k.account_id, description: k.description, created_at: k.created_at }));
  }

  async removeKey(accessKey: string): Promise<void> {
    if (!(await accounts.deleteAccessKey(this.db, accessKey))) throw notFound(`no access key '${accessKey}'`);
  }

  /**
   * Deletes an account that holds nothing live: not the admin account, no domains (delete them first:
   * their configuration is on the edges), no task in process. Returns its access keys, for the caches.
   */
  async removeAccount(name: string): Promise<string[]> {
    const account = await this.accountByName(name);
    if (account.is_admin === 1) throw badParameter(`account '${name}' is the admin account`);
    const { domains, openTasks } = await accounts.accountInUse(this.db, account.id);
    if (domains > 0) throw badParameter(`account '${name}' has ${domains} domain${domains === 1 ? '' : 's'}: delete them first`);
    if (openTasks > 0) throw badParameter(`account '${name}' has tasks in process: wait for them`);
    return accounts.deleteAccount(this.db, account.id);
  }

  async setQuotas(accountName: string, quotas: { file_refresh?: number; dir_refresh?: number; preheat?: number; domain?: number }): Promise<void> {
    const account = await this.accountByName(accountName);
    await accounts.updateAccountQuotas(this.db, account.id, {
      ...(quotas.file_refresh !== undefined && { quota_file_refresh: quotas.file_refresh }),
      ...(quotas.dir_refresh !== undefined && { quota_dir_refresh: quotas.dir_refresh }),
      ...(quotas.preheat !== undefined && { quota_preheat: quotas.preheat }),
      ...(quotas.domain !== undefined && { quota_domain: quotas.domain }),
    });
  }
}
