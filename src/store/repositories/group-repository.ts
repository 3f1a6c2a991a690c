// IAM user groups of an account, their members and the policies attached to them (per project or '*').
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Group } from './identity-repository.js';

export async function findGroup(db: Kysely<Database>, accountId: string, name: string): Promise<Group | undefined> {
  return db.selectFrom('iam_groups').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function listGroups(db: Kysely<Database>, accountId: string): Promise<Group[]> {
  return db.selectFrom('iam_groups').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}

export async function updateGroup(db: Kysely<Database>, id: string, set: Partial<Pick<Group, 'name' | 'description'>>): Promise<void> {
  await db.updateTable('iam_groups').set(set).where('id', '=', id).execute();
}

/** Deletes the group with its memberships and attachments. */
export async function deleteGroup(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('iam_group_members').where('group_id', '=', id).execute();
  await db.deleteFrom('iam_group_policies').where('group_id', '=', id).execute();
  await db.deleteFrom('iam_groups').where('id', '=', id).execute();
}

/** The memberships of one account by name: each user's groups, and each group's members (sorted). */
export async function membershipNames(db: Kysely<Database>, accountId: string): Promise<{ groupsOf: Map<string, string[]>; membersOf: Map<string, string[]> }> {
  const rows = await db
    .selectFrom('iam_group_members as m')
    .innerJoin('iam_groups as g', 'g.id', 'm.group_id')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.group_id', 'm.user_id', 'g.name as group', 'u.name as user'])
    .where('g.account_id', '=', accountId)
    .execute();
  const groupsOf = new Map<string, string[]>();
  const membersOf = new Map<string, string[]>();
  for (const r of rows) {
    groupsOf.set(r.user_id, [...(groupsOf.get(r.user_id) ?? []), r.group].sort());
    membersOf.set(r.group_id, [...(membersOf.get(r.group_id) ?? []), r.user].sort());
  }
  return { groupsOf, membersOf };
}

export async function removeMember(db: Kysely<Database>, groupId: string, userId: string): Promise<boolean> {
  const r = await db.deleteFrom('iam_group_members').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The enabled members of a group (the admin group must keep one). */
export async function enabledMemberIds(db: Kysely<Database>, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('iam_group_members as m').innerJoin('users as u', 'u.id', 'm.user_id').select('u.id').where('m.group_id', '=', groupId).where('u.enabled', '=', 1).execute();
  return rows.map((r) => r.id);
}

export async function attachmentsOfGroup(db: Kysely<Database>, groupId: string): Promise<Array<{ policy_id: string; project_id: string }>> {
  return db.selectFrom('iam_group_policies').select(['policy_id', 'project_id']).where('group_id', '=', groupId).orderBy('policy_id').orderBy('project_id').execute();
}

export async function detachPolicy(db: Kysely<Database>, groupId: string, policyId: string, projectId: string): Promise<boolean> {
  const r = await db.deleteFrom('iam_group_policies').where('group_id', '=', groupId).where('policy_id', '=', policyId).where('project_id', '=', projectId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The names of the groups a policy is attached to. */
export async function groupsUsingPolicy(db: Kysely<Database>, policyId: string): Promise<string[]> {
  const rows = await db.selectFrom('iam_group_policies as a').innerJoin('iam_groups as g', 'g.id', 'a.group_id').select('g.name').distinct().where('a.policy_id', '=', policyId).orderBy('g.name').execute();
  return rows.map((r) => r.name);
}

/** The names of the groups with an attachment for this project. */
export async function groupsUsingProject(db: Kysely<Database>, accountId: string, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('iam_group_policies as a')
    .innerJoin('iam_groups as g', 'g.id', 'a.group_id')
    .select('g.name')
    .distinct()
    .where('g.account_id', '=', accountId)
    .where('a.project_id', '=', projectId)
    .orderBy('g.name')
    .execute();
  return rows.map((r) => r.name);
}
