// Users, groups, policies, attachments, keys and enterprise projects written straight into the store, for
// tests and the benchmark that need identities before (or without) the management API. The same
// repository functions the services use; each change and its identity version bump in one transaction,
// as the management API makes them (every process drops its cached identities on the bump), then, when
// the store is an in-process server's, that server's caches are dropped at once.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.js';
import { insertAccessKey, insertUser } from '../../src/store/repositories/account-repository.js';
import { addMember, attachPolicy, bumpIdentityVersion, insertGroup } from '../../src/store/repositories/identity-repository.js';
import { detachPolicy, findGroup } from '../../src/store/repositories/group-repository.js';
import { findPolicy, insertPolicy } from '../../src/store/repositories/policy-repository.js';
import { findDomainByName } from '../../src/store/repositories/domain-repository.js';
import { insertProject, setDomainProject } from '../../src/store/repositories/project-repository.js';
import { updateAccessKey, updateUser } from '../../src/store/repositories/user-repository.js';
import { NEW_KEY, newAccessKey } from '../../src/services/iam/key-service.js';
import { hashPassword, newSecret } from '../../src/services/password-hash.js';
import { parsePolicyDocument, policyJson } from '../../src/services/iam/policy-document.js';
import { systemPolicy } from '../../src/services/iam/system-policies.js';
import type { TestServer } from './test-server.js';

/** The store to write to, and the in-process server (if any) whose caches must forget what they knew. */
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

/** One identity change: `write` and the version bump in one transaction; then this process's caches dropped. */
async function change<T>(iam: IamStore, write: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  const out = await iam.db.transaction().execute(async (trx) => {
    const result = await write(trx);
    await bumpIdentityVersion(trx);
    return result;
  });
  iam.auth?.invalidate();
  return out;
}

async function groupId(db: Kysely<Database>, accountId: string, group: string): Promise<string> {
  const found = (await findGroup(db, accountId, group)) ?? (await db.selectFrom('iam_groups').selectAll().where('account_id', '=', accountId).where('id', '=', group).executeTakeFirst());
  if (!found) throw new Error(`no group '${group}' in account ${accountId}`);
  return found.id;
}

/** A system policy's id (by its id or name), or a custom policy's of the account (by its name or id). */
async function policyId(db: Kysely<Database>, accountId: string, policy: string): Promise<string> {
  const id = systemPolicy(policy)?.id ?? (await findPolicy(db, accountId, policy))?.id;
  if (!id) throw new Error(`no policy '${policy}' in account ${accountId}`);
  return id;
}

async function newGroup(db: Kysely<Database>, accountId: string, name: string): Promise<string> {
  const id = hex32();
  await insertGroup(db, { id, account_id: accountId, name, description: '', created_at: Date.now() });
  return id;
}

async function newKey(db: Kysely<Database>, user: { id: string; accountId: string }): Promise<TestKey> {
  // Stored unsealed: the test servers keep secrets in the clear.
  const key = { accessKey: newAccessKey(), secretKey: newSecret(30) };
  await insertAccessKey(db, { ...NEW_KEY, access_key: key.accessKey, secret_key: key.secretKey, account_id: user.accountId, user_id: user.id, description: '', created_at: Date.now() });
  return key;
}

/** A group of the account; answers its id. */
export function addGroup(iam: IamStore, accountId: string, name: string): Promise<string> {
  return change(iam, (trx) => newGroup(trx, accountId, name));
}

/** A custom policy in Huawei's JSON form, checked and stored as the API stores it; answers its id. */
export function addPolicy(iam: IamStore, accountId: string, name: string, document: unknown): Promise<string> {
  const text = JSON.stringify(policyJson(parsePolicyDocument(document)));
  const id = hex32();
  return change(iam, async (trx) => {
    await insertPolicy(trx, { id, account_id: accountId, name, description: '', document: text, created_at: Date.now() });
    return id;
  });
}

/** Attaches a policy (system or custom, by name or id) to a group (by name or id), for one project or all ('*'). */
export function attach(iam: IamStore, accountId: string, group: string, policy: string, project = '*'): Promise<void> {
  return change(iam, async (trx) => attachPolicy(trx, await groupId(trx, accountId, group), await policyId(trx, accountId, policy), project));
}

/** Detaches it, as the management API's detach does. */
export function detach(iam: IamStore, accountId: string, group: string, policy: string, project = '*'): Promise<void> {
  return change(iam, async (trx) => {
    if (!(await detachPolicy(trx, await groupId(trx, accountId, group), await policyId(trx, accountId, policy), project))) throw new Error(`'${policy}' is not attached to '${group}'`);
  });
}

export interface UserInput {
  name: string;
  password?: string;
  /** Groups (by name or id) the user joins. */
  groups?: string[];
  /** Policies (system or custom, by name or id) attached to a group of the user's own, `<name>-group`... */
  policies?: string[];
  /** ...for this enterprise project ('*': all). */
  project?: string;
}

/** An enabled user of the account with a password and one access key, in its groups. */
export async function addUser(iam: IamStore, accountId: string, input: UserInput): Promise<TestUser> {
  const password = input.password ?? newSecret(18);
  const passwordHash = await hashPassword(password);
  return change(iam, async (trx) => {
    const user = { id: hex32(), accountId, name: input.name, password };
    await insertUser(trx, { id: user.id, account_id: accountId, name: user.name, password_hash: passwordHash, created_at: Date.now(), enabled: 1, description: '' });
    const groups: string[] = [];
    for (const g of input.groups ?? []) groups.push(await groupId(trx, accountId, g));
    if (input.policies) {
      const own = await newGroup(trx, accountId, `${input.name}-group`);
      for (const p of input.policies) await attachPolicy(trx, own, await policyId(trx, accountId, p), input.project ?? '*');
      groups.push(own);
    }
    for (const g of groups) await addMember(trx, g, user.id);
    return { ...user, ...(await newKey(trx, user)) };
  });
}

/** Another access key of the user. */
export function addKey(iam: IamStore, user: { id: string; accountId: string }): Promise<TestKey> {
  return change(iam, (trx) => newKey(trx, user));
}

/** Disables (or enables) an access key, as `PUT /cachectl/v1/keys/:ak {enabled}` does. */
export function setKeyEnabled(iam: IamStore, accessKey: string, enabled: boolean): Promise<void> {
  return change(iam, (trx) => updateAccessKey(trx, accessKey, { enabled: enabled ? 1 : 0 }));
}

/** Disables (or enables) a user, as `PUT /cachectl/v1/users/:name {enabled}` does. */
export function setUserEnabled(iam: IamStore, userId: string, enabled: boolean): Promise<void> {
  return change(iam, (trx) => updateUser(trx, userId, { enabled: enabled ? 1 : 0 }));
}

/** An enterprise project of the account; answers its id (a UUID, as the API makes them). */
export function addProject(iam: IamStore, accountId: string, name: string): Promise<string> {
  const id = crypto.randomUUID();
  return change(iam, async (trx) => {
    await insertProject(trx, { id, account_id: accountId, name, description: '', created_at: Date.now() });
    return id;
  });
}

/** Moves a domain (by name) into an enterprise project, as `PUT /cachectl/v1/domains/:name/project` does. */
export function moveDomain(iam: IamStore, name: string, project: string): Promise<void> {
  return change(iam, async (trx) => {
    const domain = await findDomainByName(trx, name);
    if (!domain) throw new Error(`no domain ${name}`);
    await setDomainProject(trx, domain.id, project);
  });
}
