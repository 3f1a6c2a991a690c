// Renders cachectl/servers.conf, the part of the nginx config that depends on the domain set and the
// listen addresses: a default server (unknown hosts), the loopback control server (purge, version) and
// one server per domain with its upstream. Pure; data is checked against strict charsets, since nginx
// config has no quoting that would make arbitrary strings safe.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { DomainConfig } from '../edge-driver.js';

export interface NginxListen {
  /** host:port where users connect. */
  traffic: string;
  /** host:port of the control server (loopback): purges and the version probe. */
  control: string;
}

/** Marks nginx's own 404 for a host it does not serve, so that the agent never takes it for an origin 404. */
export const UNKNOWN_HOST_HEADER = 'x-cachectl-unknown-host';
export const VERSION_PATH = '/.cachectl/version';
export const PURGE_PREFIX = '/purge';
/** proxy_read_timeout of a prefetch: the longest --prefetch-timeout-ms (the agent gives up sooner). */
const PREFETCH_READ_TIMEOUT = '24h';

const HOST_RE = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
/** An origin named by DNS (resolved by nginx when it loads the config); IP addresses go through isIP. */
const ORIGIN_NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const LISTEN_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** A concrete host name (no wildcard) as nginx's $host has it: lower case, no port. */
export function isHostName(host: string): boolean {
  return HOST_RE.test(host) && !host.startsWith('*');
}

function checkListen(v: string): string {
  if (!LISTEN_RE.test(v)) throw new Error(`renderNginx: invalid listen address ${JSON.stringify(v)}`);
  return v;
}

function serverLine(address: string, port: number, backup: boolean): string {
  const bare = /^\[.*\]$/.test(address) ? address.slice(1, -1) : address;
  const ip = isIP(bare);
  if ((ip === 0 && !ORIGIN_NAME_RE.test(bare)) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`renderNginx: invalid origin ${JSON.stringify(address)}:${port}`);
  }
  const host = ip === 6 ? `[${bare}]` : bare;
  // max_fails=1 fail_timeout=5s: a failed primary is skipped for 5 s, then tried again.
  return `        server ${host}:${port} max_fails=1 fail_timeout=5s${backup ? ' backup' : ''};`;
}

export function renderNginx(domains: DomainConfig[], version: number, listen: NginxListen): string {
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`renderNginx: invalid version ${version}`);
  const traffic = checkListen(listen.traffic);
  const control = checkListen(listen.control);
  const out: string[] = [
    `# Rendered by cachectl (src/edge/nginx/render-nginx.ts), domain set version ${version}; do not edit.`,
    '',
    '# Hosts cachectl does not serve: 404, marked so that a prefetch is not taken for an origin answer.',
    'server {',
    `    listen ${traffic} default_server;`,
    `    return 404;`,
    `    add_header ${UNKNOWN_HOST_HEADER} 1 always;`,
    '}',
    '',
    '# Control (loopback only): exact purges with the key rebuilt as proxy_cache_key builds it (the',
    '# separate-location syntax: the same-location one crashes workers in ngx_cache_purge 2.3), and the',
    '# version of the domain set, which tells the agent that a reload took effect. The key is taken from',
    '# $request_uri, raw: a regex capture would be the decoded path, and miss percent-encoded keys.',
    'map $request_uri $cachectl_purge_uri {',
    `    ~^${PURGE_PREFIX}(?<u>/.*)$ $u;`,
    '}',
    'server {',
    `    listen ${control};`,
    '    allow 127.0.0.1;',
    '    allow ::1;',
    '    deny all;',
    `    location = ${VERSION_PATH} {`,
    `        return 200 "${version} ${STAMP}";`,
    '    }',
    `    location ^~ ${PURGE_PREFIX}/ {`,
    '        proxy_cache_purge cachectl $scheme$host$cachectl_purge_uri;',
    '    }',
    '    location / {',
    '        return 404;',
    '    }',
    '}',
  ];
  const seen = new Set<string>();
  domains.forEach((d, i) => {
    const name = d.name.toLowerCase();
    if (!HOST_RE.test(name)) throw new Error(`renderNginx: invalid domain name ${JSON.stringify(d.name)}`);
    // nginx only warns about a second server with the same name, and ignores it: refuse instead.
    if (seen.has(name)) throw new Error(`renderNginx: invalid domain set, ${name} appears twice`);
    seen.add(name);
    const primaries = d.sources.filter((s) => s.primary);
    const standbys = d.sources.filter((s) => !s.primary);
    if (d.sources.length === 0) throw new Error(`renderNginx: ${name} has no origin source`);
    // nginx needs a primary; with standbys only, they serve as primaries.
    const lines = primaries.length > 0
      ? [...primaries.map((s) => serverLine(s.address, s.httpPort, false)), ...standbys.map((s) => serverLine(s.address, s.httpPort, true))]
      : standbys.map((s) => serverLine(s.address, s.httpPort, false));
    // Exact names win over wildcards in nginx's own server_name matching, as cachectl wants.
    out.push(
      '',
      `upstream cachectl_d${i} {`,
      ...lines,
      '    keepalive 16;',
      '}',
      'server {',
      `    listen ${traffic};`,
      `    server_name ${name};`,
      '    location / {',
      '        error_page 418 = @cachectl_prefetch;',
      '        if ($cachectl_prefetch) {',
      '            return 418;',
      '        }',
      `        proxy_pass http://cachectl_d${i};`,
      '    }',
      // A prefetch (X-Prefetch from the agent) may wait minutes for a slow or large object: the agent
      // bounds it with the prefetch timeout, and nginx drops the fetch when the agent goes away.
      '    location @cachectl_prefetch {',
      `        proxy_read_timeout ${PREFETCH_READ_TIMEOUT};`,
      `        proxy_send_timeout ${PREFETCH_READ_TIMEOUT};`,
      `        proxy_pass http://cachectl_d${i};`,
      '    }',
      '}',
    );
  });
  const text = `${out.join('\n')}\n`;
  return text.replace(STAMP, renderStamp(text));
}

/**
 * The version probe answers the domain set's version and a digest of the rendered text: two sets can
 * carry one version number (a node reused by another deployment, a database started anew), and the
 * agent must not take the old workers' answer for the new config's.
 */
const STAMP = '@STAMP@';
const renderStamp = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The probe's answer: `<version> <stamp>`. */
export function parseVersionAnswer(text: string): { version: number; stamp: string } | undefined {
  const m = /^(\d+) ([0-9a-f]{16})$/.exec(text);
  return m ? { version: Number(m[1]), stamp: m[2] } : undefined;
}

/** The stamp the probe answers once nginx serves this rendered text. */
export function stampOf(text: string): string {
  return /return 200 "\d+ ([0-9a-f]{16})";/.exec(text)?.[1] ?? '';
}
