// The account a management call acts on: the caller's own, or, for the platform's admin account only,
// the one named by `?account=`. Names (users, groups, policies, keys) resolve inside that account only,
// so another tenant's objects are never found (CDN.0003), never shown.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { findAccessKey, findAccountById, findAccountByName, type Account } from '../../store/repositories/account-repository.js';
import { forbidden, notFound } from '../../errors.js';
import { Call } from './call.js';

export interface Tenant {
  /** The call, acting on the target account (its audit rows belong to that account). */
  call: Call;
  account: Account;
}

/** The same call acting on another account (the platform admin's), with the same actor and permissions. */
function actingOn(call: Call, accountId: string): Call {
  return accountId === call.accountId ? call : new Call({ ...call.actor, accountId }, call.permissions, call.action, call.internal);
}

export class TenantScope {
  constructor(private readonly db: Kysely<Database>) {}

  /** `platformAdmin`: the caller is of the platform's admin account, which may name another account. */
  async of(call: Call, platformAdmin: boolean, accountName?: string): Promise<Tenant> {
    const own = await findAccountById(this.db, call.accountId);
    if (!own) throw notFound('the calling account no longer exists');
    if (accountName === undefined || accountName === own.name) return { call, account: own };
    // Whether the account exists is not told to a tenant.
    if (!platformAdmin) throw forbidden('Only the admin account may act on another account.');
    const account = await findAccountByName(this.db, accountName);
    if (!account) throw notFound(`no account '${accountName}'`);
    return { call: actingOn(call, account.id), account };
  }

  /**
   * The account of an access key the call names: the caller's own keys, or, for the platform admin
   * without `?account=`, any key (its account then is the key's).
   */
  async ofKey(call: Call, platformAdmin: boolean, accessKey: string, accountName?: string): Promise<Tenant> {
    if (!platformAdmin || accountName !== undefined) return this.of(call, platformAdmin, accountName);
    const key = await findAccessKey(this.db, accessKey);
    const account = key ? await findAccountById(this.db, key.account_id) : undefined;
    if (!account) throw notFound(`no access key '${accessKey}'`);
    return { call: actingOn(call, account.id), account };
  }
}
