// Rate-limit state shared by every process on the store: one theoretical arrival time (µs) per account
// and kind. The rule is the caller's (api/rate-cell.ts); this only applies it atomically.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

/** What a call does to the stored time: next = max(tat, floorUs) + stepUs, only if next ≤ ceilingUs. */
export interface RateAdvance {
  floorUs: number;
  stepUs: number;
  ceilingUs: number;
}

/**
 * Applies `advance` in one statement (the row lock orders concurrent calls); a new row starts at
 * `firstTat`. Answers whether the call was admitted.
 */
export async function advanceRateCell(db: Kysely<Database>, accountId: string, kind: string, firstTat: number, advance: RateAdvance): Promise<boolean> {
  const { floorUs, stepUs, ceilingUs } = advance;
  const next = sql<number>`(case when rate_cells.tat > ${floorUs} then rate_cells.tat else ${floorUs} end) + ${stepUs}`;
  const row = await db
    .insertInto('rate_cells')
    .values({ account_id: accountId, kind, tat: firstTat })
    .onConflict((oc) => oc.columns(['account_id', 'kind']).doUpdateSet({ tat: next }).where(next, '<=', ceilingUs))
    .returning('tat')
    .executeTakeFirst();
  return row !== undefined;
}

export async function readRateCell(db: Kysely<Database>, accountId: string, kind: string): Promise<number | undefined> {
  const row = await db.selectFrom('rate_cells').select('tat').where('account_id', '=', accountId).where('kind', '=', kind).executeTakeFirst();
  return row === undefined ? undefined : Number(row.tat);
}
