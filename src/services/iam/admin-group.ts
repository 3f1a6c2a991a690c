// The safeguard of an account's `admin` group: it keeps at least one enabled member, whatever is changed.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { ADMIN_GROUP } from '../../store/repositories/identity-repository.js';
import { enabledMemberIds, findGroup } from '../../store/repositories/group-repository.js';
import { forbidden } from '../../errors.js';

/**
 * Refuses (CDN.0004) a change that leaves the admin group without an enabled member: call it in the
 * change's transaction, after the change, under the account's identity lock.
 */
export async function keepAnAdministrator(trx: Kysely<Database>, accountId: string, what: string): Promise<void> {
  const group = await findGroup(trx, accountId, ADMIN_GROUP);
  if (group && (await enabledMemberIds(trx, group.id)).length === 0) throw forbidden(`${what}: the '${ADMIN_GROUP}' group must keep an enabled member`);
}
