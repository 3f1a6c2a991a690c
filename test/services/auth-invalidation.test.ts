// An identity change that lands while a process is loading that identity: the load read the old row,
// the watch then dropped the caches, and the load finished afterwards. Its answer may serve the call that
// raced the change, but must not be cached: it would outlive the invalidation (a key for 5 s, a user's
// permissions until the next identity change anywhere) and break "refused within one second".
// The load is caught mid-way by holding one query's result (the query has run) in a Kysely plugin; the
// change is made through a second connection to the same database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { AccountService } from '../../src/services/account-service.js';
import { Call } from '../../src/services/iam/call.js';
import { ACTIONS } from '../../src/services/iam/actions.js';
import { AuthService } from '../../src/services/auth-service.js';
import { tokenDigest } from '../../src/services/password-hash.js';
import * as accounts from '../../src/store/repositories/account-repository.js';
import { createStore, type Store } from '../../src/store/store.js';
import { addGroup, addPolicy, addUser, attach, detach, setKeyEnabled, setUserEnabled, type IamStore, type TestUser } from '../support/iam-fixtures.js';
import { freshDatabase } from '../support/postgres.js';
import { TEST_STORE } from '../support/stores.js';

/** Holds the result of the nth query run through it until `release`; `held` resolves once it does. */
class HoldNthResult implements KyselyPlugin {
  private seen = 0;
  private releaseHeld: () => void = () => undefined;
  private markHeld: () => void = () => undefined;
  readonly held = new Promise<void>((resolve) => (this.markHeld = resolve));

  constructor(private readonly n: number) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (++this.seen === this.n) {
      this.markHeld();
      await new Promise<void>((resolve) => (this.releaseHeld = resolve));
    }
    return args.result;
  }

  release(): void {
    this.releaseHeld();
  }
}

/** Two connections (pools) to one fresh database of the store under test: one to load through, one to change it. */
async function twoConnections(): Promise<{ loader: Store; changer: Store; close(): Promise<void> }> {
  if (TEST_STORE === 'postgres') {
    const database = await freshDatabase();
    const loader = await createStore({ kind: 'postgres', url: database.url, poolSize: 2 });
    const changer = await createStore({ kind: 'postgres', url: database.url, poolSize: 2 });
    return { loader, changer, close: async () => (await loader.close(), await changer.close(), await database.drop()) };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-auth-invalidation-'));
  const file = path.join(dir, 'cachectl.db');
  const loader = await createStore({ kind: 'sqlite', file, synchronous: 'NORMAL' });
  const changer = await createStore({ kind: 'sqlite', file, synchronous: 'NORMAL' });
  return { loader, changer, close: async () => (await loader.close(), await changer.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

const stores = await twoConnections();
after(() => stores.close());
const db = stores.changer.db;
// The changes come through the second connection, as from another process: no in-process cache to drop.
const iam: IamStore = { db };
const account = await new AccountService(db).createAccount(Call.internal('', ACTIONS.createAccount), { name: 'acme', user: 'root' });
const group = await addGroup(iam, account.accountId, 'readers');
const policy = await addPolicy(iam, account.accountId, 'read-history', { Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:configuration:queryCacheHistoryTask'] }] });
await attach(iam, account.accountId, group, policy);

/**
 * Starts `load` on a fresh AuthService whose nth query result is held; makes `change` and invalidates
 * (as the identity watch does) while it is held; then lets the load finish. Answers the service and what
 * the raced load answered.
 */
async function raced<T>(n: number, load: (auth: AuthService) => Promise<T>, change: () => Promise<void>): Promise<{ auth: AuthService; answer: T }> {
  const hold = new HoldNthResult(n);
  const auth = new AuthService(stores.loader.db.withPlugin(hold), { cacheMs: 600_000 });
  const pending = load(auth);
  await hold.held;
  await change();
  auth.invalidate();
  hold.release();
  return { auth, answer: await pending };
}

test('a key disabled while its owner was being loaded is refused on the next call', async () => {
  const user: TestUser = await addUser(iam, account.accountId, { name: 'ci', groups: [group] });
  // Query 1 reads the key row.
  const { auth, answer } = await raced(1, (a) => a.keyOwner(user.accessKey), () => setKeyEnabled(iam, user.accessKey, false));
  assert.equal(answer?.refusal, undefined, 'the raced load read the key before the change (else this test proves nothing)');
  assert.equal((await auth.keyOwner(user.accessKey))?.refusal, 'disabled');
});

test('a policy detached while the user’s permissions were being compiled is not allowed on the next call', async () => {
  const user = await addUser(iam, account.accountId, { name: 'auditor', groups: [group] });
  const history = { name: 'cdn:configuration:queryCacheHistoryTask', domain: false, read: true };
  // Query 1 reads the user's groups, query 2 the group's attachments.
  const { auth, answer } = await raced(2, (a) => a.permissionsOf(user.id), () => detach(iam, account.accountId, group, policy));
  assert.equal(answer.decide(history), 'allow', 'the raced load read the attachment before the change');
  assert.equal((await auth.permissionsOf(user.id)).decide(history), 'action');
  await attach(iam, account.accountId, group, policy);
});

test('a user disabled while its token was being checked is refused on the next call', async () => {
  const user = await addUser(iam, account.accountId, { name: 'ops', groups: [group] });
  const token = `MII-test-token-${user.id}`;
  await accounts.insertToken(db, { digest: tokenDigest(token), account_id: account.accountId, user_id: user.id, expires_at: Date.now() + 3600_000 });
  // Query 1 reads the token, 2 the account, 3 the user.
  const { auth, answer } = await raced(3, (a) => a.tokenCaller(token), () => setUserEnabled(iam, user.id, false));
  assert.equal(answer?.userId, user.id, 'the raced load read the user before the change');
  assert.equal(await auth.tokenCaller(token), null);
});
