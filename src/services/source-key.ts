// The client a login throttle counts: an IPv4 address as it is, an IPv6 address by its /64. One IPv6
// host usually holds a whole /64 (SLAAC, privacy addresses), so counting exact IPv6 addresses would let
// one client rotate through 2^64 fresh counters.
import { isIPv4, isIPv6 } from 'node:net';

/** The throttle key of a client address: `a.b.c.d`, or `x:x:x:x::/64` (IPv4-mapped IPv6 counts as IPv4). */
export function sourceKey(address: string): string {
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

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(text: string): number[] | undefined {
  if (!isIPv6(text)) return undefined;
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) is the last two groups.
    const [a, b, c, d] = tail.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  if (rest === undefined) return front;
  const back = parse(rest);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
