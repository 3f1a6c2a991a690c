// `cachectl backup FILE` and `cachectl restore FILE`: the embedded store's database file in the data
// directory (--data-dir, CACHECTL_DATA_DIR, ./data as for serve), copied while the server serves, and
// put back while none does. A PostgreSQL store is backed up with pg_dump (README, Backups).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { dataDirHolder } from '../data-dir-lock.js';
import { copySqlite, notACachectlDatabase } from '../store/sqlite/sqlite-backup.js';

const DB_FILE = 'cachectl.db';

function parse(command: string, args: string[]): { file: string; dbFile: string; dataDir: string } {
  const { values, positionals } = parseArgs({ args, options: { 'data-dir': { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new ConfigError(`usage: cachectl ${command} FILE [--data-dir D]`);
  // An empty variable counts as not set, as for serve.
  const dataDir = values['data-dir'] ?? (process.env.CACHECTL_DATA_DIR || './data');
  return { file: positionals[0], dataDir, dbFile: path.join(dataDir, DB_FILE) };
}

export async function runBackup(args: string[]): Promise<number> {
  const { file, dbFile } = parse('backup', args);
  if (!fs.existsSync(dbFile)) throw new ConfigError(`cachectl backup: no database at ${dbFile} (give --data-dir)`);
  const pages = await copySqlite(dbFile, file);
  console.log(`backed up ${dbFile} to ${file} (${pages} pages)`);
  return 0;
}

export async function runRestore(args: string[]): Promise<number> {
  const { file, dataDir, dbFile } = parse('restore', args);
  const holder = dataDirHolder(dataDir);
  if (holder !== undefined) throw new ConfigError(`cachectl restore: a server (pid ${holder}) is serving ${dataDir}; stop it first`);
  const why = notACachectlDatabase(file);
  if (why !== undefined) throw new ConfigError(`cachectl restore: ${file}: ${why}`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The database replaced is kept beside it, with its WAL (a WAL left next to the restored file would
  // be replayed into it).
  const kept = `${dbFile}.before-restore`;
  const moved: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    fs.rmSync(kept + suffix, { force: true });
    if (fs.existsSync(dbFile + suffix)) {
      fs.renameSync(dbFile + suffix, kept + suffix);
      moved.push(suffix);
    }
  }
  try {
    await copySqlite(file, dbFile);
  } catch (err) {
    // A failed copy (a full disk) puts the old database back: left without one, the next start would make a new, empty store.
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(dbFile + suffix, { force: true });
    for (const suffix of moved) fs.renameSync(kept + suffix, dbFile + suffix);
    throw err;
  }
  console.log(`restored ${file} to ${dbFile}${fs.existsSync(kept) ? ` (the database it replaced: ${kept})` : ''}; the next start migrates it`);
  return 0;
}
