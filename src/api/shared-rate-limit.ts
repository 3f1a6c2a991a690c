// Rate limits that hold across every process sharing one store (huawei-cdn-api.md §1), by the same
// algorithm as the in-process limiter (rate-cell.ts): one TAT per account and class in the database,
// advanced by one atomic statement per limited call. Limits are off (0) by default, and then nothing
// is written. Processes must keep their clocks in step (NTP): a clock ahead by d shortens the others'
// bursts by d's worth of calls, never lengthens them.
import type { Kysely } from 'kysely';
import type { RateLimits } from '../config.js';
import type { Database } from '../store/database.js';
import { advanceRateCell, readRateCell } from '../store/repositories/rate-repository.js';
import { admit, advanceAt, cellLimit, EMPTY_TAT, toMicros } from './rate-cell.js';
import type { RateClass, RateGate, RateRefusal } from './rate-limit.js';

export class SharedRateLimiter implements RateGate {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly rates: RateLimits,
  ) {}

  async take(accountId: string, cls: RateClass, now = Date.now()): Promise<RateRefusal | undefined> {
    const rate = this.rates[cls];
    if (!rate) return undefined;
    const limit = cellLimit(rate);
    const nowUs = toMicros(now);
    const first = admit(EMPTY_TAT, nowUs, limit);
    if (!first.admitted) throw new Error('a burst of at least one call is always admitted');
    if (await advanceRateCell(this.db, accountId, cls, first.tat, advanceAt(nowUs, limit))) return undefined;
    // Refused: the wait comes from the TAT as it is now (another process may have moved it since).
    const again = admit((await readRateCell(this.db, accountId, cls)) ?? EMPTY_TAT, nowUs, limit);
    return { rate, retryAfterMs: again.admitted ? 0 : again.retryAfterMs };
  }
}
