// Every identity change is made the same way: in one transaction under the account's identity lock, the
// change, the bump of the identity version (every process drops its cached keys, tokens and permissions)
// and the change's audit row; then this process's caches are dropped at once.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { bumpIdentityVersion, lockAccountIdentity } from '../../store/repositories/identity-repository.js';
import { insertAuditEvents } from '../../store/repositories/audit-repository.js';
import type { Call } from './call.js';

export class IdentityWriter {
  constructor(
    readonly db: Kysely<Database>,
    /** Drops this process's cached identity answers (AuthService.invalidate). */
    private readonly invalidate: () => void,
  ) {}

  /**
   * Runs `change` and writes the audit row of `resource`. `identity: false` for changes that touch no
   * key, token, user, group or policy (a project, a domain's project, quotas): no version bump.
   */
  async write<T>(call: Call, resource: string, change: (trx: Kysely<Database>) => Promise<T>, options: { identity?: boolean } = {}): Promise<T> {
    const identity = options.identity ?? true;
    const out = await this.db.transaction().execute(async (trx) => {
      await lockAccountIdentity(trx, call.accountId);
      const result = await change(trx);
      if (identity) await bumpIdentityVersion(trx);
      await insertAuditEvents(trx, call.auditRows(resource));
      return result;
    });
    if (identity) this.invalidate();
    return out;
  }
}
