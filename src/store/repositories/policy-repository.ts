// Custom IAM policies of an account (system policies live in the code, services/iam/system-policies.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Policy } from './identity-repository.js';

export async function findPolicy(db: Kysely<Database>, accountId: string, nameOrId: string): Promise<Policy | undefined> {
  return db
    .selectFrom('iam_policies')
    .selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]))
    .orderBy('name')
    .executeTakeFirst();
}

export async function listPolicies(db: Kysely<Database>, accountId: string): Promise<Policy[]> {
  return db.selectFrom('iam_policies').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}

export async function insertPolicy(db: Kysely<Database>, policy: Policy): Promise<void> {
  await db.insertInto('iam_policies').values(policy).execute();
}

export async function updatePolicy(db: Kysely<Database>, id: string, set: Partial<Pick<Policy, 'description' | 'document'>>): Promise<void> {
  await db.updateTable('iam_policies').set(set).where('id', '=', id).execute();
}

export async function deletePolicy(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('iam_policies').where('id', '=', id).execute();
}
