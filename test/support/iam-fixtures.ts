// Users, groups, policies, enterprise projects and keys written straight into the store, for tests that
// need identities before (or without) the management API: the same repository functions the services
// use, then the identity version bumped and the server's caches dropped, so the next call sees the change.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.js';
import { insertAccessKey, insertUser } from '../../src/store/repositories/account-repository.js';
import { addMember, attachPolicy, bumpIdentityVersion, insertGroup } from '../../src/store/repositories/identity-repository.js';
import { NEW_KEY, newAccessKey } from '../../src/services/iam/key-service.js';
import { hashPassword, newSecret } from '../../src/services/password-hash.js';
import { parsePolicyDocument } from '../../src/services/iam/policy-document.js';
import { systemPolicy } from '../../src/services/iam/system-policies.js';
import type { TestServer } from './test-server.js';

/** The store to write to, and the server whose caches must forget what they knew. */
export interface IamStore {
  db: Kysely<Database>;
  auth?: { invalidate(): void };
}

export const iamStoreOf = (s: TestServer): IamStore => ({ db: s.server.store.db, auth: s.server.auth });

export interface TestKey {
  accessKey: string;
  secretKey: string;
}

export interface TestUser extends TestKey {
  id: string;
  accountId: string;
  name: string;
  password: string;
}

const hex32 = () => crypto.randomBytes(16).toString('hex');

async function changed(iam: IamStore): Promise<void> {
  await bumpIdentityVersion(iam.db);
  iam.auth?.invalidate();
}

async function groupId(iam: IamStore, accountId: string, group: string): Promise<string> {
  const row = await iam.db.selectFrom('iam_groups').select('id').where('account_id', '=', accountId).where((eb) => eb.or([eb('name', '=', group), eb('id', '=', group)])).executeTakeFirst();
  if (!row) throw new Error(`no group '${group}' in account ${accountId}`);
  return row.id;
}

export async function addGroup(iam: IamStore, accountId: string, name: string): Promise<string> {
  const id = hex32();
  await insertGroup(iam.db, { id, account_id: accountId, name, description: '', created_at: Date.now() });
  await changed(iam);
  return id;
}

/** A user with one access key, in the named groups (by name or id). */
export async function addUser(iam: IamStore, accountId: string, input: { name: string; groups?: string[]; password?: string }): Promise<TestUser> {
  const id = hex32();
  const password = input.password ?? newSecret(18);
  const now = Date.now();
  await insertUser(iam.db, { id, account_id: accountId, name: input.name, password_hash: await hashPassword(password), created_at: now, enabled: 1, description: '' });
  for (const g of input.groups ?? []) await addMember(iam.db, await groupId(iam, accountId, g), id);
  const user = { id, accountId, name: input.name, password };
  return { ...user, ...(await addKey(iam, user)) };
}

export async function addKey(iam: IamStore, user: { id: string; accountId: string }): Promise<TestKey> {
  const accessKey = newAccessKey();
  const secretKey = newSecret(30);
  await insertAccessKey(iam.db, { ...NEW_KEY, access_key: accessKey, secret_key: secretKey, account_id: user.accountId, user_id: user.id, description: '', created_at: Date.now() });
  await changed(iam);
  return { accessKey, secretKey };
}

/** A custom policy (Huawei's JSON form, checked as the API would check it); answers its id. */
export async function addPolicy(iam: IamStore, accountId: string, name: string, document: object): Promise<string> {
  parsePolicyDocument(document);
  const id = hex32();
  await iam.db.insertInto('iam_policies').values({ id, account_id: accountId, name, description: '', document: JSON.stringify(document), created_at: Date.now() }).execute();
  await changed(iam);
  return id;
}

/** Attaches a policy (a custom one's id, or a system policy's id or name) to a group, for one project or all ('*'). */
export async function attach(iam: IamStore, accountId: string, group: string, policy: string, project = '*'): Promise<void> {
  await attachPolicy(iam.db, await groupId(iam, accountId, group), systemPolicy(policy)?.id ?? policy, project);
  await changed(iam);
}

/** An enterprise project of the account; answers its id (a UUID, as the API makes them). */
export async function addProject(iam: IamStore, accountId: string, name: string): Promise<string> {
  const id = crypto.randomUUID();
  await iam.db.insertInto('projects').values({ id, account_id: accountId, name, description: '', created_at: Date.now() }).execute();
  await changed(iam);
  return id;
}

/** Moves a domain into an enterprise project (the admin call helper A's API makes). */
export async function moveDomain(iam: IamStore, name: string, project: string): Promise<void> {
  const r = await iam.db.updateTable('domains').set({ enterprise_project_id: project }).where('name', '=', name).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new Error(`no domain ${name}`);
}
