// IAM groups, memberships, policies, attachments and enterprise projects; the identity version that
// tells every process sharing the store to drop what it cached about keys, tokens and permissions.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { isPostgres } from '../dialect-of.js';
import type { Database, GroupTable, PolicyTable, ProjectTable } from '../database.js';

export type Group = Selectable<GroupTable>;
export type Policy = Selectable<PolicyTable>;
export type Project = Selectable<ProjectTable>;

export const ADMIN_GROUP = 'admin';
const IDENTITY_VERSION = 'identity_version';

/** Marks a change of users, keys, groups or policies (call it in the change's transaction). */
export async function bumpIdentityVersion(db: Kysely<Database>): Promise<void> {
  const value = randomBytes(8).toString('hex');
  await db.insertInto('meta').values({ key: IDENTITY_VERSION, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}

export async function identityVersion(db: Kysely<Database>): Promise<string> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', IDENTITY_VERSION).executeTakeFirst();
  return row?.value ?? '';
}

/** The groups a user is in (names and ids). */
export async function groupsOfUser(db: Kysely<Database>, userId: string): Promise<Array<{ id: string; name: string }>> {
  return db.selectFrom('iam_group_members as m').innerJoin('iam_groups as g', 'g.id', 'm.group_id').select(['g.id', 'g.name']).where('m.user_id', '=', userId).execute();
}

/** The policies attached to these groups, with the project each attachment is for. */
export async function attachmentsOfGroups(db: Kysely<Database>, groupIds: string[]): Promise<Array<{ group_id: string; policy_id: string; project_id: string }>> {
  if (groupIds.length === 0) return [];
  return db.selectFrom('iam_group_policies').selectAll().where('group_id', 'in', groupIds).execute();
}

export async function policiesByIds(db: Kysely<Database>, ids: string[]): Promise<Policy[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('iam_policies').selectAll().where('id', 'in', ids).execute();
}

export async function insertGroup(db: Kysely<Database>, group: Group): Promise<void> {
  await db.insertInto('iam_groups').values(group).execute();
}

export async function addMember(db: Kysely<Database>, groupId: string, userId: string): Promise<void> {
  await db.insertInto('iam_group_members').values({ group_id: groupId, user_id: userId }).onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing()).execute();
}

export async function attachPolicy(db: Kysely<Database>, groupId: string, policyId: string, projectId: string): Promise<void> {
  await db
    .insertInto('iam_group_policies')
    .values({ group_id: groupId, policy_id: policyId, project_id: projectId })
    .onConflict((oc) => oc.columns(['group_id', 'policy_id', 'project_id']).doNothing())
    .execute();
}

/** The account's enterprise projects with a row (the default project '0' has none). */
export async function listProjects(db: Kysely<Database>, accountId: string): Promise<Project[]> {
  return db.selectFrom('projects').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
}

/**
 * Serialises the identity changes of one account until the transaction ends (PostgreSQL; SQLite has one
 * writer), so that checks such as "the admin group keeps an enabled member" or "at most 2 keys per user"
 * cannot both pass in two processes at once.
 */
export async function lockAccountIdentity(db: Kysely<Database>, accountId: string): Promise<void> {
  if (isPostgres(db)) await sql`select pg_advisory_xact_lock(hashtext(${`cachectl-identity:${accountId}`}))`.execute(db);
}
