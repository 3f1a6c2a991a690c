// IAM users, groups, custom policies and attachments written straight into a store through the
// repositories, each change marked with bumpIdentityVersion in its transaction as the management
// service marks it: for tests and the benchmark that need sub-users before (or without) the management API.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.js';
import * as accounts from '../../src/store/repositories/account-repository.js';
import * as identity from '../../src/store/repositories/identity-repository.js';
import { NEW_KEY, newAccessKey } from '../../src/services/iam/key-service.js';
import { hashPassword, newSecret } from '../../src/services/password-hash.js';
import { parsePolicyDocument, policyJson } from '../../src/services/iam/policy-document.js';

const hex32 = () => crypto.randomBytes(16).toString('hex');

export interface SubUser {
  id: string;
  name: string;
  password: string;
  accessKey: string;
  secretKey: string;
}

/** A group of the account; answers its id. */
export async function addGroup(db: Kysely<Database>, accountId: string, name: string): Promise<string> {
  const id = hex32();
  await db.transaction().execute(async (trx) => {
    await identity.insertGroup(trx, { id, account_id: accountId, name, description: '', created_at: Date.now() });
    await identity.bumpIdentityVersion(trx);
  });
  return id;
}

/** A custom policy of the account (checked as the API checks it); answers its id. */
export async function addPolicy(db: Kysely<Database>, accountId: string, name: string, document: unknown): Promise<string> {
  const id = hex32();
  const text = JSON.stringify(policyJson(parsePolicyDocument(document)));
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('iam_policies').values({ id, account_id: accountId, name, description: '', document: text, created_at: Date.now() }).execute();
    await identity.bumpIdentityVersion(trx);
  });
  return id;
}

/** Attaches a policy (a custom policy's id or a system policy's id) to a group, for every project or one. */
export async function attach(db: Kysely<Database>, groupId: string, policyId: string, projectId = '*'): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await identity.attachPolicy(trx, groupId, policyId, projectId);
    await identity.bumpIdentityVersion(trx);
  });
}

/** Detaches it, as the management API's detach does. */
export async function detach(db: Kysely<Database>, groupId: string, policyId: string, projectId = '*'): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('iam_group_policies').where('group_id', '=', groupId).where('policy_id', '=', policyId).where('project_id', '=', projectId).execute();
    await identity.bumpIdentityVersion(trx);
  });
}

/** An enabled user of the account in these groups, with a password and one access key (stored unsealed). */
export async function addUser(db: Kysely<Database>, accountId: string, name: string, groupIds: string[] = []): Promise<SubUser> {
  const user: SubUser = { id: hex32(), name, password: newSecret(18), accessKey: newAccessKey(), secretKey: newSecret(30) };
  const passwordHash = await hashPassword(user.password);
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    await accounts.insertUser(trx, { id: user.id, account_id: accountId, name, password_hash: passwordHash, created_at: now, enabled: 1, description: '' });
    await accounts.insertAccessKey(trx, { ...NEW_KEY, access_key: user.accessKey, secret_key: user.secretKey, account_id: accountId, user_id: user.id, description: 'test key', created_at: now });
    for (const g of groupIds) await identity.addMember(trx, g, user.id);
    await identity.bumpIdentityVersion(trx);
  });
  return user;
}

/** Disables (or enables) an access key, as `PUT /cachectl/v1/keys/:ak {enabled}` does. */
export async function setKeyEnabled(db: Kysely<Database>, accessKey: string, enabled: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('access_keys').set({ enabled: enabled ? 1 : 0 }).where('access_key', '=', accessKey).execute();
    await identity.bumpIdentityVersion(trx);
  });
}

/** Disables (or enables) a user, as `PUT /cachectl/v1/users/:name {enabled}` does. */
export async function setUserEnabled(db: Kysely<Database>, userId: string, enabled: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ enabled: enabled ? 1 : 0 }).where('id', '=', userId).execute();
    await identity.bumpIdentityVersion(trx);
  });
}
