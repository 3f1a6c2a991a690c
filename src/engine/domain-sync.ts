// Keeps every node's set of served domains equal to the store's, and moves a domain from
// `configuring` to `online` once every node has applied a set that contains it. Also watches node
// health: a node that comes back with another version (a restart) gets the current set again.
// The version is the deployment's (kept in the store, see domainSetVersion), not this process's: with
// several serve processes, each would otherwise take the others' pushes for a stale set and push again.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import type { DomainConfig, EdgeNode } from '../edge/edge-driver.js';
import { domainSetVersion, listServedDomains, updateDomain, type DomainRow } from '../store/repositories/domain-repository.js';
import type { EdgeFleet, FleetMember } from './edge-fleet.js';
import type { OriginAllowList } from '../edge/origin-allow.js';
import { pinOrigins } from './origin-pinning.js';
import { engineOf } from '../edge/engines.js';
import type { Logger } from '../logging/logger.js';

/** Engines that resolve origin names themselves get the domains as configured; the others get pinned addresses. */
const resolvesOrigins = (node: EdgeNode) => engineOf(node.driver)?.capabilities.resolvesOrigins === true;

export interface SourceRecord {
  ip_or_domain: string;
  origin_type: 'ipaddr' | 'domain' | 'obs_bucket';
  active_standby: number;
  http_port: number;
  https_port: number;
  obs_bucket_type?: string;
  enable_obs_web_hosting?: number;
}

export function domainConfigOf(row: Pick<DomainRow, 'name' | 'sources'>): DomainConfig {
  const sources = JSON.parse(row.sources) as SourceRecord[];
  return {
    name: row.name,
    sources: sources.map((s) => ({ address: s.ip_or_domain, type: s.origin_type, primary: s.active_standby === 1, httpPort: s.http_port, httpsPort: s.https_port })),
  };
}

/**
 * What identifies a domain set's content: the same set gives the same digest in every process. It is
 * the set as stored, before origins are pinned: pinned addresses follow each process's DNS answers, and
 * two processes resolving a name differently must not take turns pushing their own.
 */
