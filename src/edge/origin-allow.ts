// Which origin addresses tenants may point their domains at (`--origin-allow`). Used by the control plane
// when a domain is created and when origins are pinned for engines that resolve names themselves, and by
// the built-in edge on every connect (DNS rebinding). It sits in the edge layer, the lowest one, so that
// every layer above may use it.
//
// Every address is in exactly one class: `denied` (never an origin: link-local, where cloud metadata
// lives, metadata addresses, unspecified, multicast, broadcast and reserved), `loopback`, `private`
// (RFC 1918, shared CGNAT space, IPv6 unique-local) or `public` (everything else). The list allows
// classes, CIDRs, single addresses and host names; no entry can allow a `denied` address.

import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ipv6Groups } from '../ipv6-groups.js';

export type AddressClass = 'denied' | 'loopback' | 'private' | 'public';

/** The setting's default: safe with many tenants. `npm start` and the local tools add loopback. */
export const DEFAULT_ORIGIN_ALLOW = 'public';

const CLASS_NAMES = ['loopback', 'private', 'public'] as const;

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) {
    const [net, bits = '32'] = cidr.split('/');
    list.addSubnet(net, Number(bits), 'ipv4');
  }
  for (const cidr of v6) {
    const [net, bits = '128'] = cidr.split('/');
    list.addSubnet(net, Number(bits), 'ipv6');
  }
  return list;
}

const DENIED = blockList(
  [
    '0.0.0.0/8', // "this network"; 0.0.0.0 reaches the local host
    '169.254.0.0/16', // link-local: cloud metadata (169.254.169.254) and more
    '100.100.100.200', // Alibaba Cloud metadata
    '192.0.0.192', // Oracle Cloud metadata (older instances)
    '224.0.0.0/4', // multicast
    '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
  ],
  [
    '::/128', // unspecified
    'fe80::/10', // link-local
    'fec0::/10', // site-local (deprecated)
    'ff00::/8', // multicast
    'fd00:ec2::254', // AWS metadata over IPv6
  ],
);
const LOOPBACK = blockList(['127.0.0.0/8'], ['::1/128']);
const PRIVATE = blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], ['fc00::/7']);

/** Names of cloud metadata services: refused whatever they resolve to here. */
const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);

/**
 * An IPv4 address in any form inet_aton accepts (and so do many resolvers and URL parsers):
 * `2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`, `169.254.43518` → `169.254.169.254`.
 */
