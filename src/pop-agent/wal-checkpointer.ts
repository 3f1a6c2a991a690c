// WAL checkpoints off the event loop. Left to itself, SQLite checkpoints inside the commit that grows
// the WAL past 1,000 pages: it copies them into the database file and fsyncs both, synchronously, and
// the process answers nothing meanwhile (about 100 ms for the agent's record, every second or two
// under a purge load: the tail of every purge through the PoP). Instead, one worker thread per process
// checkpoints each registered database four times a second on a connection of its own
// (wal-checkpoint-worker.ts), and the owner's connection does not checkpoint on its own. Two
// exceptions: when writes never pause long enough for the WAL to start over and it grows large, the
// owner checkpoints once itself, which copies only the frames the worker has not (small next to what
// autocheckpoint would copy), after which its next write starts the WAL over; and should the worker
// fail, the owner's connection checkpoints for itself again.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { FromWorker, ToWorker } from './wal-checkpoint-worker.js';

export interface BackgroundCheckpoints {
  /** Call before closing the owner's connection: the worker's connection goes first. Idempotent. */
  release(): Promise<void>;
}

interface Owner {
  db: BetterSqlite3.Database;
  file: string;
  warn: (line: string) => void;
  released?: () => void;
  /** Said once: an owner whose own checkpoint failed. */
  failedOnce?: boolean;
}

const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

let worker: Worker | null = null;
let nextId = 1;
/** Releases waiting for the worker's answer: meanwhile the worker holds the process open. */
let waiting = 0;
const owners = new Map<number, Owner>();

const send = (w: Worker, m: ToWorker) => w.postMessage(m);
const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

function checkpointItself(owner: Owner, why: string): void {
  if (owner.db.open) owner.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  owner.warn(`background checkpoints of ${owner.file} stopped (${why}); its connection checkpoints itself again`);
}

/** The worker copied what it could and the WAL is still large: the owner copies the rest. */
function finishLarge(owner: Owner): void {
  if (!owner.db.open) return;
  try {
    // busy = 1 (the worker is in a pass of its own) is no error: the next report comes soon.
    owner.db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    if (owner.failedOnce) return;
    owner.failedOnce = true;
    owner.warn(`checkpoint of ${owner.file} failed: ${reason(err)}`);
  }
}

function release(id: number): void {
  const owner = owners.get(id);
  owners.delete(id);
  if (owner?.released) {
    owner.released();
    if (--waiting === 0) worker?.unref();
  }
  if (owners.size === 0 && worker) {
    const w = worker;
    worker = null;
    void w.terminate();
  }
}

function startWorker(): Worker {
  const w = new Worker(new URL('./wal-checkpoint-worker.js', import.meta.url));
  w.on('message', (m: FromWorker) => {
    if (m.op === 'removed') return release(m.id);
    const owner = owners.get(m.id);
    if (!owner || owner.released) return;
    if (m.op === 'failed') checkpointItself(owner, m.error);
    else finishLarge(owner);
  });
  w.on('error', (err) => {
    for (const owner of owners.values()) owner.warn(`the checkpoint worker failed: ${err.message}`);
  });
  w.on('exit', () => {
    if (worker !== w) return; // terminated on purpose
    worker = null;
    for (const [id, owner] of owners) {
      if (owner.released) release(id);
      else checkpointItself(owner, 'the checkpoint worker exited');
    }
  });
  // After the listeners: adding a 'message' listener refs the worker again, and its timer must not
  // keep a finished process alive.
  w.unref();
  return w;
}

/** Takes over the checkpoints of `db`, a WAL-mode connection to `file`. */
export function checkpointInBackground(db: BetterSqlite3.Database, file: string, warn: (line: string) => void): BackgroundCheckpoints {
  const w = (worker ??= startWorker());
  const id = nextId++;
  db.pragma('wal_autocheckpoint = 0');
  owners.set(id, { db, file, warn });
  send(w, { op: 'add', id, file: path.resolve(file) });
  let releasing: Promise<void> | undefined;
  return {
    release: () =>
      (releasing ??= new Promise<void>((resolve) => {
        const owner = owners.get(id);
        if (!owner || !worker) {
          owners.delete(id);
          return resolve();
        }
        owner.released = resolve;
        if (waiting++ === 0) worker.ref();
        send(worker, { op: 'remove', id });
      })),
  };
}

/** For tests: the worker stops as if it had crashed, and the owners checkpoint for themselves again. */
export async function stopCheckpointWorkerAbruptly(): Promise<void> {
  const w = worker;
  if (!w) return;
  const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
  await w.terminate();
  await exited;
}
