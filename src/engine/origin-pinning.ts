// Origins for engines that resolve host names themselves (Varnish, nginx, ATS): the control plane resolves
// each name when it pushes, checks every address against --origin-allow, and writes the allowed addresses
// in place of the name. The engine then never asks DNS, so a name that later resolves to a metadata or
// internal address (DNS rebinding) cannot take it there. The built-in edge checks on every connect instead.
import type { DomainConfig, OriginSource } from '../edge/edge-driver.js';
import { isIP } from 'node:net';
import { resolveAddresses, type OriginAllowList } from '../edge/origin-allow.js';

const LOOKUP_TIMEOUT_MS = 3_000;

export interface PinnedSet {
  domains: DomainConfig[];
  /** Why an origin (or a whole domain, left with none) was left out: for the log. */
  refused: string[];
}

export interface PinOptions {
  /**
   * The addresses each name last resolved to, kept by the caller across pushes: a name that fails to
   * resolve for a moment (a DNS blip) keeps them, re-checked, instead of taking its domain off the engine
   * nodes while it shows online. Names no longer in the set are forgotten.
   */
  lastGood?: Map<string, string[]>;
  /** The resolver; the system's (getaddrinfo) by default. */
  resolve?: (name: string) => Promise<string[] | undefined>;
}

/**
 * The domain set with every origin as checked IP addresses. An origin whose name does not resolve, or
 * resolves only to refused addresses, is left out (an engine resolving it later would not be checked);
 * a domain left without origins is left out of the set. IPv4 addresses are preferred when a name has
 * both (ATS takes no IPv6 parents).
 */
export async function pinOrigins(domains: readonly DomainConfig[], allow: OriginAllowList, options: PinOptions = {}): Promise<PinnedSet> {
  const resolve = options.resolve ?? ((name: string) => resolveAddresses(name, LOOKUP_TIMEOUT_MS));
  const names = new Set<string>();
  for (const d of domains) for (const s of d.sources) if (isIP(s.address.replace(/^\[|\]$/g, '')) === 0) names.add(s.address);
  const resolved = new Map(await Promise.all([...names].map(async (n) => [n, await resolve(n)] as const)));
  const lastGood = options.lastGood;
  if (lastGood) {
    for (const name of [...lastGood.keys()]) if (!names.has(name)) lastGood.delete(name);
    for (const [name, addresses] of resolved) {
      if (addresses !== undefined && addresses.length > 0) lastGood.set(name, addresses);
      else if (lastGood.has(name)) resolved.set(name, lastGood.get(name));
    }
  }
  const refused: string[] = [];
  const out: DomainConfig[] = [];
  for (const d of domains) {
    const sources: OriginSource[] = [];
    for (const s of d.sources) {
      const bare = s.address.replace(/^\[|\]$/g, '');
      if (isIP(bare) !== 0) {
        const why = allow.refusesAddress(bare);
        if (why === undefined) sources.push(s);
        else refused.push(`${d.name}: ${why}`);
        continue;
      }
      const named = allow.refusesName(s.address);
      const addresses = resolved.get(s.address);
      if (named !== undefined || addresses === undefined || addresses.length === 0) {
        refused.push(`${d.name}: origin ${s.address}: ${named ?? 'does not resolve'}`);
        continue;
      }
      const allowed = addresses.filter((a) => {
        const why = allow.refusesResolved(s.address, a);
        if (why !== undefined) refused.push(`${d.name}: ${why}`);
        return why === undefined;
      });
      const v4 = allowed.filter((a) => isIP(a) === 4);
      for (const a of v4.length > 0 ? v4 : allowed) sources.push({ ...s, address: a, type: 'ipaddr' });
    }
    if (sources.length > 0) out.push({ ...d, sources });
    else refused.push(`${d.name}: no allowed origin left; not served by engine nodes`);
  }
  return { domains: out, refused };
}
