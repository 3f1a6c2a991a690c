// groups: IAM user groups of an account — add, list, show (members and policies), rm, members add|rm.
import { noArguments, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { Attachment, GroupObject } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable } from '../table.js';
import { accountUsage, ACCOUNT_OPTION, accountQuery, seg } from './account-option.js';

const OPTIONS: Record<string, OptionSpec> = { ...ACCOUNT_OPTION, description: { type: 'string' } };
const SUBCOMMANDS = ['add', 'list', 'show', 'rm', 'members'] as const;

const scope: CommandScope = {
  name: 'groups',
  usage: [
    { synopsis: 'cachectl groups add <name> [--description D]', help: "add a user group; its members hold the policies attached to it (cachectl policies attach)" },
    { synopsis: 'cachectl groups list', help: 'the groups and their members' },
    { synopsis: 'cachectl groups show <name>', help: 'one group: its members and the policies attached, per enterprise project' },
    { synopsis: 'cachectl groups rm <name>', help: "delete a group (not 'admin')" },
    { synopsis: 'cachectl groups members add|rm <group> <user>', help: 'put a user in a group, or take it out' },
    accountUsage('groups'),
  ],
};

const groupFields = (g: GroupObject, policies?: Attachment[]) =>
  renderFields([
    ['group', g.name],
    ['id', g.id],
    ['members', g.members.join(', ')],
    ['description', g.description],
    ['created', formatTime(g.created_at)],
    ...(policies ? [['policies', policies.map((p) => `${p.policy}${p.enterprise_project_id === '*' ? '' : ` (project ${p.enterprise_project_id})`}`).join(', ')] as [string, string]] : []),
  ]);

function groups(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one group name', scope);
        const description = str(values.description);
        const answer = await client.call<{ group: GroupObject }>('POST', '/cachectl/v1/groups', { body: { name: positionals[0], ...(description !== undefined && { description }) }, query: accountQuery(values) });
        if (json) printJson(answer);
        else print(groupFields(answer.group));
        return 0;
      });
    case 'list':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<{ groups: GroupObject[] }>('GET', '/cachectl/v1/groups', { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(renderTable([{ header: 'NAME' }, { header: 'MEMBERS' }, { header: 'DESCRIPTION' }, { header: 'CREATED' }], answer.groups.map((g) => [g.name, g.members.join(','), g.description, formatTime(g.created_at)])));
        return 0;
      });
    case 'show':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one group name', scope);
        const path = `/cachectl/v1/groups/${seg(positionals[0])}`;
        const group = await client.call<{ group: GroupObject }>('GET', path, { query: accountQuery(values) });
        const policies = await client.call<{ policies: Attachment[] }>('GET', `${path}/policies`, { query: accountQuery(values) });
        if (json) printJson({ ...group, ...policies });
        else print(groupFields(group.group, policies.policies));
        return 0;
      });
    case 'rm':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one group name', scope);
        const answer = await client.call<{ deleted: string }>('DELETE', `/cachectl/v1/groups/${seg(positionals[0])}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(`deleted group ${answer.deleted}`);
        return 0;
      });
    case 'members':
      return run(scope, rest, ACCOUNT_OPTION, async ({ client, json, values, positionals }) => {
        const [verb, group, user] = positionals;
        if ((verb !== 'add' && verb !== 'rm') || positionals.length !== 3) throw new UsageError('give add or rm, the group and the user: groups members add <group> <user>', scope);
        const answer = await client.call<{ group: GroupObject }>(verb === 'add' ? 'PUT' : 'DELETE', `/cachectl/v1/groups/${seg(group)}/members/${seg(user)}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(groupFields(answer.group));
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const groupsCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(groups) };
