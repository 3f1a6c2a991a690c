// The first start's admin account (AccountService.bootstrapAdmin): created once, its secrets returned to
// the process that created it only; processes starting together on one fresh PostgreSQL race, and one wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore, type Store } from '../../src/store/store.js';
import { AccountService } from '../../src/services/account-service.js';
import { listAccessKeys } from '../../src/store/repositories/account-repository.js';
import { freshDatabase } from '../support/postgres.js';

const ADMIN = { name: 'admin', user: 'admin', accessKey: 'BOOTSTRAPAK0000000001', secretKey: 'bootstrap-secret-key-000000000000' };

test('SQLite: the admin account is created on the first start only, with the configured keys', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bootstrap-'));
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 'cachectl.db'), synchronous: 'NORMAL' });
  try {
    const accounts = new AccountService(store.db);
    const first = await accounts.bootstrapAdmin(ADMIN);
    assert.equal(first?.account, 'admin');
    assert.equal(first?.accessKey, ADMIN.accessKey);
    assert.equal(first?.secretKey, ADMIN.secretKey);
    assert.equal(await accounts.bootstrapAdmin(ADMIN), undefined, 'a second start creates nothing and shows no secrets');
    const [account] = await accounts.listAccounts();
    assert.equal(account.name, 'admin');
    assert.equal(Boolean(account.is_admin), true);
    assert.deepEqual((await listAccessKeys(store.db)).map((k) => k.access_key), [ADMIN.accessKey]);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: four processes starting on one fresh store create the admin account once, and none fails', async () => {
  const database = await freshDatabase();
  const stores: Store[] = [];
  try {
    for (let i = 0; i < 4; i++) stores.push(await createStore({ kind: 'postgres', url: database.url, poolSize: 2 }));
    const results = await Promise.all(stores.map((s) => new AccountService(s.db).bootstrapAdmin(ADMIN)));
    assert.equal(results.filter((r) => r !== undefined).length, 1, 'exactly one process shows the secrets');
    assert.equal((await new AccountService(stores[0].db).listAccounts()).length, 1);
  } finally {
    for (const s of stores) await s.close();
    await database.drop();
  }
});
