// The state of one built-in edge node, shared by its traffic and admin handlers: the object cache, the
// served domain set, the origin pools and the flights (coalesced fetches) in progress.

import { randomUUID } from 'node:crypto';
import type { DomainConfig } from '../edge-driver.js';
import { CacheFill } from './cache-fill.js';
import { DomainSet } from './domain-set.js';
import { EdgeCache } from './edge-cache.js';
import { FlightTable } from './flight-table.js';
import { OriginClient } from './origin-client.js';
import type { OriginAllowList } from '../origin-allow.js';

export interface EdgeNodeSettings {
  /** Memory for cached objects (bodies plus approximate header size). */
  maxBytes: number;
  /** Larger answers are passed through, not stored. */
  maxObjectBytes: number;
  /** Origin headers and body-idle timeout. */
  originTimeoutMs: number;
  /** Connect timeout per origin address. */
  originConnectTimeoutMs: number;
  /** Where origins may be: checked on every connect. */
  originAllow: OriginAllowList;
}

export class EdgeNode {
  readonly bootId = randomUUID();
  readonly cache: EdgeCache;
  readonly origins: OriginClient;
  readonly flights = new FlightTable();
  readonly fill: CacheFill;
  private served = DomainSet.EMPTY;

  constructor(settings: EdgeNodeSettings) {
    this.cache = new EdgeCache(settings.maxBytes);
    this.origins = new OriginClient(settings.originTimeoutMs, settings.originConnectTimeoutMs, settings.originAllow);
    this.fill = new CacheFill(this.cache, settings.maxObjectBytes, (host) => this.served.servedBy(host));
  }

  get domains(): DomainSet {
    return this.served;
  }

  /** Replaces the served domain set (last write wins: the control plane pushes again a node that reports another version than the store's). */
  applyDomains(configs: DomainConfig[], version: number): void {
    const lists = this.origins.replace(configs.map((c) => c.sources));
    const next = new DomainSet(
      configs.map((c, i) => ({ name: c.name, origins: lists[i] })),
      version,
    );
    const previous = this.served;
    // Objects are cached by the request's own host, so a wildcard domain's objects sit under many hosts.
    // A host now served by another domain (or none: the domain was dropped) loses what it fetched from
    // the old one, and its flights in progress will not store their answers.
    const moved = (host: string): boolean => previous.servedBy(host) !== next.servedBy(host);
    for (const host of this.cache.hosts()) if (moved(host)) this.cache.dropHost(host);
    this.flights.purgeHosts(moved);
    this.served = next;
  }

  async shutdown(): Promise<void> {
    const pools = this.origins.destroy();
    this.served = DomainSet.EMPTY;
    this.cache.clear();
    await pools;
  }
}
