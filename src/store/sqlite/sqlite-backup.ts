// Copies of the embedded store: an online backup (SQLite's backup API, a consistent snapshot while the
// server keeps writing), and a restore that checks the copy is a cachectl database before it replaces
// the store. Both write a temporary file beside the target and rename it: no half-written target.
import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { createPrivateFile } from '../../private-files.js';

// After the first step of 100 pages, the rest in one step: a step reads one snapshot (WAL readers do
// not block the writer), and a copy in many steps would restart whenever the server commits between two.
const ALL_PAGES = 0x7fffffff;

/** Copies the database `from` to `to` (created 0600, replaced if present); answers its pages. */
export async function copySqlite(from: string, to: string): Promise<number> {
  const source = new BetterSqlite3(from, { fileMustExist: true });
  const partial = `${to}.partial`;
  try {
    source.pragma('busy_timeout = 5000');
    fs.rmSync(partial, { force: true });
    createPrivateFile(partial);
    const { totalPages } = await source.backup(partial, { progress: () => ALL_PAGES });
    fs.renameSync(partial, to);
    return totalPages;
  } finally {
    source.close();
    fs.rmSync(partial, { force: true });
  }
}

/** Why `file` is not a cachectl database, or undefined when it is one (whole, with its migrations). */
export function notACachectlDatabase(file: string): string | undefined {
  let header: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    header = Buffer.alloc(16);
    fs.readSync(fd, header, 0, 16, 0);
    fs.closeSync(fd);
  } catch (err) {
    return (err as Error).message;
  }
  if (header.toString('latin1') !== 'SQLite format 3\0') return 'not an SQLite database';
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
    const missing = ['kysely_migration', 'accounts', 'tasks', 'task_urls'].filter((t) => !tables.has(t));
    if (missing.length > 0) return `not a cachectl database (no table ${missing.join(', ')})`;
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') return `damaged: ${String(check)}`;
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    db.close();
  }
}
