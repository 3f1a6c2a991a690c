// cachectl's own settings of a domain, outside Huawei's API (its wire shapes stay as they are): for now
// the prefetch timeout, which lets a domain of large or slow objects wait longer than the server's default.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { setPrefetchTimeout } from '../store/repositories/domain-repository.js';
import type { PrefetchTimeouts } from '../engine/prefetch-timeouts.js';
import type { DomainService } from './domain-service.js';

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

  async get(accountId: string, name: string): Promise<DomainSettings> {
    const row = await this.domains.getByName(accountId, name);
    const own = row.prefetch_timeout_ms ?? null;
    return { domain_name: row.name, prefetch_timeout_ms: own === null ? null : Number(own), effective_prefetch_timeout_ms: own === null ? this.timeouts.defaultMs : Number(own) };
  }

  /** Sets (or with null clears) the domain's prefetch timeout; this process uses it at once, others within seconds. */
  async setPrefetchTimeout(accountId: string, name: string, ms: number | null): Promise<DomainSettings> {
    const row = await this.domains.getByName(accountId, name);
    await setPrefetchTimeout(this.db, row.id, ms);
    await this.timeouts.reload();
    return this.get(accountId, name);
  }
}