export function digestOfDomainSet(domains: readonly DomainConfig[]): string {
  const sorted = [...domains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

// Health checks go out in slices spread over the interval: every node is still asked once per
// interval, but a large fleet's checks no longer arrive all at once and delay the purges around them.
const HEALTH_SLICES = 10;

export class DomainSync {
  private healthTick = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private lastRefused = '';
  /** Each origin name's last good addresses, so that a DNS blip does not take its domain off engine nodes. */
  private readonly lastPinned = new Map<string, string[]>();
  private readonly healthIntervalMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly fleet: EdgeFleet,
    private readonly log: (msg: string, err?: unknown) => void,
    private readonly options: {
      /** Set: engines other than the built-in edge get origins resolved and checked here (see origin-pinning.ts). */
      originAllow?: OriginAllowList;
      healthIntervalMs?: number;
      /** Where a node going down or coming back is said (a line each way). */
      logger?: Logger;
    } = {},
  ) {
    this.healthIntervalMs = options.healthIntervalMs ?? 2000;
  }

  start(): void {
    this.healthTimer = setInterval(() => void this.checkHealth(), this.healthIntervalMs / HEALTH_SLICES);
    this.healthTimer.unref();
    this.request();
  }

  stop(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Pushes the current domain set soon; calls during a push cause one more push after it. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.push()
      .catch((err: unknown) => {
        // The store is unreachable (a database restart): try again, never let it take the process down.
        this.log('pushing domains failed; retrying', err);
        this.retryLater();
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  /** Resolves after a push that started after this call has finished. */
  async settled(): Promise<void> {
    this.request();
    await this.idle();
  }

  /** Resolves once no push is running or due, without asking for one (tests count the pushes a call causes). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async push(): Promise<void> {
    const rows = await listServedDomains(this.db);
    const domains = rows.map(domainConfigOf);
    const version = await domainSetVersion(this.db, digestOfDomainSet(domains));
    const pinned = await this.pinnedFor(domains);
    // The built-in edge resolves and checks on every connect, following DNS; other engines get addresses.
    const results = await Promise.all(this.fleet.members.map((m) => this.applyTo(m, resolvesOrigins(m.node) ? domains : pinned, version)));
    const failed = results.filter((r): r is string => r !== null);
    const configuring = rows.filter((r) => r.status === 'configuring');
    if (failed.length === 0) {
      this.failures = 0;
      const now = Date.now();
      for (const row of configuring) {
        // Only with the origins that were pushed: a change during the push waits for the next push.
        await this.db.updateTable('domains').set({ status: 'online', status_detail: '', modify_time: now }).where('id', '=', row.id).where('status', '=', 'configuring').where('sources', '=', row.sources).execute();
      }
      return;
    }
    const detail = `not applied on ${failed.join('; ')}`.slice(0, 500);
    for (const row of configuring) await updateDomain(this.db, row.id, { status_detail: detail });
    this.retryLater();
  }

  /** The set with pinned origins, when some member needs it. */
  private async pinnedFor(domains: DomainConfig[]): Promise<DomainConfig[]> {
    const allow = this.options.originAllow;
    if (allow === undefined || this.fleet.members.every((m) => resolvesOrigins(m.node))) return domains;
    const pinned = await pinOrigins(domains, allow, { lastGood: this.lastPinned });
    const refused = pinned.refused.join('; ');
    if (refused !== '' && refused !== this.lastRefused) this.log(`origins left out for engine nodes: ${refused}`);
    this.lastRefused = refused;
    return pinned.domains;
  }

  private retryLater(): void {
    const delay = Math.min(5000, 100 * 2 ** this.failures++);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.request(), delay);
    this.retryTimer.unref();
  }

  /** null when applied, otherwise why not. */
  private async applyTo(m: FleetMember, domains: DomainConfig[], version: number): Promise<string | null> {
    try {
      await m.driver.applyDomains(domains, version);
      m.domainsVersion = version;
      this.setUp(m, true);
      return null;
    } catch (err) {
      m.domainsVersion = undefined;
      const message = err instanceof Error ? err.message : String(err);
      // Said once per outage (the node going down), not on every retry.
      this.setUp(m, false, `applying domains failed (retrying): ${message}`);
      return `node ${m.node.name}: ${message}`;
    }
  }

  /** Notes a node's state; a change is logged (down as a warning). */
  private setUp(m: FleetMember, up: boolean, detail?: string): void {
    if (m.up === up) return;
    m.up = up;
    const fields = { node: m.node.name, driver: m.node.driver, ...(detail !== undefined && { detail }) };
    if (up) this.options.logger?.info(fields, `node ${m.node.name} is up`);
    else if (this.options.logger) this.options.logger.warn(fields, `node ${m.node.name} is down`);
    else this.log(`node ${m.node.name} is down: ${detail ?? 'no detail'}`);
  }

  /** Asks one node for its health now; true when it is up but serves another domain set. */
  async checkMember(m: FleetMember): Promise<boolean> {
    const h = await m.driver.health().catch((err: unknown) => ({ up: false, detail: String(err), domainsVersion: undefined }));
    this.setUp(m, h.up, h.detail);
    m.detail = h.detail;
    m.checkedAt = Date.now();
    // A node that comes back (or never took a push) gets the set again, whatever version it reports:
    // an engine restarted from its shipped config reports none.
    const stale = h.up && (m.domainsVersion === undefined || h.domainsVersion !== m.domainsVersion);
    if (!h.up) m.domainsVersion = undefined;
    return stale;
  }

  private async checkHealth(): Promise<void> {
    const slice = this.healthTick++ % HEALTH_SLICES;
    const stale = await Promise.all(this.fleet.members.filter((_, i) => i % HEALTH_SLICES === slice).map((m) => this.checkMember(m)));
    if (stale.some(Boolean) && !this.running) this.request();
  }
}
