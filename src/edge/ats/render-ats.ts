// Renders ATS's remap.config and parent.config for a domain set. Pure; data is checked against strict
// charsets. Each domain remaps to itself, so the cache key (the remapped URL) keeps the public host:
// two domains on one origin never share objects, and a regex_revalidate rule names one domain. The
// origins are parents with parent_is_proxy=false (primaries in order, standbys as secondary parents).
import type { DomainConfig } from '../edge-driver.js';

/** A Host whose remap rule exists only in domain set `version`: the probe that a reload took effect. */
export const versionHost = (version: number) => `cachectl-v${version}.invalid`;
export const VERSION_PROBE_PATH = '/';

const HOST_RE = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const ADDR_RE = /^([A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$/;

function parent(address: string, port: number): string {
  if (!ADDR_RE.test(address) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`renderAts: invalid origin ${JSON.stringify(address)}:${port}`);
  }
  return `${address.replace(/^\[|\]$/g, '')}:${port}|1.0`;
}

/**
 * `probePort`: a loopback port answering 200 to anything (the edge agent's): the version host is routed
 * to it like a domain to its origin, so a 200 proves that this version's rules are live.
 */
export function renderAts(domains: DomainConfig[], version: number, probePort: number): { remap: string; parent: string } {
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`renderAts: invalid version ${version}`);
  const probe = versionHost(version);
  const remap = [
    `# Rendered by cachectl (src/edge/ats/render-ats.ts), domain set version ${version}; do not edit.`,
    `map http://${probe}/ http://${probe}/`,
  ];
  const parents = [
    `# Rendered by cachectl, domain set version ${version}; do not edit.`,
    `dest_host=${probe} parent="${parent('127.0.0.1', probePort)}" round_robin=false go_direct=false parent_is_proxy=false`,
  ];
  // Exact names first: ATS takes the first matching remap rule.
  const sorted = [...domains].sort((a, b) => Number(a.name.startsWith('*.')) - Number(b.name.startsWith('*.')));
  for (const d of sorted) {
    const name = d.name.toLowerCase();
    if (!HOST_RE.test(name)) throw new Error(`renderAts: invalid domain name ${JSON.stringify(d.name)}`);
    if (d.sources.length === 0) throw new Error(`renderAts: ${name} has no origin source`);
    const primaries = d.sources.filter((s) => s.primary);
    const standbys = d.sources.filter((s) => !s.primary);
    const first = primaries.length > 0 ? primaries : standbys;
    const second = primaries.length > 0 ? standbys : [];
    const list = (ss: typeof d.sources) => ss.map((s) => parent(s.address, s.httpPort)).join(';');
    const secondary = second.length > 0 ? ` secondary_parent="${list(second)}" secondary_mode=2` : '';
    const common = `parent="${list(first)}"${secondary} round_robin=false go_direct=false parent_is_proxy=false`;
    if (name.startsWith('*.')) {
      const base = name.slice(2);
      remap.push(`regex_map http://(.+)\\.${base.replace(/\./g, '\\.')}/ http://$1.${base}/`);
      parents.push(`dest_domain=${base} ${common}`);
    } else {
      remap.push(`map http://${name}/ http://${name}/`);
      parents.push(`dest_host=${name} ${common}`);
    }
  }
  return { remap: `${remap.join('\n')}\n`, parent: `${parents.join('\n')}\n` };
}
