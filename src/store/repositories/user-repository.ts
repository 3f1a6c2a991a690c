// IAM users and their access keys, as the management API changes them (account-repository.ts holds the
// lookups the authentication path makes).
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { AccessKey, User } from './account-repository.js';

export async function listUsers(db: Kysely<Database>, accountId: string): Promise<User[]> {
  return db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('name').execute();
}

export async function updateUser(db: Kysely<Database>, id: string, set: Partial<Pick<User, 'enabled' | 'password_hash' | 'description'>>): Promise<void> {
  await db.updateTable('users').set(set).where('id', '=', id).execute();
}

/** Revokes every token of the user at once (the identity version drops the cached ones everywhere). */
export async function deleteTokensOfUser(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('tokens').where('user_id', '=', userId).execute();
}

/** Deletes the user with its keys, tokens and memberships; returns the access keys it had. */
export async function deleteUser(db: Kysely<Database>, userId: string): Promise<string[]> {
  const keys = await db.selectFrom('access_keys').select('access_key').where('user_id', '=', userId).execute();
  await deleteTokensOfUser(db, userId);
  await db.deleteFrom('access_keys').where('user_id', '=', userId).execute();
  await db.deleteFrom('iam_group_members').where('user_id', '=', userId).execute();
  await db.deleteFrom('users').where('id', '=', userId).execute();
  return keys.map((k) => k.access_key);
}

export async function keysOf(db: Kysely<Database>, filter: { accountId?: string; userId?: string }): Promise<AccessKey[]> {
  let q = db.selectFrom('access_keys').selectAll();
  if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
  if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
  return q.orderBy('created_at').orderBy('access_key').execute();
}

export async function updateAccessKey(db: Kysely<Database>, accessKey: string, set: Partial<Pick<AccessKey, 'enabled' | 'expires_at' | 'description'>>): Promise<void> {
  await db.updateTable('access_keys').set(set).where('access_key', '=', accessKey).execute();
}
