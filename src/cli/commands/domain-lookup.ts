// Finding domains by name (the exact-match list) and reading --origin/--standby, for the domains command.
import net from 'node:net';
import { domainNotFound } from '../../errors.js';
import { ApiError, type ApiClient } from '../../client/api-client.js';
import { UsageError, type CommandScope } from '../args.js';
import type { DomainList, DomainObject, DomainSource } from '../api-types.js';
import { formatTime, renderFields, renderTable } from '../table.js';

const PAGE = 10_000;

/** `host`, `host:port`, `1.2.3.4:80`, `[::1]:8080` or a bare IPv6 address. */
export function parseOrigin(text: string): { host: string; port?: number } | undefined {
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1];
    port = bracket[2];
    if (net.isIPv6(host) === false) return undefined;
  } else if ((text.match(/:/g) ?? []).length > 1) {
    if (!net.isIPv6(text)) return undefined;
    host = text;
  } else {
    const i = text.lastIndexOf(':');
    host = i >= 0 ? text.slice(0, i) : text;
    port = i >= 0 ? text.slice(i + 1) : undefined;
    if (port !== undefined && !/^\d+$/.test(port)) return undefined;
  }
  if (host.length === 0) return undefined;
  if (port === undefined) return { host };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return { host, port: n };
}

export function sourceOf(scope: CommandScope, flag: string, text: string, primary: boolean) {
  const o = parseOrigin(text);
  if (!o) throw new UsageError(`--${flag} '${text}' is not <ip|host>[:port]`, scope);
  return {
    ip_or_domain: o.host,
    origin_type: net.isIP(o.host) ? 'ipaddr' : 'domain',
    active_standby: primary ? 1 : 0,
    ...(o.port !== undefined && { http_port: o.port }),
  };
}

export async function findDomainsByName(client: ApiClient, name: string, exact: boolean): Promise<DomainList[]> {
  const pages: DomainList[] = [];
  for (let page = 1; page <= 65535; page++) {
    const answer = await client.call<DomainList>('GET', '/v1.0/cdn/domains', {
      query: [['domain_name', name || undefined], ['exact_match', exact ? 'true' : undefined], ['page_size', PAGE], ['page_number', page]],
    });
    pages.push(answer);
    if (answer.domains.length < PAGE || page * PAGE >= answer.total) break;
  }
  return pages;
}

/** A name (it has a dot) → the domain's id, through the exact-match list; anything else is an id. */
export async function resolveDomain(client: ApiClient, nameOrId: string): Promise<string> {
  if (!nameOrId.includes('.')) return nameOrId;
  const [answer] = await findDomainsByName(client, nameOrId.toLowerCase(), true);
  const found = answer.domains.find((d) => d.domain_name === nameOrId.toLowerCase()) ?? answer.domains[0];
  if (!found) throw new ApiError(domainNotFound.code, domainNotFound.status, `The accelerated domain '${nameOrId}' does not exist.`);
  return found.id;
}

export function sourcesText(sources: readonly Partial<DomainSource>[]): string {
  return sources
    .map((s) => {
      const name = s.ip_or_domain ?? '';
      const host = name.includes(':') ? `[${name}]` : name;
      return `${s.http_port !== undefined ? `${host}:${s.http_port}` : host}${s.active_standby === 1 ? '' : ' (standby)'}`;
    })
    .join(', ');
}

export function domainTable(domains: DomainObject[]): string {
  return renderTable(
    [{ header: 'ID' }, { header: 'NAME' }, { header: 'TYPE' }, { header: 'STATUS' }, { header: 'ORIGINS' }, { header: 'CREATED' }],
    domains.map((d) => [d.id, d.domain_name, d.business_type, d.domain_status, sourcesText(d.sources ?? []), formatTime(d.create_time)]),
  );
}

export function domainFields(d: DomainObject): string {
  return renderFields([
    ['domain', d.domain_name],
    ['id', d.id],
    ['type', d.business_type],
    ['service area', d.service_area],
    ['status', d.status_detail ? `${d.domain_status} (${d.status_detail})` : d.domain_status],
    ['cname', d.cname],
    ['origins', sourcesText(d.sources ?? [])],
    ['created', formatTime(d.create_time)],
    ['modified', formatTime(d.modify_time)],
  ]);
}
