// What readiness asks of the store: that it answers at all, and that every migration this build knows has run.
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { migrationProvider, type DialectName } from './migrations.js';

/** A trivial round trip to the database. */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The migrations of this build not recorded as run (Kysely's own table, read without the introspection Migrator does). */
export async function pendingMigrations(db: Kysely<Database>, dialect: DialectName): Promise<string[]> {
  const known = Object.keys(await migrationProvider(dialect).getMigrations());
  const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const done = new Set(rows.map((r) => r.name));
  return known.filter((name) => !done.has(name));
}
