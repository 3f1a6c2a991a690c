// WAL checkpoints off the event loop. Left to itself, SQLite checkpoints inside the commit that grows
// the WAL past 1,000 pages: it copies them into the database file and fsyncs both, synchronously, and
// the process answers nothing meanwhile (about 100 ms here, every second or two under a purge load: the
// tail of every latency). Instead, one worker thread per process checkpoints each registered database
// four times a second on a connection of its own (wal-checkpoint-worker.ts), and the owner's
// connection does not. Two exceptions: when writes never pause long enough for the WAL to start over
// and it grows large, the owner checkpoints once itself, which copies only the frames the worker has
// not (cheap), after which its next write starts the WAL over; and should the worker fail, the owner
// checkpoints for itself again.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { FromWorker, ToWorker } from './wal-checkpoint-worker.js';

export interface BackgroundCheckpoints {
  /** Call before closing the owner's connection: the worker's connection goes first. */
  release(): Promise<void>;
}

interface Owner {
  db: BetterSqlite3.Database;
  file: string;
  released?: () => void;
}

const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

let worker: Worker | null = null;
let nextId = 1;
const owners = new Map<number, Owner>();

const send = (w: Worker, m: ToWorker) => w.postMessage(m);

function checkpointItself(owner: Owner, reason: string): void {
  if (owner.db.open) owner.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  console.error(`cachectl: background checkpoints of ${owner.file} stopped (${reason}); its connection checkpoints itself again`);
}

function release(id: number): void {
  const owner = owners.get(id);
  owners.delete(id);
  owner?.released?.();
  if (owners.size === 0 && worker) {
    const w = worker;
    worker = null;
    void w.terminate();
  }
}

function startWorker(): Worker {
  const w = new Worker(new URL('./wal-checkpoint-worker.js', import.meta.url));
  // The worker's timer must not keep a finished process alive.
  w.unref();
  w.on('message', (m: FromWorker) => {
    if (m.op === 'removed') return release(m.id);
    const owner = owners.get(m.id);
    if (!owner || owner.released) return;
    if (m.op === 'failed') return checkpointItself(owner, m.error);
    try {
      if (owner.db.open) owner.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy with the worker's own pass: the next report tries again.
    }
  });
  w.on('error', (err) => console.error(`cachectl: the checkpoint worker failed: ${err.message}`));
  w.on('exit', () => {
    if (worker !== w) return; // terminated on purpose
    worker = null;
    for (const [id, owner] of owners) {
      if (owner.released) release(id);
      else checkpointItself(owner, 'the checkpoint worker exited');
    }
  });
  return w;
}

/** Takes over the checkpoints of `db`, a WAL-mode connection to `file`. */
export function checkpointInBackground(db: BetterSqlite3.Database, file: string): BackgroundCheckpoints {
  db.pragma('wal_autocheckpoint = 0');
  const id = nextId++;
  owners.set(id, { db, file });
  const w = (worker ??= startWorker());
  send(w, { op: 'add', id, file: path.resolve(file) });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        const owner = owners.get(id);
        if (!owner || !worker) {
          owners.delete(id);
          return resolve();
        }
        owner.released = resolve;
        send(worker, { op: 'remove', id });
      }),
  };
}
