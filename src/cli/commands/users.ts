// users: IAM users of an account — add, list, show, set, rm.
import fs from 'node:fs';
import { list, noArguments, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { UserObject } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable } from '../table.js';
import { accountUsage, ACCOUNT_OPTION, accountQuery, seg } from './account-option.js';

const OPTIONS: Record<string, OptionSpec> = {
  ...ACCOUNT_OPTION,
  group: { type: 'string', multiple: true },
  password: { type: 'string' },
  description: { type: 'string' },
  disabled: { type: 'boolean' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
};
const only = (...names: string[]) => Object.fromEntries(['account', ...names].map((n) => [n, OPTIONS[n]]));
const SUBCOMMANDS = ['add', 'list', 'show', 'set', 'rm'] as const;

/** --password P, or --password - to read it from stdin (kept out of the process list). */
function passwordOf(values: Record<string, unknown>): string | undefined {
  const p = str(values.password as string | undefined);
  return p === '-' ? fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '') : p;
}

const scope: CommandScope = {
  name: 'users',
  usage: [
    {
      synopsis: 'cachectl users add <name> [--group G]… [--password P] [--description D] [--disabled]',
      help: 'add an IAM user to the account (in groups G); without --password one is made and shown once; --password - reads it from stdin',
    },
    { synopsis: 'cachectl users list', help: 'the users, their groups and whether they are enabled' },
    { synopsis: 'cachectl users show <name>', help: 'one user' },
    { synopsis: 'cachectl users set <name> [--enable|--disable] [--password P] [--description D]', help: 'change a user; --disable and a new password sign it out at once' },
    { synopsis: 'cachectl users rm <name>', help: 'delete a user, its keys and tokens' },
    accountUsage('users'),
  ],
};

const userFields = (u: UserObject) =>
  renderFields([
    ['user', u.name],
    ['id', u.id],
    ['enabled', u.enabled ? 'yes' : 'no'],
    ['groups', u.groups.join(', ')],
    ['description', u.description],
    ['created', formatTime(u.created_at)],
  ]);

function users(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, only('group', 'password', 'description', 'disabled'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one user name', scope);
        const password = passwordOf(values);
        const body = { name: positionals[0], groups: list(values.group), ...(password !== undefined && { password }), ...(str(values.description) !== undefined && { description: str(values.description) }), ...(values.disabled === true && { enabled: false }) };
        const answer = await client.call<{ user: UserObject; password?: string }>('POST', '/cachectl/v1/users', { body, query: accountQuery(values) });
        if (json) printJson(answer);
        else print(answer.password === undefined ? userFields(answer.user) : `${userFields(answer.user)}\npassword:    ${answer.password}\n\nThe password is shown only now.`);
        return 0;
      });
    case 'list':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<{ users: UserObject[] }>('GET', '/cachectl/v1/users', { query: accountQuery(values) });
        if (json) printJson(answer);
        else
          print(
            renderTable(
              [{ header: 'NAME' }, { header: 'ENABLED' }, { header: 'GROUPS' }, { header: 'DESCRIPTION' }, { header: 'CREATED' }],
              answer.users.map((u) => [u.name, u.enabled ? 'yes' : 'no', u.groups.join(','), u.description, formatTime(u.created_at)]),
            ),
          );
        return 0;
      });
    case 'show':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one user name', scope);
        const answer = await client.call<{ user: UserObject }>('GET', `/cachectl/v1/users/${seg(positionals[0])}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(userFields(answer.user));
        return 0;
      });
    case 'set':
      return run(scope, rest, only('enable', 'disable', 'password', 'description'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one user name', scope);
        if (values.enable === true && values.disable === true) throw new UsageError('--enable or --disable, not both', scope);
        const body = {
          ...(values.enable === true && { enabled: true }),
          ...(values.disable === true && { enabled: false }),
          ...(values.password !== undefined && { password: passwordOf(values) }),
          ...(str(values.description) !== undefined && { description: str(values.description) }),
        };
        if (Object.keys(body).length === 0) throw new UsageError('give what to change: --enable, --disable, --password or --description', scope);
        const answer = await client.call<{ user: UserObject }>('PUT', `/cachectl/v1/users/${seg(positionals[0])}`, { body, query: accountQuery(values) });
        if (json) printJson(answer);
        else print(userFields(answer.user));
        return 0;
      });
    case 'rm':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one user name', scope);
        const answer = await client.call<{ deleted: string; access_keys: string[] }>('DELETE', `/cachectl/v1/users/${seg(positionals[0])}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(`deleted user ${answer.deleted} and its ${answer.access_keys.length} access key${answer.access_keys.length === 1 ? '' : 's'}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const usersCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(users) };
