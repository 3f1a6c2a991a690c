// cachectl's own settings of a domain, outside Huawei's API (its wire shapes stay as they are): for now
// the prefetch timeout, which lets a domain of large or slow objects wait longer than the server's default.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { setPrefetchTimeout } from '../store/repositories/domain-repository.js';
import type { PrefetchTimeouts } from '../engine/prefetch-timeouts.js';
import { domainResource, type DomainService } from './domain-service.js';
import { insertAuditEvents } from '../store/repositories/audit-repository.js';
import { ACTIONS } from './iam/actions.js';
import { callOf, type Call } from './iam/call.js';

export interface DomainSettings {
  domain_name: string;
  /** The domain's own value, or null when it takes the server's. */
  prefetch_timeout_ms: number | null;
  /** What prefetches of the domain get now. */
  effective_prefetch_timeout_ms: number;
}

export class DomainSettingsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly domains: DomainService,
    private readonly timeouts: PrefetchTimeouts,
  ) {}

  async get(who: string | Call, name: string): Promise<DomainSettings> {
    const row = await this.domains.getByName(callOf(who, ACTIONS.queryDomains), name);
    const own = row.prefetch_timeout_ms ?? null;
    return { domain_name: row.name, prefetch_timeout_ms: own === null ? null : Number(own), effective_prefetch_timeout_ms: own === null ? this.timeouts.defaultMs : Number(own) };
  }

  /** Sets (or with null clears) the domain's prefetch timeout; this process uses it at once, others within seconds. */
  async setPrefetchTimeout(who: string | Call, name: string, ms: number | null): Promise<DomainSettings> {
    const call = callOf(who, ACTIONS.modifyOriginConfInfo);
    const row = await this.domains.getByName(call, name);
    await this.db.transaction().execute(async (trx) => {
      await setPrefetchTimeout(trx, row.id, ms);
      await insertAuditEvents(trx, call.auditRows(domainResource(row.name)));
    });
    await this.timeouts.reload();
    return this.get(call.accountId, name);
  }
}
