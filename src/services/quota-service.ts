// Daily quotas per account (huawei-cdn-api.md §7). The day is the UTC day; `used` counts today only.
import type { Kysely } from 'kysely';
import type { QuotaLimits } from '../config.js';
import type { Database } from '../store/database.js';
import type { Account } from '../store/repositories/account-repository.js';
import { findAccountById } from '../store/repositories/account-repository.js';
import { countDomains } from '../store/repositories/domain-repository.js';
import { lockBookingState, usageOf, type QuotaType, type UsageDelta } from '../store/repositories/quota-repository.js';
import { urlQuotaExceeded, type CachectlError } from '../errors.js';

export type QuotaUse = Partial<Record<QuotaType, number>>;

export const utcDay = (ms: number = Date.now()): string => new Date(ms).toISOString().slice(0, 10);

export class QuotaService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly defaults: QuotaLimits,
  ) {}

  limitsOf(account: Pick<Account, 'quota_file_refresh' | 'quota_dir_refresh' | 'quota_preheat' | 'quota_domain'>): QuotaLimits {
    return {
      file_refresh: account.quota_file_refresh ?? this.defaults.file_refresh,
      dir_refresh: account.quota_dir_refresh ?? this.defaults.dir_refresh,
      preheat: account.quota_preheat ?? this.defaults.preheat,
      domain: account.quota_domain ?? this.defaults.domain,
    };
  }

  /**
   * Judges each request's use against what is left today, in order, in the caller's transaction (the
   * accounts stay locked until it ends). Answers, per request, null when it fits or the CDN.0110 error
   * when it does not, and the use to book for those that fit: the caller writes it with what it
   * accepts (insertTasks), so that a refused request books nothing. A null request is skipped.
   */
  async judge(trx: Kysely<Database>, requests: Array<{ accountId: string; use: QuotaUse } | null>, now: number): Promise<{ verdicts: Array<CachectlError | null>; bookings: UsageDelta[] }> {
    const ids = [...new Set(requests.filter((r) => r !== null).map((r) => r.accountId))];
    const day = utcDay(now);
    const { accounts, used } = await lockBookingState(trx, ids, day);
    const limits = new Map(accounts.map((a) => [a.id, this.limitsOf(a)]));
    const booked = new Map<string, UsageDelta>();
    const verdicts = requests.map((r) => {
      if (!r) return null;
      const limit = limits.get(r.accountId);
      const today = used.get(r.accountId)!;
      const entries = Object.entries(r.use) as [QuotaType, number][];
      for (const [type, n] of entries) {
        if (n > 0 && (!limit || today[type] + n > limit[type])) {
          return urlQuotaExceeded(`The number of URLs to be preheated or refreshed exceeds the upper limit: ${type} quota ${limit?.[type] ?? 0} per day, ${today[type]} used today, ${n} asked`);
        }
      }
      for (const [type, n] of entries) {
        if (n <= 0) continue;
        today[type] += n;
        const key = `${r.accountId}|${type}`;
        const b = booked.get(key);
        if (b) b.used += n;
        else booked.set(key, { account_id: r.accountId, day, type, used: n });
      }
      return null;
    });
    return { verdicts, bookings: [...booked.values()] };
  }

  /** The ShowQuota answer. */
  async show(accountId: string): Promise<Array<{ type: string; quota_limit: number; used: number; user_domain_id: string }>> {
    const account = await findAccountById(this.db, accountId);
    if (!account) return [];
    const limits = this.limitsOf(account);
    const used = await usageOf(this.db, accountId, utcDay());
    const domains = await countDomains(this.db, accountId);
    return [
      { type: 'file_refresh', quota_limit: limits.file_refresh, used: used.file_refresh, user_domain_id: accountId },
      { type: 'dir_refresh', quota_limit: limits.dir_refresh, used: used.dir_refresh, user_domain_id: accountId },
      { type: 'preheat', quota_limit: limits.preheat, used: used.preheat, user_domain_id: accountId },
      { type: 'domain', quota_limit: limits.domain, used: domains, user_domain_id: accountId },
    ];
  }
}
