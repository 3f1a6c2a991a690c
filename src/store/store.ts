// One entry point to storage, whatever the database behind it.
import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { migrationProvider, type DialectName } from './migrations.js';
import { openSqlite, type SqliteOptions } from './sqlite/open-sqlite.js';
import { openPostgres, type PostgresOptions } from './postgres/open-postgres.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /**
   * A write whose loss in a power cut is harmless because it is redone after a restart (the engine's
   * URL outcomes: a lost outcome means the URL is purged again). The store may skip the flush to disk;
   * the next ordinary commit makes it durable anyway. It must be atomic by itself: on PostgreSQL `fn`
   * issues exactly one statement, which runs without BEGIN and COMMIT (two round trips fewer); on
   * SQLite `fn` runs in a transaction. For repository functions that are one statement on PostgreSQL.
   */
  recoverableStatement<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Connection pool usage, where the database has pools (PostgreSQL): read for metrics. */
  poolUsage?(): Array<{ pool: string; total: number; idle: number; waiting: number }>;
  close(): Promise<void>;
}

export type StoreConfig = ({ kind: 'sqlite' } & SqliteOptions) | ({ kind: 'postgres' } & PostgresOptions);

export async function createStore(config: StoreConfig): Promise<Store> {
  if (config.kind === 'postgres') return createPostgresStore(config);
  const db = openSqlite(config);
  const dialect: DialectName = 'sqlite';
  await migrate(db, dialect);
  const relax = config.synchronous === 'FULL';
  const recoverableStatement: Store['recoverableStatement'] = (fn) =>
    relax
      ? // Holding the connection keeps other transactions from running between the pragmas.
        db.connection().execute(async (conn) => {
          await sql`pragma synchronous = NORMAL`.execute(conn);
          try {
            return await conn.transaction().execute(fn);
          } finally {
            await sql`pragma synchronous = FULL`.execute(conn);
          }
        })
      : db.transaction().execute(fn);
  return {
    db,
    dialect,
    recoverableStatement,
    close: () => db.destroy(),
  };
}

async function createPostgresStore(config: PostgresOptions): Promise<Store> {
  const { db, pool } = openPostgres(config);
  await migrate(db, 'postgres');
  // Outcomes go through their own small pool whose sessions do not wait for the WAL flush: a crash
  // may lose the last of them, and those URLs are simply done again.
  const { db: relaxed, pool: relaxedPool } = openPostgres({ ...config, poolSize: 2, relaxed: true });
  const usage = (name: string, p: typeof pool) => ({ pool: name, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });
  return {
    db,
    dialect: 'postgres',
    recoverableStatement: (fn) => fn(relaxed),
    poolUsage: () => [usage('main', pool), usage('outcomes', relaxedPool)],
    close: async () => {
      await relaxed.destroy();
      await db.destroy();
    },
  };
}

/** Several processes may start at once: the migrator takes a lock in the database. */
async function migrate(db: Kysely<Database>, dialect: DialectName): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
}
