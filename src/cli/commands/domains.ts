// domains: add (and wait until online), list, show, origin, enable, disable, rm, project (move to an enterprise project).
import { domainNotFound } from '../../errors.js';
import { ApiError, type ApiClient } from '../../client/api-client.js';
import { list, noArguments, oneOf, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { DomainObject } from '../api-types.js';
import { print, printJson, sleep, warn } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { domainFields, domainTable, findDomainsByName, resolveDomain, sourceOf } from './domain-lookup.js';
import { ACCOUNT_OPTION, accountQuery, seg } from './account-option.js';
import { resolveProject } from './projects.js';

const BUSINESS_TYPES = ['web', 'download', 'video', 'wholeSite'] as const;
const DOMAIN_WAIT_MS = 120_000;
const POLL_MS = 200;

const OPTIONS: Record<string, OptionSpec> = {
  origin: { type: 'string' },
  standby: { type: 'string', multiple: true },
  type: { type: 'string' },
  wait: { type: 'boolean' },
  name: { type: 'string' },
  exact: { type: 'boolean' },
  ...ACCOUNT_OPTION,
};
const only = (...names: string[]) => Object.fromEntries(names.map((n) => [n, OPTIONS[n]]));

const SUBCOMMANDS = ['add', 'list', 'show', 'origin', 'enable', 'disable', 'rm', 'project'] as const;

const scope: CommandScope = {
  name: 'domains',
  usage: [
    {
      synopsis: 'cachectl domains add <name> --origin <ip|host>[:port] [--standby <ip|host>[:port]]… [--type web|download|video|wholeSite] [--wait]',
      help: 'add an accelerated domain; --wait: until it is online on every edge',
    },
    { synopsis: 'cachectl domains list [--name N] [--exact]', help: 'list domains (--name: a part of the name, or the whole name with --exact)' },
    { synopsis: 'cachectl domains show <name or id>', help: 'one domain: its status, origins with their ports, CNAME and times' },
    {
      synopsis: 'cachectl domains origin <name or id> --origin <ip|host>[:port] [--standby <ip|host>[:port]]… [--wait]',
      help: 'replace a domain\'s origins (cached objects stay); --wait: until every edge has applied them',
    },
    { synopsis: 'cachectl domains enable|disable|rm <name or id>', help: 'enable, disable, or delete a domain (only a disabled domain can be deleted)' },
    { synopsis: 'cachectl domains project <name> <project>', help: "move a domain to an enterprise project (id or name; '0': default)" },
  ],
};

/** --origin (required) and --standby, as the sources of a domain. */
function sourcesOf(values: Record<string, string | boolean | string[] | undefined>) {
  const origin = str(values.origin);
  if (origin === undefined) throw new UsageError('--origin is required', scope);
  return [sourceOf(scope, 'origin', origin, true), ...list(values.standby).map((s) => sourceOf(scope, 'standby', s, false))];
}

/** Polls until the domain is online on every edge: 0, or 1 (with a warning) when it fails or the wait runs out. */
async function waitOnline(client: ApiClient, json: boolean, domain: { id: string; domain_name: string }, sub: string): Promise<number> {
  const deadline = Date.now() + DOMAIN_WAIT_MS;
  for (;;) {
    const [answer] = await findDomainsByName(client, domain.domain_name, true);
    const d = answer.domains.find((x) => x.id === domain.id);
    if (!d) throw new ApiError(domainNotFound.code, domainNotFound.status, `The domain '${domain.domain_name}' disappeared while waiting for it.`);
    if (d.domain_status === 'online') {
      if (json) printJson(answer);
      else print(domainTable([d]));
      return 0;
    }
    if (d.domain_status !== 'configuring' && d.domain_status !== 'checking') {
      if (json) printJson(answer);
      warn(`cachectl domains ${sub}: ${d.domain_name} is ${d.domain_status}${d.status_detail ? `: ${d.status_detail}` : ''}`);
      return 1;
    }
    if (Date.now() > deadline) {
      warn(`cachectl domains ${sub}: ${d.domain_name} is still ${d.domain_status} after ${DOMAIN_WAIT_MS / 1000} s${d.status_detail ? ` (${d.status_detail})` : ''}`);
      return 1;
    }
    await sleep(POLL_MS);
  }
}

function domains(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, only('origin', 'standby', 'type', 'wait'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name', scope);
        const type = oneOf(scope, 'type', str(values.type), BUSINESS_TYPES) ?? 'web';
        const sources = sourcesOf(values);
        const created = await client.call<{ domain: DomainObject }>('POST', '/v1.0/cdn/domains', {
          body: { domain: { domain_name: positionals[0], business_type: type, sources } },
        });
        if (json) printJson(created);
        if (values.wait !== true) {
          if (!json) print(domainTable([{ ...created.domain, sources: created.domain.sources.map((s, i) => ({ ...s, http_port: sources[i]?.http_port })) }]));
          return 0;
        }
        return waitOnline(client, json, created.domain, 'add');
      });
    case 'list':
      return run(scope, rest, only('name', 'exact'), async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const name = str(values.name);
        if (values.exact === true && name === undefined) throw new UsageError('--exact needs --name', scope);
        const pages = await findDomainsByName(client, name?.toLowerCase() ?? '', values.exact === true);
        if (json) {
          for (const p of pages) printJson(p);
          return 0;
        }
        const all = pages.flatMap((p) => p.domains);
        print(all.length === 0 ? 'No domains.' : domainTable(all));
        return 0;
      });
    case 'show':
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name or id', scope);
        const id = await resolveDomain(client, positionals[0]);
        const answer = await client.call<{ domain: DomainObject }>('GET', `/v1.0/cdn/domains/${encodeURIComponent(id)}/detail`);
        if (json) printJson(answer);
        else print(domainFields(answer.domain));
        return 0;
      });
    case 'origin':
      // UpdateDomainOrigin: the whole origin list is replaced; what the edges cached stays cached.
      return run(scope, rest, only('origin', 'standby', 'wait'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name or id', scope);
        const sources = sourcesOf(values);
        const id = await resolveDomain(client, positionals[0]);
        await client.call('PUT', `/v1.0/cdn/domains/${encodeURIComponent(id)}/origin`, { body: { origin: { sources } } });
        const detail = await client.call<{ domain: DomainObject }>('GET', `/v1.0/cdn/domains/${encodeURIComponent(id)}/detail`);
        if (values.wait === true && detail.domain.domain_status !== 'offline') return waitOnline(client, json, detail.domain, 'origin');
        if (json) printJson(detail);
        else print(domainTable([detail.domain]));
        return 0;
      });
    case 'enable':
    case 'disable':
    case 'rm':
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name or id', scope);
        const id = await resolveDomain(client, positionals[0]);
        const path = `/v1.0/cdn/domains/${encodeURIComponent(id)}`;
        const answer = sub === 'rm' ? await client.call<{ domain: DomainObject }>('DELETE', path) : await client.call<{ domain: DomainObject }>('PUT', `${path}/${sub}`);
        if (json) printJson(answer);
        else print(sub === 'rm' ? `deleted ${answer.domain.domain_name} (${answer.domain.id})` : domainTable([answer.domain]));
        return 0;
      });
    case 'project':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 2) throw new UsageError('give the domain name and the enterprise project', scope);
        const project = await resolveProject(client, values, positionals[1]);
        const answer = await client.call<{ domain: { domain_name: string; enterprise_project_id: string; previous: string } }>('PUT', `/cachectl/v1/domains/${seg(positionals[0].toLowerCase())}/project`, {
          body: { enterprise_project_id: project },
          query: accountQuery(values),
        });
        if (json) printJson(answer);
        else print(`moved ${answer.domain.domain_name} from enterprise project ${answer.domain.previous} to ${answer.domain.enterprise_project_id}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const domainsCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(domains) };
