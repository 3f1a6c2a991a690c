// Work claiming when several processes share one PostgreSQL. A URL in flight belongs to the process
// named in lease_owner while that process's row in `workers` is alive; a process renews only its own
// row, so holding 100,000 URLs costs one write per renewal. A process that dies stops renewing: any
// other one then reaps its URLs (lease_owner back to null) and claims them. SKIP LOCKED lets
// processes claim side by side without waiting on each other's rows.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { TaskUrlRow } from './task-rows.js';

// Literal, not bound: PostgreSQL uses a partial index only when it can prove the predicate.
const IN_FLIGHT = sql.raw(`status in ('waiting', 'refreshing', 'preheating')`);
// The database's clock, not each machine's: liveness must not depend on clock skew between hosts.
const DB_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Marks `owner` alive until now + leaseMs. false when its row was gone: it had been reaped. */
export async function heartbeat(db: Kysely<Database>, owner: string, leaseMs: number): Promise<boolean> {
  const r = await db.updateTable('workers').set({ alive_until: sql`${DB_NOW_MS} + ${leaseMs}` }).where('owner', '=', owner).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function registerWorker(db: Kysely<Database>, owner: string, leaseMs: number): Promise<void> {
  await sql`insert into workers (owner, alive_until) values (${owner}, ${DB_NOW_MS} + ${leaseMs})
    on conflict (owner) do update set alive_until = excluded.alive_until`.execute(db);
}

/**
 * Frees the URLs of every owner that is not alive (its row ran out, or it never had one) and forgets
 * the dead. Answers how many URLs were freed.
 */
export async function reapDeadWorkers(db: Kysely<Database>): Promise<number> {
  await sql`delete from workers where alive_until < ${DB_NOW_MS}`.execute(db);
  const { numAffectedRows } = await sql`
    update task_urls set lease_owner = null
    where ${IN_FLIGHT} and lease_owner is not null
      and lease_owner not in (select owner from workers)`.execute(db);
  return Number(numAffectedRows ?? 0);
}

/**
 * Takes up to `limit` unclaimed URLs for `owner`, oldest first; none while `owner` has no row in
 * `workers`: a process that was reaped (and does not know yet) must not take work in its dead name,
 * which the next reap would free again while it works on it.
 */
export async function claimUrls(db: Kysely<Database>, owner: string, limit: number): Promise<TaskUrlRow[]> {
  const { rows } = await sql<TaskUrlRow>`
    update task_urls set lease_owner = ${owner}
    where id in (
      select id from task_urls
      where ${IN_FLIGHT} and lease_owner is null
        and exists (select 1 from workers where owner = ${owner})
      order by id
      limit ${limit}
      for update skip locked)
    returning *`.execute(db);
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Gives `owner`'s URLs back and removes its row (a clean stop, or after it was reaped). */
export async function releaseWorker(db: Kysely<Database>, owner: string): Promise<void> {
  await sql`update task_urls set lease_owner = null where ${IN_FLIGHT} and lease_owner = ${owner}`.execute(db);
  await db.deleteFrom('workers').where('owner', '=', owner).execute();
}

/** Whether `owner`'s row is there and not run out (the database's clock). */
export async function leaseAlive(db: Kysely<Database>, owner: string): Promise<boolean> {
  const { rows } = await sql<{ alive: boolean }>`select alive_until >= ${DB_NOW_MS} as alive from workers where owner = ${owner}`.execute(db);
  return rows[0]?.alive === true;
}
