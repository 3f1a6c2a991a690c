// Origins a tenant may give a domain: well-formed addresses and host names, and only where the operator's
// `--origin-allow` lets the edges go (never link-local or cloud metadata). The edges check again on every
// connect (a name may resolve elsewhere later); this check answers the tenant at once, in the spec's codes.
import { isIP } from 'node:net';
import type { OriginAllowList } from '../edge/origin-allow.js';
import { parseLooseIpv4, resolveAddresses } from '../edge/origin-allow.js';
import { originInvalid, originIsPrivate } from '../errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** How long domain create waits for DNS; a name that does not resolve yet is accepted (the edges check). */
const LOOKUP_TIMEOUT_MS = 2_000;

/**
 * Throws CDN.0103 unless `address` (lower case) is well-formed for its origin type: an IPv4 or IPv6
 * address without zone for `ipaddr`; for `domain` and `obs_bucket` a host name of two or more labels
 * whose last label is not numeric (`169.254.43518` and `0251.0376.0251.0376` are IPv4 addresses to a resolver).
 */
export function checkOriginFormat(field: string, type: string, address: string): void {
  if (type === 'ipaddr') {
    if (isIP(address) === 0 || address.includes('%')) throw originInvalid(`${field}.ip_or_domain '${address}' is not an IP address`);
    return;
  }
  const labels = address.split('.');
  const hostname = address.length <= 253 && labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]);
  if (!hostname || parseLooseIpv4(address) !== undefined) throw originInvalid(`${field}.ip_or_domain '${address}' is not a domain name`);
}

export class OriginPolicy {
  constructor(readonly allow: OriginAllowList) {}

  /**
   * Throws CDN.0121 for an IP origin the allow-list refuses, CDN.0103 for a host name it refuses or that
   * resolves now to an address it refuses. Names that do not resolve (yet) pass: the edges check on connect.
   */
  async check(field: string, type: string, address: string): Promise<void> {
    if (type === 'ipaddr') {
      const why = this.allow.refusesAddress(address);
      if (why !== undefined) throw originIsPrivate(`${field}.ip_or_domain: origin IP ${why}.`);
      return;
    }
    const named = this.allow.refusesName(address);
    if (named !== undefined) throw originInvalid(`${field}.ip_or_domain: origin audit failed: ${named}.`);
    for (const a of (await resolveAddresses(address, LOOKUP_TIMEOUT_MS)) ?? []) {
      const why = this.allow.refusesResolved(address, a);
      if (why !== undefined) throw originInvalid(`${field}.ip_or_domain: origin audit failed: ${why}.`);
    }
  }
}
