// The fixture's server is on the store under test: the PostgreSQL run of these tests must not quietly be
// a second SQLite run, and its scratch database must be gone after the server closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { addDomain, startTestServer } from '../support/test-server.js';
import { TEST_STORE } from '../support/stores.js';
import { TEST_POSTGRES } from '../support/postgres.js';

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: TEST_POSTGRES });
  await c.connect();
  try {
    return (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

test(`the test server runs on the store under test (${TEST_STORE})`, async () => {
  const ts = await startTestServer({ 'builtin-edges': '0' });
  let database: string | undefined;
  try {
    assert.equal(ts.server.store.dialect, TEST_STORE);
    const id = await addDomain(ts.call, 'www.store.test', 9);
    const rows = await ts.server.store.db.selectFrom('domains').select('id').execute();
    assert.deepEqual(rows.map((r) => r.id), [id]);
    if (TEST_STORE === 'postgres') {
      database = (await ts.server.store.db.selectNoFrom((eb) => eb.fn<string>('current_database', []).as('name')).executeTakeFirstOrThrow()).name;
      assert.match(database, /^cachectl_/);
    } else {
      assert.ok(fs.existsSync(path.join(ts.dataDir, 'cachectl.db')));
    }
  } finally {
    await ts.close();
  }
  if (database !== undefined) assert.equal(await databaseExists(database), false, `${database} dropped on close`);
});
