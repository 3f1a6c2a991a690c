// The client a login throttle counts: an IPv4 address as it is, an IPv6 address by its /64. One IPv6
// host usually holds a whole /64 (SLAAC, privacy addresses), so counting exact IPv6 addresses would let
// one client rotate through 2^64 fresh counters.
import { isIPv4 } from 'node:net';
import { ipv6Groups } from '../ipv6-groups.js';

/**
 * The key of a client address for per-client counters (login throttle, body shares): `a.b.c.d`, or
 * `x:x:x:x::/64` (IPv4-mapped IPv6 counts as IPv4); '?' when the socket is gone and has none.
 */
export function sourceKey(address: string | undefined): string {
  if (!address) return '?';
  const bare = address.split('%', 1)[0]; // a zone id (fe80::1%eth0) names the interface, not the client
  if (isIPv4(bare)) return bare;
  const groups = ipv6Groups(bare);
  if (!groups) return address;
  // ::ffff:a.b.c.d is an IPv4 client of a dual-stack socket: grouping those by /64 would put every
  // IPv4 client under one key.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
