// Daily quotas per account (huawei-cdn-api.md §7). The day is the UTC day; `used` counts today only.
import type { Kysely } from 'kysely';
import type { QuotaLimits } from '../config.js';
import type { Database } from '../store/database.js';
import type { Account } from '../store/repositories/account-repository.js';
import { findAccountById } from '../store/repositories/account-repository.js';
import { countDomains } from '../store/repositories/domain-repository.js';
import { addUsage, usageOn, type QuotaType } from '../store/repositories/quota-repository.js';
import { urlQuotaExceeded } from '../errors.js';

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
   * Checks that `use` fits in what is left today and books it, in the caller's transaction.
   * Throws CDN.0110 before writing anything when it does not fit.
   */
  async book(trx: Kysely<Database>, accountId: string, use: QuotaUse, now: number): Promise<void> {
    const account = await findAccountById(trx, accountId);
    if (!account) throw urlQuotaExceeded('unknown account');
    const limits = this.limitsOf(account);
    const day = utcDay(now);
    const used = await usageOn(trx, accountId, day);
    for (const [type, n] of Object.entries(use) as [QuotaType, number][]) {
      if (n > 0 && used[type] + n > limits[type]) {
        throw urlQuotaExceeded(`The number of URLs to be preheated or refreshed exceeds the upper limit: ${type} quota ${limits[type]} per day, ${used[type]} used today, ${n} asked`);
      }
    }
    for (const [type, n] of Object.entries(use) as [QuotaType, number][]) if (n > 0) await addUsage(trx, accountId, day, type, n);
  }

  /** The ShowQuota answer. */
  async show(accountId: string): Promise<Array<{ type: string; quota_limit: number; used: number; user_domain_id: string }>> {
    const account = await findAccountById(this.db, accountId);
    if (!account) return [];
    const limits = this.limitsOf(account);
    const used = await usageOn(this.db, accountId, utcDay());
    const domains = await countDomains(this.db, accountId);
    return [
      { type: 'file_refresh', quota_limit: limits.file_refresh, used: used.file_refresh, user_domain_id: accountId },
      { type: 'dir_refresh', quota_limit: limits.dir_refresh, used: used.dir_refresh, user_domain_id: accountId },
      { type: 'preheat', quota_limit: limits.preheat, used: used.preheat, user_domain_id: accountId },
      { type: 'domain', quota_limit: limits.domain, used: domains, user_domain_id: accountId },
    ];
  }
}
