// Accounts (tenants), their users, access keys and IAM tokens.
import type { Kysely, Selectable } from 'kysely';
import type { AccessKeyTable, AccountTable, Database, UserTable } from '../database.js';

export type Account = Selectable<AccountTable>;
export type User = Selectable<UserTable>;
export type AccessKey = Selectable<AccessKeyTable>;

export async function insertAccount(db: Kysely<Database>, account: Account): Promise<void> {
  await db.insertInto('accounts').values(account).execute();
}

export async function findAccountByName(db: Kysely<Database>, name: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function findAccountById(db: Kysely<Database>, id: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findAccountsByIds(db: Kysely<Database>, ids: string[]): Promise<Account[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('accounts').selectAll().where('id', 'in', ids).execute();
}

export async function listAccounts(db: Kysely<Database>): Promise<Account[]> {
  return db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('name').execute();
}

export async function updateAccountQuotas(
  db: Kysely<Database>,
  id: string,
  quotas: Partial<Pick<Account, 'quota_file_refresh' | 'quota_dir_refresh' | 'quota_preheat' | 'quota_domain'>>,
): Promise<void> {
  await db.updateTable('accounts').set(quotas).where('id', '=', id).execute();
}

export async function insertUser(db: Kysely<Database>, user: User): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

export async function findUser(db: Kysely<Database>, accountId: string, name: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function touchAccessKey(db: Kysely<Database>, accessKey: string, at: number): Promise<void> {
  await db.updateTable('access_keys').set({ last_used_at: at }).where('access_key', '=', accessKey).execute();
}

export async function insertAccessKey(db: Kysely<Database>, key: AccessKey): Promise<void> {
  await db.insertInto('access_keys').values(key).execute();
}

export async function findAccessKey(db: Kysely<Database>, accessKey: string): Promise<AccessKey | undefined> {
  return db.selectFrom('access_keys').selectAll().where('access_key', '=', accessKey).executeTakeFirst();
}

export async function listAccessKeys(db: Kysely<Database>, accountId?: string): Promise<AccessKey[]> {
  let q = db.selectFrom('access_keys').selectAll();
  if (accountId) q = q.where('account_id', '=', accountId);
  return q.orderBy('created_at').execute();
}

/** Replaces a stored secret only if it is still `from` (another process may have sealed it already). */
export async function updateSecretKey(db: Kysely<Database>, accessKey: string, from: string, to: string): Promise<void> {
  await db.updateTable('access_keys').set({ secret_key: to }).where('access_key', '=', accessKey).where('secret_key', '=', from).execute();
}

export async function deleteAccessKey(db: Kysely<Database>, accessKey: string): Promise<boolean> {
  const r = await db.deleteFrom('access_keys').where('access_key', '=', accessKey).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function insertToken(db: Kysely<Database>, row: { digest: string; account_id: string; user_id: string; expires_at: number }): Promise<void> {
  await db.deleteFrom('tokens').where('expires_at', '<', Date.now()).execute();
  await db.insertInto('tokens').values(row).execute();
}

export async function findToken(db: Kysely<Database>, digest: string) {
  return db.selectFrom('tokens').selectAll().where('digest', '=', digest).executeTakeFirst();
}

/** What stands in the way of deleting an account: its domains and its tasks still in process. */
export async function accountInUse(db: Kysely<Database>, accountId: string): Promise<{ domains: number; openTasks: number }> {
  const domains = await db.selectFrom('domains').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const open = await db.selectFrom('tasks').select('id').where('account_id', '=', accountId).where('status', '=', 'task_inprocess').limit(1).execute();
  return { domains: Number(domains.n), openTasks: open.length };
}

/**
 * Deletes the account with its users, access keys, tokens, groups, memberships, attachments, custom
 * policies and enterprise projects (call it in a transaction); returns the access keys it had. Its
 * finished tasks, usage counters, rate cells and audit rows stay as history no caller can reach.
 */
export async function deleteAccount(db: Kysely<Database>, accountId: string): Promise<string[]> {
  const keys = await db.selectFrom('access_keys').select('access_key').where('account_id', '=', accountId).execute();
  const groups = db.selectFrom('iam_groups').select('id').where('account_id', '=', accountId);
  await db.deleteFrom('iam_group_members').where('group_id', 'in', groups).execute();
  await db.deleteFrom('iam_group_policies').where('group_id', 'in', groups).execute();
  await db.deleteFrom('iam_groups').where('account_id', '=', accountId).execute();
  await db.deleteFrom('iam_policies').where('account_id', '=', accountId).execute();
  await db.deleteFrom('projects').where('account_id', '=', accountId).execute();
  await db.deleteFrom('tokens').where('account_id', '=', accountId).execute();
  await db.deleteFrom('access_keys').where('account_id', '=', accountId).execute();
  await db.deleteFrom('users').where('account_id', '=', accountId).execute();
  await db.deleteFrom('accounts').where('id', '=', accountId).execute();
  return keys.map((k) => k.access_key);
}
