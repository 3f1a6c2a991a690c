// Migration 0007 on a store written by the previous version: every account's users become its
// administrators (group 'admin' with CDN Administrator), their keys keep working with full rights,
// domains and tasks land in the default project '0'. On SQLite and on PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, type Kysely } from 'kysely';
import { migrationProvider, type DialectName } from '../../src/store/migrations.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { openPostgres } from '../../src/store/postgres/open-postgres.js';
import { freshDatabase } from '../support/postgres.js';
import { AuthService } from '../../src/services/auth-service.js';
import { ACTIONS } from '../../src/services/iam/actions.js';
import { CDN_ADMINISTRATOR_ID } from '../../src/services/iam/system-policies.js';

async function migrateTo(db: Kysely<any>, dialect: DialectName, target?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error } = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
  if (error) throw error;
}

async function checkMigration(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await migrateTo(db, dialect, '0006_domain_prefetch_timeout');
  const now = Date.now();
  for (const [id, name] of [
    ['a'.repeat(32), 'tenant-a'],
    ['b'.repeat(32), 'tenant-b'],
  ]) {
    await db.insertInto('accounts').values({ id, name, is_admin: 0, created_at: now }).execute();
    await db.insertInto('users').values({ id: `${id.slice(0, 30)}u1`, account_id: id, name: 'owner', password_hash: 'x', created_at: now }).execute();
    await db.insertInto('access_keys').values({ access_key: `AK${name.toUpperCase()}`, secret_key: 'secret-of-' + name, account_id: id, user_id: `${id.slice(0, 30)}u1`, description: '', created_at: now }).execute();
  }
  await db.insertInto('domains').values({ id: 'd1', account_id: 'a'.repeat(32), name: 'www.example.com', business_type: 'web', service_area: 'global', status: 'online', sources: '[]', create_time: now, modify_time: now }).execute();
  await db.insertInto('tasks').values({ account_id: 'a'.repeat(32), task_type: 'refresh', file_type: 'file', mode: 'all', status: 'task_done', total: 1, processing: 0, succeed: 1, failed: 0, create_time: now }).execute();

  await migrateTo(db, dialect);

  const groups = await db.selectFrom('iam_groups').selectAll().orderBy('account_id').execute();
  assert.deepEqual(
    groups.map((g) => [g.account_id, g.name]),
    [
      ['a'.repeat(32), 'admin'],
      ['b'.repeat(32), 'admin'],
    ],
  );
  const members = await db.selectFrom('iam_group_members').selectAll().execute();
  assert.equal(members.length, 2);
  const attached = await db.selectFrom('iam_group_policies').selectAll().execute();
  assert.deepEqual(new Set(attached.map((a) => `${a.policy_id}@${a.project_id}`)), new Set([`${CDN_ADMINISTRATOR_ID}@*`]));
  assert.equal(attached.length, 2);
  assert.equal((await db.selectFrom('domains').select('enterprise_project_id').executeTakeFirstOrThrow()).enterprise_project_id, '0');
  assert.equal((await db.selectFrom('tasks').select('enterprise_project_id').executeTakeFirstOrThrow()).enterprise_project_id, '0');
  const key = await db.selectFrom('access_keys').selectAll().where('access_key', '=', 'AKTENANT-A').executeTakeFirstOrThrow();
  assert.equal(key.enabled, 1);
  assert.equal(key.expires_at, null);

  // The old key still signs calls with every right of its account.
  const auth = new AuthService(db);
  const owner = await auth.keyOwner('AKTENANT-A');
  assert.ok(owner);
  assert.equal(owner.userName, 'owner');
  assert.equal(owner.permissions.decide(ACTIONS.deleteDomains, { domain: 'www.example.com', project: '0' }), 'allow');
  assert.equal(owner.permissions.decide(ACTIONS.createUser), 'allow');
}

test('0007 on SQLite: existing users become administrators, data goes to project 0', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-mig-'));
  const db = openSqlite({ file: path.join(dir, 'cachectl.db'), synchronous: 'NORMAL' });
  try {
    await checkMigration(db, 'sqlite');
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('0007 on PostgreSQL: the same', async () => {
  const scratch = await freshDatabase();
  const { db } = openPostgres({ url: scratch.url, poolSize: 2 });
  try {
    await checkMigration(db, 'postgres');
  } finally {
    await db.destroy();
    await scratch.drop();
  }
});
