// The domains a built-in edge node serves, and which of them a request's host goes to: its exact name
// first, then the nearest wildcard. `*.example.com` covers a.example.com and x.y.example.com but not
// example.com, and no wildcard is tried for a single-label suffix (*.com): the same candidates as the
// control plane's domainCandidates (src/services/task-url.ts) when it matches URLs to domains.

import type { Origin } from './origin-client.js';

export interface Domain {
  /** As configured, lower case: `www.example.com`, or `*.example.com` for a wildcard domain. */
  readonly name: string;
  /** Primaries first, then standbys, in configuration order. */
  readonly origins: readonly Origin[];
}

export class DomainSet {
  static readonly EMPTY = new DomainSet([], null);

  private readonly byName = new Map<string, Domain>();
  /** Without wildcards an unknown host costs one map lookup, as before wildcards existed. */
  private readonly hasWildcards: boolean;

  constructor(
    domains: Iterable<Domain>,
    /** The control plane's version of this set; null before the first one arrives. */
    readonly version: number | null,
  ) {
    for (const domain of domains) this.byName.set(domain.name, domain); // a repeated name: the last one wins
    this.hasWildcards = [...this.byName.keys()].some((name) => name.startsWith('*.'));
  }

  /**
   * The domain serving `host` (lower case, no port): the exact name, else the nearest wildcard. For
   * a.b.example.com: a.b.example.com, then *.b.example.com, then *.example.com.
   */
  lookup(host: string): Domain | undefined {
    const exact = this.byName.get(host);
    if (exact !== undefined || !this.hasWildcards) return exact;
    let dot = host.indexOf('.');
    while (dot !== -1) {
      const next = host.indexOf('.', dot + 1);
      if (next === -1) break; // what is left is one label
      const wildcard = this.byName.get(`*${host.slice(dot)}`);
      if (wildcard !== undefined) return wildcard;
      dot = next;
    }
    return undefined;
  }

  /** The name of the domain serving `host`, if any: what cached objects of the host were fetched under. */
  servedBy(host: string): string | undefined {
    return this.lookup(host)?.name;
  }
}
