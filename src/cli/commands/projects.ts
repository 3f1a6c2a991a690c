// projects: enterprise projects of an account — add, list, rm; and finding one by id or name.
import type { ApiClient } from '../../client/api-client.js';
import { noArguments, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec, type Values } from '../args.js';
import type { ProjectObject } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable } from '../table.js';
import { accountUsage, ACCOUNT_OPTION, accountQuery, seg } from './account-option.js';

const OPTIONS: Record<string, OptionSpec> = { ...ACCOUNT_OPTION, description: { type: 'string' } };
const SUBCOMMANDS = ['add', 'list', 'rm'] as const;

const scope: CommandScope = {
  name: 'projects',
  usage: [
    { synopsis: 'cachectl projects add <name> [--description D]', help: 'add an enterprise project (its id is a UUID); cachectl domains project moves domains into it' },
    { synopsis: 'cachectl projects list', help: "the enterprise projects, with '0' (default)" },
    { synopsis: 'cachectl projects rm <id or name>', help: 'delete an enterprise project without domains or attached policies' },
    accountUsage('projects'),
  ],
};

/** An enterprise project's id from its id or its name ('*' and '0' as they are). */
export async function resolveProject(client: ApiClient, values: Values, idOrName: string): Promise<string> {
  if (idOrName === '*' || idOrName === '0') return idOrName;
  const { projects } = await client.call<{ projects: ProjectObject[] }>('GET', '/cachectl/v1/projects', { query: accountQuery(values) });
  return (projects.find((p) => p.id === idOrName) ?? projects.find((p) => p.name === idOrName))?.id ?? idOrName;
}

function projects(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one project name', scope);
        const description = str(values.description);
        const answer = await client.call<{ project: ProjectObject }>('POST', '/cachectl/v1/projects', { body: { name: positionals[0], ...(description !== undefined && { description }) }, query: accountQuery(values) });
        if (json) printJson(answer);
        else
          print(
            renderFields([
              ['project', answer.project.name],
              ['id', answer.project.id],
              ['description', answer.project.description],
              ['created', formatTime(answer.project.created_at)],
            ]),
          );
        return 0;
      });
    case 'list':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<{ projects: ProjectObject[] }>('GET', '/cachectl/v1/projects', { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(renderTable([{ header: 'ID' }, { header: 'NAME' }, { header: 'DESCRIPTION' }, { header: 'CREATED' }], answer.projects.map((p) => [p.id, p.name, p.description, formatTime(p.created_at)])));
        return 0;
      });
    case 'rm':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one project id or name', scope);
        const id = await resolveProject(client, values, positionals[0]);
        const answer = await client.call<{ deleted: string }>('DELETE', `/cachectl/v1/projects/${seg(id)}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(`deleted enterprise project ${answer.deleted}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const projectsCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(projects) };
