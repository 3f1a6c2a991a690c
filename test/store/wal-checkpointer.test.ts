// Checkpoints on the worker thread: the owner's connection never checkpoints, yet its WAL stays
// bounded, and after release and close nothing is left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { checkpointInBackground } from '../../src/store/sqlite/wal-checkpointer.js';

const PAGE = 4096;

function openWal(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table if not exists t (id integer primary key, v blob)');
  return db;
}

/** `commits` commits of `bytes` each, `pauseMs` apart (0: a turn of the event loop); answers the bytes written. */
async function write(db: BetterSqlite3.Database, commits: number, bytes: number, pauseMs: number): Promise<number> {
  const insert = db.prepare('insert into t (v) values (?)');
  for (let c = 0; c < commits; c++) {
    insert.run(Buffer.alloc(bytes, c % 256));
    await (pauseMs > 0 ? sleep(pauseMs) : new Promise((resolve) => setImmediate(resolve)));
  }
  return commits * bytes;
}

const count = (db: BetterSqlite3.Database) => (db.prepare('select count(*) as n from t').get() as { n: number }).n;

test('the worker keeps the WAL of a connection that never checkpoints bounded', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-wal-'));
  const file = path.join(dir, 'x.db');
  const db = openWal(file);
  const background = checkpointInBackground(db, file);
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
  // 24 MiB in 64 KiB commits, a few milliseconds apart: left to itself the WAL would hold all of it.
  const written = await write(db, 384, 64 * 1024, 5);
  const walBytes = fs.statSync(`${file}-wal`).size;
  assert.ok(walBytes < written / 3, `WAL ${walBytes} bytes after ${written} written`);
  assert.equal(count(db), 384);

  await background.release();
  db.close();
  // The last connection to close checkpoints and removes the WAL: the worker's went first.
  assert.equal(fs.existsSync(`${file}-wal`), false);
  const again = new BetterSqlite3(file, { readonly: true });
  assert.equal(count(again), 384);
  assert.ok(fs.statSync(file).size >= written - PAGE);
  again.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('writes that never leave the WAL fully copied still do not grow it without bound', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-wal-'));
  const file = path.join(dir, 'x.db');
  const db = openWal(file);
  const background = checkpointInBackground(db, file);
  // 16 KiB commits a millisecond apart: some commit always lands during a pass, so the worker alone
  // never leaves the WAL wholly copied (measured: it grew past all 48 MiB written); the owner copies
  // the last frames itself once the WAL is large.
  const written = await write(db, 3000, 16 * 1024, 1);
  const walBytes = fs.statSync(`${file}-wal`).size;
  assert.ok(walBytes < written * 0.75, `WAL ${walBytes} bytes after ${written} written`);
  assert.equal(count(db), 3000);
  await background.release();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('several databases share the worker, and one released leaves the others checkpointed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-wal-'));
  const files = ['a.db', 'b.db'].map((f) => path.join(dir, f));
  const dbs = files.map(openWal);
  const handles = dbs.map((db, i) => checkpointInBackground(db, files[i]));
  await handles[0].release();
  dbs[0].close();
  const written = await write(dbs[1], 256, 64 * 1024, 5);
  const walBytes = fs.statSync(`${files[1]}-wal`).size;
  assert.ok(walBytes < written / 3, `WAL ${walBytes} bytes after ${written} written`);
  await handles[1].release();
  dbs[1].close();
  fs.rmSync(dir, { recursive: true, force: true });
});
