// One entry point to storage, whatever the database behind it.
import { Migrator, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { migrationProvider, type DialectName } from './migrations.js';
import { openSqlite, type SqliteOptions } from './sqlite/open-sqlite.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  close(): Promise<void>;
}

export type StoreConfig = { kind: 'sqlite' } & SqliteOptions;

export async function createStore(config: StoreConfig): Promise<Store> {
  const db = openSqlite(config);
  const dialect: DialectName = 'sqlite';
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { db, dialect, close: () => db.destroy() };
}
