// Rate limits that hold across every process sharing one store (huawei-cdn-api.md §1): each request
// counts in a per-second window in the database. One upsert per limited request; limits are off
// (0) by default, and then nothing is written.
import type { Kysely } from 'kysely';
import type { RateLimits } from '../config.js';
import type { Database } from '../store/database.js';
import { countRequest, pruneRequestWindows } from '../store/repositories/rate-repository.js';
import { throttled } from '../errors.js';
import type { RateClass, RateGate } from './rate-limit.js';

export class SharedRateLimiter implements RateGate {
  private lastPrune = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rates: RateLimits,
  ) {}

  async take(accountId: string, cls: RateClass, now = Date.now()): Promise<void> {
    const rate = this.rates[cls];
    if (!rate) return;
    const second = Math.floor(now / 1000);
    if (second - this.lastPrune >= 60) {
      this.lastPrune = second;
      void pruneRequestWindows(this.db, second - 60).catch(() => undefined);
    }
    if ((await countRequest(this.db, accountId, cls, second)) > rate) {
      throw throttled(`The API is throttled: at most ${rate} ${cls} calls per second per account`);
    }
  }
}
