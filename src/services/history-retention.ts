// The task history's retention (--history-retention-days): finished tasks older than it go with their
// URLs, account by account, in batches small enough not to hold up intake.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { pruneTaskHistory } from '../store/repositories/task-history-prune.js';
import { BackgroundPruner } from './background-pruner.js';

/** Tasks per transaction (fewer when they have many URLs). */
const PRUNE_BATCH = 500;

export function historyRetention(db: Kysely<Database>, retentionDays: number, log?: (msg: string, err?: unknown) => void): BackgroundPruner<string> {
  return new BackgroundPruner<string>({
    retentionDays,
    batchSize: PRUNE_BATCH,
    scopes: async () => (await db.selectFrom('accounts').select('id').orderBy('id').execute()).map((a) => a.id),
    batch: (before, accountId) => pruneTaskHistory(db, accountId!, before, PRUNE_BATCH),
    what: 'the task history',
    log,
  });
}
