// The embedded default: one SQLite file in WAL mode.
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Database } from '../database.js';
import { withStatementCache } from './statement-cache.js';

export interface SqliteOptions {
  file: string;
  /**
   * FULL (default) fsyncs every commit, so a 200 survives a power cut; the task intake batches
   * concurrent creates into one commit to keep that cheap. NORMAL survives a process crash only.
   */
  synchronous: 'FULL' | 'NORMAL';
}

export function openSqlite(options: SqliteOptions): Kysely<Database> {
  fs.mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
  const sqlite = new BetterSqlite3(options.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.synchronous}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // A 16 MiB page cache and no memory map (mapped pages count in the resident memory): the history
  // indexes are what must stay warm, and the OS page cache holds the rest.
  sqlite.pragma('cache_size = -16384');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite as unknown as SqliteDatabase) }) });
}
