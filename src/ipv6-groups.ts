// The eight 16-bit groups of an IPv6 address: what the origin allow-list (embedded IPv4 addresses) and
// the per-client counters (a client is its /64) both read.
import { isIPv6 } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (a zone id ignored), or undefined when it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  const text = address.split('%', 1)[0]; // a zone id (fe80::1%eth0) names an interface
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
