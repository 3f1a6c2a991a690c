// IAM users for the audit tests, made through the store's repository functions (the management API is
// another part of the work): a user with a password, an access key, and a group holding a system
// policy (or the account's `admin` group).
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.js';
import type { RunningServer } from '../../src/server.js';
import { insertAccessKey, insertUser } from '../../src/store/repositories/account-repository.js';
import { ADMIN_GROUP, addMember, attachPolicy, bumpIdentityVersion, insertGroup } from '../../src/store/repositories/identity-repository.js';
import { NEW_KEY } from '../../src/services/iam/key-service.js';
import { hashPassword } from '../../src/services/password-hash.js';

export interface TestUser {
  id: string;
  name: string;
  password: string;
  accessKey: string;
  secretKey: string;
}

const hex = (n: number) => crypto.randomBytes(n).toString('hex');

/** The id of the account's group of that name, made (with `policyId` attached) when missing. */
async function groupOf(db: Kysely<Database>, accountId: string, name: string, policyId: string | null): Promise<string> {
  const found = await db.selectFrom('iam_groups').select('id').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  if (found) return found.id;
  const id = hex(16);
  await insertGroup(db, { id, account_id: accountId, name, description: '', created_at: Date.now() });
  if (policyId !== null) await attachPolicy(db, id, policyId, '*');
  return id;
}

/**
 * A user of the account in the `admin` group (policy 'admin') or in a group holding that system
 * policy; every process sees it at once (this one's caches are dropped, others follow the version).
 */
export async function addTestUser(server: RunningServer, accountId: string, name: string, policy: 'admin' | string): Promise<TestUser> {
  const db = server.store.db;
  const user: TestUser = { id: hex(16), name, password: `pw-${hex(8)}`, accessKey: hex(10).toUpperCase(), secretKey: hex(20) };
  await insertUser(db, { id: user.id, account_id: accountId, name, password_hash: await hashPassword(user.password), created_at: Date.now(), enabled: 1, description: '' });
  await insertAccessKey(db, { ...NEW_KEY, access_key: user.accessKey, secret_key: user.secretKey, account_id: accountId, user_id: user.id, description: 'test', created_at: Date.now() });
  const group = policy === 'admin' ? await groupOf(db, accountId, ADMIN_GROUP, null) : await groupOf(db, accountId, `holders of ${policy}`, policy);
  await addMember(db, group, user.id);
  await bumpIdentityVersion(db);
  server.auth.invalidate();
  return user;
}

/** The audit rows of the server's store, oldest first. */
export async function auditRows(server: RunningServer) {
  return server.store.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
}
