// The worker thread behind wal-checkpointer.ts: one connection of its own per registered database,
// a PASSIVE checkpoint of each every interval. PASSIVE neither waits for nor blocks the owner's
// readers and writers; its page copies and fsyncs happen here, off the owner's event loop.
// The WAL starts over only when a write begins with every frame copied; writes that land during a
// pass prevent that, so a pass repeats while frames came in meanwhile (each repeat copies only
// those), and a WAL that still grows past LARGE_FRAMES is reported for the owner to finish.
// The WAL file is not truncated when it starts over: its size is the most it ever held.
import { parentPort } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

export type ToWorker = { op: 'add'; id: number; file: string } | { op: 'remove'; id: number };
export type FromWorker = { op: 'removed'; id: number } | { op: 'failed'; id: number; error: string } | { op: 'large'; id: number; frames: number };

const INTERVAL_MS = 250;
const MAX_REPEATS = 4;
/** 16 MiB of 4 KiB pages: four times what SQLite lets a WAL reach before it checkpoints by itself. */
const LARGE_FRAMES = 4096;

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-worker runs as a worker thread');

const open = new Map<number, BetterSqlite3.Database>();
const say = (m: FromWorker) => port.postMessage(m);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

port.on('message', (m: ToWorker) => {
  if (m.op === 'add') {
    try {
      open.set(m.id, new BetterSqlite3(m.file, { fileMustExist: true }));
    } catch (err) {
      say({ op: 'failed', id: m.id, error: message(err) });
    }
    return;
  }
  const db = open.get(m.id);
  open.delete(m.id);
  try {
    db?.close();
  } catch {
    // Closing only releases this connection; the owner's data is not at stake.
  }
  say({ op: 'removed', id: m.id });
});

setInterval(() => {
  for (const [id, db] of open) {
    try {
      // `log` is the WAL's length when a pass began, `checkpointed` what is copied when it ended. The
      // WAL is wholly copied (for the owner's next write to start it over) once a pass finds no new
      // frames and copied them all; a reader's older snapshot can hold a pass short of that.
      let frames = -1;
      for (let pass = 0; pass <= MAX_REPEATS; pass++) {
        const [r] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
        if (r.log === frames && r.checkpointed === r.log) break;
        frames = r.log;
      }
      if (frames > LARGE_FRAMES) say({ op: 'large', id, frames });
    } catch (err) {
      open.delete(id);
      try {
        db.close();
      } catch {
        // as above
      }
      say({ op: 'failed', id, error: message(err) });
    }
  }
}, INTERVAL_MS);
