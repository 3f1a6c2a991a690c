// The safeguard of an account's `admin` group: it keeps at least one enabled member, whatever is changed.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { ADMIN_GROUP } from '../../store/repositories/identity-repository.js';
import { enabledMemberIds, findGroup } from '../../store/repositories/group-repository.js';
import { forbidden } from '../../errors.js';
import type { Call } from './call.js';

/**
 * Refuses (CDN.0004) a change that leaves the admin group without an enabled member: call it in the
 * change's transaction, after the change, under the account's identity lock.
 */
export async function keepAnAdministrator(trx: Kysely<Database>, accountId: string, what: string): Promise<void> {
  const group = await findGroup(trx, accountId, ADMIN_GROUP);
  if (group && (await enabledMemberIds(trx, group.id)).length === 0) throw forbidden(`${what}: the '${ADMIN_GROUP}' group must keep an enabled member`);
}

/**
 * Only the account's administrators may change the `admin` group (members, policies) or one of its members
 * (password, enabled, keys, deletion): a user delegated identity management (cachectl:users:*, …) could
 * otherwise make itself an administrator, or act as one. CDN.0004.
 */
export function onlyAdministrators(call: Call, what: string): void {
  if (!call.permissions.administrator) throw forbidden(`${what}: only members of the '${ADMIN_GROUP}' group may do this`);
}

/** Whether the user is in the account's `admin` group. */
export async function isAdministrator(db: Kysely<Database>, accountId: string, userId: string): Promise<boolean> {
  const group = await findGroup(db, accountId, ADMIN_GROUP);
  return group !== undefined && (await db.selectFrom('iam_group_members').select('user_id').where('group_id', '=', group.id).where('user_id', '=', userId).executeTakeFirst()) !== undefined;
}
