// Request counts per account, kind and second, shared by every process on the store.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

/** Counts one request in this second's window; answers the window's count including it. */
export async function countRequest(db: Kysely<Database>, accountId: string, kind: string, second: number): Promise<number> {
  const row = await db
    .insertInto('rate_windows')
    .values({ account_id: accountId, kind, second, n: 1 })
    .onConflict((oc) => oc.columns(['account_id', 'kind', 'second']).doUpdateSet({ n: sql`rate_windows.n + 1` }))
    .returning('n')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Drops windows older than `before` (epoch seconds). */
export async function pruneRequestWindows(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom('rate_windows').where('second', '<', before).execute();
}
