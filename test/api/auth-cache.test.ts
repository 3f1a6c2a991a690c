// The access-key cache under a flood of random keys (issue 11.8): unknown keys are remembered apart, so
// they never push out the keys in use (a cache cleared at 10,000 entries let them flush it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { AuthService } from '../../src/services/auth-service.js';
import * as accounts from '../../src/store/repositories/account-repository.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let ts: TestServer | undefined;
after(async () => ts?.close());

test('random access keys do not evict a key in use from the cache', async () => {
  ts = await startTestServer();
  const db = ts.server.store.db;
  const { accessKey } = ts.server.bootstrap!;
  const auth = new AuthService(db, { cacheMs: 600_000 });
  assert.equal((await auth.keyOwner(accessKey))?.accountId, ts.accountId);
  // Gone from the database: only the cache can still answer for it now.
  assert.equal(await accounts.deleteAccessKey(db, accessKey), true);
  for (let i = 0; i < 12_000; i++) assert.equal(await auth.keyOwner(crypto.randomBytes(10).toString('hex')), null);
  assert.equal((await auth.keyOwner(accessKey))?.accountId, ts.accountId, 'the key in use was flushed by random keys');
  // A change through the API (here the deletion) invalidates the caches, in this process at once.
  auth.invalidate();
  assert.equal(await auth.keyOwner(accessKey), null);
});
