// Daily use of the refresh and prefetch quotas, per account.
import { sql, type Kysely } from 'kysely';
import type { Database, QuotaUsageTable } from '../database.js';
import { isPostgres } from '../dialect-of.js';
import { prepared } from '../postgres/prepared-statements.js';
import { findAccountsByIds, type Account } from './account-repository.js';

export type QuotaType = 'file_refresh' | 'dir_refresh' | 'preheat';

export async function usageOf(db: Kysely<Database>, accountId: string, day: string): Promise<Record<QuotaType, number>> {
  const rows = await db.selectFrom('quota_usage').select(['type', 'used']).where('account_id', '=', accountId).where('day', '=', day).execute();
  const out: Record<QuotaType, number> = { file_refresh: 0, dir_refresh: 0, preheat: 0 };
  for (const r of rows) if (r.type in out) out[r.type as QuotaType] = Number(r.used);
  return out;
}

/**
 * What a quota booking reads: the accounts (their limits) and their use on `day`. On PostgreSQL the
 * account rows stay locked until the caller's transaction ends, so that processes sharing the database
 * book one after the other: two cannot both take the last of a quota. In id order, so two
 * transactions never wait on each other in a cycle. The use is read by a second statement, after the
 * lock is held: one statement would read it with the snapshot taken before waiting for the lock, and
 * miss what the transaction it waited for had booked (the concurrent-booking test shows it).
 * SQLite has one writer at a time anyway.
 */
export async function lockBookingState(db: Kysely<Database>, accountIds: string[], day: string): Promise<{ accounts: Account[]; used: Map<string, Record<QuotaType, number>> }> {
  if (accountIds.length === 0) return { accounts: [], used: new Map() };
  const accounts = isPostgres(db)
    ? (await sql<Account>`${prepared} select * from accounts where id = any(${accountIds}::text[]) order by id for update`.execute(db)).rows
    : await findAccountsByIds(db, accountIds);
  return { accounts, used: await usageOfAccounts(db, accountIds, day) };
}

/** Today's use of several accounts at once. */
async function usageOfAccounts(db: Kysely<Database>, accountIds: string[], day: string): Promise<Map<string, Record<QuotaType, number>>> {
  const out = new Map<string, Record<QuotaType, number>>(accountIds.map((id) => [id, { file_refresh: 0, dir_refresh: 0, preheat: 0 }]));
  if (accountIds.length === 0) return out;
  const rows = isPostgres(db)
    ? (await sql<{ account_id: string; type: string; used: number }>`${prepared} select account_id, type, used from quota_usage where account_id = any(${accountIds}::text[]) and day = ${day}`.execute(db)).rows
    : await db.selectFrom('quota_usage').select(['account_id', 'type', 'used']).where('account_id', 'in', accountIds).where('day', '=', day).execute();
  for (const r of rows) {
    const u = out.get(r.account_id);
    if (u && r.type in u) u[r.type as QuotaType] = Number(r.used);
  }
  return out;
}

export type UsageDelta = QuotaUsageTable;

/** Adds to the day's use, one statement per delta (the intake on PostgreSQL folds them into its own). */
export async function addUsages(db: Kysely<Database>, deltas: UsageDelta[]): Promise<void> {
  for (const d of deltas) await addUsage(db, d.account_id, d.day, d.type as QuotaType, d.used);
}

async function addUsage(db: Kysely<Database>, accountId: string, day: string, type: QuotaType, n: number): Promise<void> {
  await db
    .insertInto('quota_usage')
    .values({ account_id: accountId, day, type, used: n })
    .onConflict((oc) => oc.columns(['account_id', 'day', 'type']).doUpdateSet((eb) => ({ used: eb('quota_usage.used', '+', n) })))
    .execute();
}

