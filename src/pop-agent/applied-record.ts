// At most once per node: before a target is applied on a node, its key (node, kind, URL ref) is
// claimed in the agent's own SQLite file; after, the result is stored under it. A command delivered
// again (a redelivery, or another control-plane process resuming the URL) finds the key and gets the
// stored result instead of a second application. The file outlives agent restarts (WAL, synced on
// commit with NORMAL: a process crash loses nothing; a power cut may lose the last claims). One
// transaction per message to claim, one to store the results, keeps it cheap: tens of thousands of
// targets per second. Its checkpoints run on a worker thread: a checkpoint on the agent's event loop
// held up every command of the PoP.
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { EdgeResult } from '../edge/edge-driver.js';
import { checkpointInBackground, type BackgroundCheckpoints } from './wal-checkpointer.js';

export type Claim = { kind: 'apply' } | { kind: 'done'; result: EdgeResult } | { kind: 'interrupted' };

const KEEP_MS = 86_400_000;

export class AppliedRecord {
  private readonly db: BetterSqlite3.Database;
  private readonly insert: BetterSqlite3.Statement;
  private readonly read: BetterSqlite3.Statement;
  private readonly store: BetterSqlite3.Statement;
  private readonly free: BetterSqlite3.Statement;
  private readonly prune: BetterSqlite3.Statement;
  private readonly checkpoints: BackgroundCheckpoints;
  private lastPrune = 0;

  constructor(file: string, warn: (line: string) => void) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new BetterSqlite3(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('create table if not exists applied (key text primary key, result text, at integer not null)');
    this.db.exec('create index if not exists applied_at on applied (at)');
    this.insert = this.db.prepare('insert or ignore into applied (key, result, at) values (?, null, ?)');
    this.read = this.db.prepare('select result from applied where key = ?');
    this.store = this.db.prepare('update applied set result = ? where key = ?');
    this.free = this.db.prepare('delete from applied where key = ?');
    this.prune = this.db.prepare('delete from applied where at < ?');
    this.checkpoints = checkpointInBackground(this.db, file, warn);
  }

  /** Claims every key at once (one transaction); per key: apply it, or what an earlier delivery left. */
  claim(keys: string[]): Claim[] {
    const now = Date.now();
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      this.prune.run(now - KEEP_MS);
    }
    return this.db.transaction(() =>
      keys.map((key): Claim => {
        if (this.insert.run(key, now).changes === 1) return { kind: 'apply' };
        const row = this.read.get(key) as { result: string | null } | undefined;
        // Claimed and never finished: the agent stopped while applying. It may have been applied.
        return row?.result ? { kind: 'done', result: JSON.parse(row.result) as EdgeResult } : { kind: 'interrupted' };
      }),
    )();
  }

  finish(entries: Array<{ key: string; result: EdgeResult }>): void {
    this.db.transaction(() => {
      for (const { key, result } of entries) {
        // A retryable failure was not applied: free the key so that the engine's retry can apply it.
        if (!result.ok && result.retryable) this.free.run(key);
        else this.store.run(JSON.stringify(result), key);
      }
    })();
  }

  async close(): Promise<void> {
    await this.checkpoints.release();
    this.db.close();
  }
}
