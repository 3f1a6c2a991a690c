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
import { ACTIONS } from './iam/actions.js';
import { Call } from './iam/call.js';
import { IdentityWriter } from './iam/identity-writer.js';
import { NEW_KEY, newAccessKey } from './iam/key-service.js';
import { checkName } from './iam/names.js';

export interface NewCredentials {
  accountId: string;
  account: string;
  user: string;
  password: string;
  accessKey: string;
  secretKey: string;
}

const hex32 = () => crypto.randomBytes(16).toString('hex');

export class AccountService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealer = SecretSealer.none(),
    private readonly writer = new IdentityWriter(db, () => undefined),
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

  /**
   * Creates an account with one user (in its `admin` group) and one key pair, and the call's audit row.
   * Secrets are returned once and never again.
   */
  async createAccount(call: Call, input: { name: string; user: string; password?: string; accessKey?: string; secretKey?: string; admin?: boolean }): Promise<NewCredentials> {
    checkName('account', input.name);
    checkName('user', input.user);
    if (await accounts.findAccountByName(this.db, input.name)) throw badParameter(`account '${input.name}' exists`);
    const password = input.password ?? newSecret(18);
    const accessKey = input.accessKey ?? newAccessKey();
    const secretKey = input.secretKey ?? newSecret(30);
    if (await accounts.findAccessKey(this.db, accessKey)) throw badParameter('that access key is taken');
    const now = Date.now();
    const accountId = hex32();
    const userId = hex32();
    const passwordHash = await hashPassword(password);
    // A new account's keys and users were never cached anywhere: no identity version to bump.
    await this.writer.write(call, `account/${input.name}`, async (trx) => {
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
    }, { identity: false });
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
      return await this.createAccount(Call.internal('', ACTIONS.createAccount), { ...input, admin: true });
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

  /**
   * Deletes an account that holds nothing live: not the admin account, no domains (delete them first:
   * their configuration is on the edges), no task in process. Its users, keys, tokens, groups, policies
   * and projects go with it. Returns its access keys.
   */
  async removeAccount(call: Call, name: string): Promise<string[]> {
    const account = await this.accountByName(name);
    if (account.is_admin === 1) throw badParameter(`account '${name}' is the admin account`);
    return this.writer.write(call, `account/${name}`, async (trx) => {
      const { domains, openTasks } = await accounts.accountInUse(trx, account.id);
      if (domains > 0) throw badParameter(`account '${name}' has ${domains} domain${domains === 1 ? '' : 's'}: delete them first`);
      if (openTasks > 0) throw badParameter(`account '${name}' has tasks in process: wait for them`);
      return accounts.deleteAccount(trx, account.id);
    });
  }

  async setQuotas(call: Call, accountName: string, quotas: { file_refresh?: number; dir_refresh?: number; preheat?: number; domain?: number }): Promise<void> {
    const account = await this.accountByName(accountName);
    await this.writer.write(call, `account/${accountName}`, (trx) => accounts.updateAccountQuotas(trx, account.id, {
      ...(quotas.file_refresh !== undefined && { quota_file_refresh: quotas.file_refresh }),
      ...(quotas.dir_refresh !== undefined && { quota_dir_refresh: quotas.dir_refresh }),
      ...(quotas.preheat !== undefined && { quota_preheat: quotas.preheat }),
      ...(quotas.domain !== undefined && { quota_domain: quotas.domain }),
    }), { identity: false });
  }
}