export function parseLooseIpv4(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let v: number;
    if (/^0x[0-9a-f]*$/i.test(part)) v = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) v = parseInt(part, 8);
    else if (/^[1-9]\d*$/.test(part)) v = Number(part);
    else return undefined;
    values.push(v);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return undefined;
  let n = last;
  values.forEach((v, i) => (n += v * 256 ** (3 - i)));
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The IPv4 address an IPv6 address stands for: IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96), 6to4
 * (2002:AABB:CCDD::/48) and Teredo (2001:0::/32, the client's address inverted in the last 32 bits): a
 * relay or translator on the path reaches that IPv4 address.
 */
function embeddedIpv4(v6: string): string | undefined {
  const groups = ipv6Groups(v6)!;
  const dotted = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  if (groups[0] === 0x2002) return dotted(groups[1], groups[2]);
  if (groups[0] === 0x2001 && groups[1] === 0) return dotted(groups[6] ^ 0xffff, groups[7] ^ 0xffff);
  const head = groups
    .slice(0, 6)
    .map((g) => g.toString(16))
    .join(':');
  if (head !== '0:0:0:0:0:ffff' && head !== '0:0:0:0:0:0' && head !== '64:ff9b:0:0:0:0') return undefined;
  if (head === '0:0:0:0:0:0' && groups[6] === 0) return undefined; // :: and ::1 are IPv6's own
  return dotted(groups[6], groups[7]);
}

/** The class of an IP address (any form net.isIP accepts); undefined when the text is not one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return undefined;
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const ip = family === 6 ? bare.replace(/%.*$/, '') : bare;
  if (DENIED.check(ip, type)) return 'denied';
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (PRIVATE.check(ip, type)) return 'private';
  return 'public';
}

/** Why a host name is never an origin, or undefined. */
function deniedName(name: string): string | undefined {
  if (METADATA_NAMES.has(name)) return `'${name}' is a cloud metadata service`;
  return undefined;
}

/** RFC 6761: `localhost` and its subdomains are loopback whatever DNS says. */
function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

export class OriginAllowList {
  private readonly classes = new Set<AddressClass>();
  private readonly ranges = new BlockList();
  private readonly names = new Set<string>();
  /** `*.example.com` entries, as `.example.com`. */
  private readonly suffixes: string[] = [];

  private constructor(
    /** The list as given, normalized: what to pass on to another process. */
    readonly spec: string,
  ) {}

  /** Parses `loopback,private,10.1.0.0/16,fd00:1::/64,origin.example.com,*.corp.example`; throws on a bad entry. */
  static parse(spec: string): OriginAllowList {
    const entries = spec
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== '');
    if (entries.length === 0) throw new Error('the list is empty (give at least one of loopback, private, public, a CIDR or a host name)');
    const list = new OriginAllowList(entries.join(','));
    for (const entry of entries) {
      if ((CLASS_NAMES as readonly string[]).includes(entry)) {
        list.classes.add(entry as AddressClass);
        continue;
      }
      const cidr = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
      const family = cidr ? isIP(cidr[1].replace(/^\[|\]$/g, '')) : 0;
      if (cidr && family !== 0) {
        const bits = cidr[2] === undefined ? (family === 4 ? 32 : 128) : Number(cidr[2]);
        if (bits > (family === 4 ? 32 : 128)) throw new Error(`'${entry}': the prefix length is at most ${family === 4 ? 32 : 128}`);
        list.ranges.addSubnet(cidr[1].replace(/^\[|\]$/g, ''), bits, family === 4 ? 'ipv4' : 'ipv6');
        continue;
      }
      const wildcard = entry.startsWith('*.');
      const name = wildcard ? entry.slice(2) : entry;
      const labels = name.split('.');
      // One word is a misspelt class more likely than a host name: names need a dot (localhost aside).
      const oneWord = labels.length < 2 && !(name === 'localhost' && !wildcard);
      if (!labels.every((l) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(l)) || parseLooseIpv4(name) !== undefined || oneWord) {
        throw new Error(`'${entry}' is not loopback, private, public, an IP address, a CIDR or a host name`);
      }
      const why = deniedName(name);
      if (why !== undefined) throw new Error(`'${entry}': ${why} and cannot be allowed`);
      if (wildcard) list.suffixes.push(`.${name}`);
      else list.names.add(name);
    }
    return list;
  }

  /** Why `address` (an IP address) may not be an origin, or undefined when it may. */
  refusesAddress(address: string): string | undefined {
    const cls = classifyAddress(address);
    if (cls === undefined) return `'${address}' is not an IP address`;
    if (cls === 'denied') return `${address} is a link-local, metadata, multicast, broadcast or unspecified address`;
    if (this.classes.has(cls)) return undefined;
    const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const v4 = isIP(bare) === 6 ? embeddedIpv4(bare) : undefined;
    if (this.ranges.check(v4 ?? bare, isIP(v4 ?? bare) === 4 ? 'ipv4' : 'ipv6')) return undefined;
    return `${address} is a ${cls} address, not allowed by --origin-allow ${this.spec}`;
  }

  /** True when the operator listed the host name itself (or a wildcard covering it): its addresses are trusted. */
  listsName(name: string): boolean {
    const n = name.toLowerCase().replace(/\.$/, '');
    return this.names.has(n) || this.suffixes.some((s) => n.endsWith(s));
  }

  /**
   * Why host name `name` may not be an origin before it is even resolved, or undefined. A name that is
   * an IPv4 address in disguise (`2852039166`) is checked as that address; `localhost` as loopback.
   */
  refusesName(name: string): string | undefined {
    const n = name.toLowerCase().replace(/\.$/, '');
    const why = deniedName(n);
    if (why !== undefined) return why;
    const disguised = parseLooseIpv4(n);
    if (disguised !== undefined) return this.refusesAddress(disguised);
    if (isLocalhostName(n) && !this.listsName(n)) return this.refusesAddress('127.0.0.1');
    return undefined;
  }

  /** Why host name `name`, resolved to `address`, may not be reached there, or undefined. */
  refusesResolved(name: string, address: string): string | undefined {
    if (classifyAddress(address) === 'denied') return `${name} resolves to ${address}: ${this.refusesAddress(address)}`;
    if (this.listsName(name)) return undefined;
    const why = this.refusesAddress(address);
    return why === undefined ? undefined : `${name} resolves to ${why}`;
  }
}

/** A host name's addresses as the system resolver gives them (as connect would), or undefined when it fails or is late. */
export async function resolveAddresses(name: string, timeoutMs: number): Promise<string[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  try {
    const answer = lookup(name, { all: true, verbatim: true }).then(
      (all) => all.map((a) => a.address),
      () => undefined,
    );
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
