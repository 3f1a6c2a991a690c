// Renders ATS's remap.config and parent.config for a domain set. Pure: same input, same text. Everything
// that comes from data is checked against a strict charset first (these files have no quoting).
//
// Each domain remaps to ITSELF (`map http://www.a.test/ http://www.a.test/`), and its origins are
// parent.config parents with parent_is_proxy=false. Why: ATS keys the cache, and regex_revalidate
// matches its rules, on the remapped URL. Remapping to the origin would key `http://10.0.0.1/x` for every
// domain on that origin: two domains would share (and poison) each other's objects, and a directory rule
// could not name one domain. Remapped to itself, the key is `http://<public host>/<path>`.
import { createHash } from 'node:crypto';
import type { DomainConfig, OriginSource } from '../edge-driver.js';

/**
 * The Host of the version probe: `redirect`ed by ATS itself (no origin) to
 * `http://cachectl-version.invalid/v<version>-<stamp>/`, so a GET tells which domain set ATS is serving
 * now. The stamp is a digest of the rendered files: two sets can carry one version number (a node reused by
 * another deployment), and the old config's answer must not pass for the new one's.
 */
export const VERSION_HOST = 'cachectl-version.invalid';

const HOST_RE = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const NAME_OR_IPV4_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * parent.config splits host and port at the first ':' ("Malformed parent port"), brackets or not, so ATS
 * 9.2 takes no IPv6 parent. Such origins are left out of its files (a name pinned to IPv6 addresses only,
 * or an IPv6 origin of another tenant, must not fail the whole push for every domain).
 */
const isIpv6 = (s: OriginSource) => s.address.includes(':');

function parent(domain: string, s: OriginSource): string {
  const address = s.address.replace(/^\[|\]$/g, '');
  if (!NAME_OR_IPV4_RE.test(address) || !Number.isInteger(s.httpPort) || s.httpPort < 1 || s.httpPort > 65535) {
    throw new Error(`renderAts: ${domain}: invalid origin ${JSON.stringify(s.address)}:${s.httpPort}`);
  }
  return `${address}:${s.httpPort}|1.0`;
}

/** Labels of a name: more labels = more specific (`*.x.a.test` before `*.a.test`). */
const labels = (name: string) => name.split('.').length;

/** Exact names first (sorted), then wildcards, most specific first: ATS takes the first matching line of both files. */
export function sortDomains(domains: DomainConfig[]): DomainConfig[] {
  return [...domains].sort((a, b) => {
    const wa = a.name.startsWith('*.');
    const wb = b.name.startsWith('*.');
    if (wa !== wb) return wa ? 1 : -1;
    return (wa ? labels(b.name) - labels(a.name) : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
}

export function renderAts(domains: DomainConfig[], version: number): { remap: string; parent: string; stamp: string } {
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`renderAts: invalid version ${version}`);
  const remap = [
    `# Rendered by cachectl (src/edge/ats/render-ats.ts), domain set version ${version}; do not edit.`,
    // ATS answers it itself, to anyone (ATS 9.2 applies no remap ACL to redirect rules): it tells only
    // this version number.
    `# The version probe: a 301 to http://${VERSION_HOST}/v${version}-<stamp>/, no origin involved.`,
    `redirect http://${VERSION_HOST}/ http://${VERSION_HOST}/v${version}-${STAMP}/`,
  ];
  const parents = [`# Rendered by cachectl (src/edge/ats/render-ats.ts), domain set version ${version}; do not edit.`];
  const seen = new Set<string>();
  for (const d of sortDomains(domains.map((x) => ({ ...x, name: x.name.toLowerCase() })))) {
    const name = d.name;
    if (!HOST_RE.test(name)) throw new Error(`renderAts: invalid domain name ${JSON.stringify(d.name)}`);
    if (name === VERSION_HOST || seen.has(name)) throw new Error(`renderAts: domain ${name} given twice or reserved`);
    seen.add(name);
    if (d.sources.length === 0) throw new Error(`renderAts: ${name} has no origin source`);
    // Primaries in order, then standbys: with round_robin=false ATS always takes the first parent that is
    // up, and on a connect failure tries the next one in the same request (the varnish fallback director).
    const usable = d.sources.filter((s) => !isIpv6(s));
    const sources = [...usable.filter((s) => s.primary), ...usable.filter((s) => !s.primary)];
    if (sources.length === 0) continue; // IPv6 origins only: not served by this node
    const rule = `parent="${sources.map((s) => parent(name, s)).join(';')}" round_robin=false go_direct=false parent_is_proxy=false`;
    // "# domain <name>" lines let AtsEngine read back which names this file serves.
    remap.push(`# domain ${name}`);
    if (name.startsWith('*.')) {
      const base = name.slice(2);
      // Anchored: unanchored, Host "x.a.test.evil.example" would match "(.+)\.a\.test" and fill x.a.test's cache.
      remap.push(`regex_map http://^(.+)\\.${reEscape(base)}$/ http://$1.${base}/`);
      parents.push(`dest_domain=${base} ${rule}`);
    } else {
      remap.push(`map http://${name}/ http://${name}/`);
      parents.push(`dest_host=${name} ${rule}`);
    }
  }
  const text = { remap: `${remap.join('\n')}\n`, parent: `${parents.join('\n')}\n` };
  const stamp = createHash('sha256').update(text.remap).update(text.parent).digest('hex').slice(0, 16);
  return { remap: text.remap.replace(STAMP, stamp), parent: text.parent, stamp };
}

const STAMP = '@STAMP@';

/** The domain set version and names recorded in a rendered remap.config (undefined: not ours, or none yet). */
export function parseRemap(text: string): { version: number; names: string[] } | undefined {
  const m = /^# Rendered by cachectl .*domain set version (\d+);/m.exec(text);
  if (!m) return undefined;
  return { version: Number(m[1]), names: [...text.matchAll(/^# domain (\S+)$/gm)].map((x) => x[1]) };
}

/** The version and stamp in a probe's Location (`http://cachectl-version.invalid/v7-<stamp>/`), if any. */
export function versionFromLocation(location: string | undefined): { version: number; stamp: string } | undefined {
  const m = location && /^http:\/\/cachectl-version\.invalid\/v(\d+)-([0-9a-f]{16})\//.exec(location);
  return m ? { version: Number(m[1]), stamp: m[2] } : undefined;
}
