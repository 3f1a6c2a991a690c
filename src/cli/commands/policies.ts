// policies: the account's IAM policies — add and set from a Huawei JSON file, list, show, rm; attach to
// and detach from a group, for every enterprise project or one.
import fs from 'node:fs';
import { noArguments, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec, type Values } from '../args.js';
import type { Attachment, PolicyObject } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable } from '../table.js';
import { accountUsage, ACCOUNT_OPTION, accountQuery, seg } from './account-option.js';
import { resolveProject } from './projects.js';

const OPTIONS: Record<string, OptionSpec> = { ...ACCOUNT_OPTION, file: { type: 'string' }, description: { type: 'string' }, group: { type: 'string' }, project: { type: 'string' } };
const only = (...names: string[]) => Object.fromEntries(['account', ...names].map((n) => [n, OPTIONS[n]]));
const SUBCOMMANDS = ['add', 'list', 'show', 'set', 'rm', 'attach', 'detach'] as const;

const scope: CommandScope = {
  name: 'policies',
  usage: [
    { synopsis: 'cachectl policies add <name> --file policy.json [--description D]', help: 'add a custom policy in Huawei\'s JSON form ({"Version":"1.1","Statement":[…]}); --file - reads stdin' },
    { synopsis: 'cachectl policies list', help: 'the system and custom policies' },
    { synopsis: 'cachectl policies show <name>', help: 'one policy and its document' },
    { synopsis: 'cachectl policies set <name> [--file policy.json] [--description D]', help: 'replace a custom policy\'s document or description' },
    { synopsis: 'cachectl policies rm <name>', help: 'delete a custom policy attached to no group' },
    {
      synopsis: 'cachectl policies attach|detach <policy> --group G [--project P]',
      help: 'attach a policy to a group (or detach it), for every enterprise project or for P (id or name)',
    },
    accountUsage('policies'),
  ],
};

/** The document of --file: parsed here so that a broken file is a usage error naming it. */
function documentOf(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`--file ${file}: ${(err as Error).message}`, scope);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--file ${file}: not JSON: ${(err as Error).message}`, scope);
  }
}

const policyFields = (p: PolicyObject) =>
  `${renderFields([
    ['policy', p.name],
    ['id', p.id],
    ['type', p.type],
    ['description', p.description],
    ['created', formatTime(p.created_at)],
  ])}\n${JSON.stringify(p.policy, null, 2)}`;

function withDescription(values: Values, body: Record<string, unknown>): Record<string, unknown> {
  const description = str(values.description);
  return description === undefined ? body : { ...body, description };
}

function policies(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, only('file', 'description'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one policy name', scope);
        const file = str(values.file);
        if (file === undefined) throw new UsageError('--file is required', scope);
        const answer = await client.call<{ policy: PolicyObject }>('POST', '/cachectl/v1/policies', { body: withDescription(values, { name: positionals[0], policy: documentOf(file) }), query: accountQuery(values) });
        if (json) printJson(answer);
        else print(policyFields(answer.policy));
        return 0;
      });
    case 'list':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<{ policies: PolicyObject[] }>('GET', '/cachectl/v1/policies', { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(renderTable([{ header: 'NAME' }, { header: 'TYPE' }, { header: 'ID' }, { header: 'DESCRIPTION' }], answer.policies.map((p) => [p.name, p.type, p.id, p.description])));
        return 0;
      });
    case 'show':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one policy name or id', scope);
        const answer = await client.call<{ policy: PolicyObject }>('GET', `/cachectl/v1/policies/${seg(positionals[0])}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(policyFields(answer.policy));
        return 0;
      });
    case 'set':
      return run(scope, rest, only('file', 'description'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one policy name or id', scope);
        const file = str(values.file);
        const body = withDescription(values, file === undefined ? {} : { policy: documentOf(file) });
        if (Object.keys(body).length === 0) throw new UsageError('give what to change: --file or --description', scope);
        const answer = await client.call<{ policy: PolicyObject }>('PUT', `/cachectl/v1/policies/${seg(positionals[0])}`, { body, query: accountQuery(values) });
        if (json) printJson(answer);
        else print(policyFields(answer.policy));
        return 0;
      });
    case 'rm':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one policy name or id', scope);
        const answer = await client.call<{ deleted: string }>('DELETE', `/cachectl/v1/policies/${seg(positionals[0])}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(`deleted policy ${answer.deleted}`);
        return 0;
      });
    case 'attach':
    case 'detach':
      return run(scope, rest, only('group', 'project'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one policy name or id', scope);
        const group = str(values.group);
        if (group === undefined) throw new UsageError('--group is required', scope);
        const project = str(values.project) === undefined ? undefined : await resolveProject(client, values, str(values.project)!);
        const path = `/cachectl/v1/groups/${seg(group)}/policies`;
        const answer =
          sub === 'attach'
            ? await client.call<{ policies: Attachment[] }>('POST', path, { body: { policy: positionals[0], ...(project !== undefined && { enterprise_project_id: project }) }, query: accountQuery(values) })
            : await client.call<{ policies: Attachment[] }>('DELETE', `${path}/${seg(positionals[0])}`, { query: [...accountQuery(values), ['enterprise_project_id', project]] });
        if (json) printJson(answer);
        else
          print(
            answer.policies.length === 0
              ? `group ${group} has no policies`
              : renderTable([{ header: 'POLICY' }, { header: 'TYPE' }, { header: 'PROJECT' }], answer.policies.map((p) => [p.policy, p.type, p.enterprise_project_id === '*' ? 'all' : p.enterprise_project_id])),
          );
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const policiesCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(policies) };
