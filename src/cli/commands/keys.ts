// keys: access keys of the account's users — add, list, enable, disable, set (expiry, description), rm.
import { noArguments, splitSubcommand, str, timeOption, UsageError, type CommandScope, type OptionSpec, type Values } from '../args.js';
import type { KeyCreated, KeyList } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable, type Cell } from '../table.js';
import { ACCOUNT_OPTION, accountQuery, seg } from './account-option.js';

const OPTIONS: Record<string, OptionSpec> = { ...ACCOUNT_OPTION, user: { type: 'string' }, description: { type: 'string' }, expires: { type: 'string' } };
const only = (...names: string[]) => Object.fromEntries(['account', ...names].map((n) => [n, OPTIONS[n]]));
const SUBCOMMANDS = ['add', 'list', 'enable', 'disable', 'set', 'rm'] as const;

const scope: CommandScope = {
  name: 'keys',
  usage: [
    {
      synopsis: 'cachectl keys add [--user U] [--description D] [--expires DATE] [--account A]',
      help: "a new access key for user U (default: yourself; with --account (admin): that account's first user); at most 2 per user; the secret is shown once",
    },
    { synopsis: 'cachectl keys list [--user U] [--account A]', help: 'the access keys (the admin, without --account: of every account), their state, last use and expiry' },
    { synopsis: 'cachectl keys enable|disable <access key>', help: 'a disabled key is refused from the next call on' },
    { synopsis: 'cachectl keys set <access key> [--expires DATE|never] [--description D]', help: 'change when a key expires, or its description' },
    { synopsis: 'cachectl keys rm <access key>', help: 'delete an access key' },
  ],
};

/** --expires: a date or time (UTC), or 'never' (null). */
function expiresOf(values: Values): number | null | undefined {
  const text = str(values.expires);
  return text === 'never' ? null : timeOption(scope, 'expires', text);
}

function description(values: Values): string | undefined {
  const d = str(values.description);
  if (d !== undefined && d.length > 200) throw new UsageError('--description is at most 200 characters', scope);
  return d;
}

function keys(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (the user goes in --user)`, scope);
        const d = description(values);
        const expires = expiresOf(values);
        const body = { ...(str(values.account) !== undefined && { account: str(values.account) }), ...(str(values.user) !== undefined && { user: str(values.user) }), ...(d !== undefined && { description: d }), ...(expires && { expires_at: expires }) };
        const answer = await client.call<KeyCreated>('POST', '/cachectl/v1/keys', { body });
        if (json) printJson(answer);
        else
          print(
            `${renderFields([
              ['account', answer.account],
              ['user', answer.user],
              ['access key', answer.access_key],
              ['secret key', answer.secret_key],
              ...(answer.expires_at !== null ? [['expires', formatTime(answer.expires_at)] as [string, string]] : []),
            ])}\n\nThe secret key is shown only now.`,
          );
        return 0;
      });
    case 'list':
      return run(scope, rest, only('user'), async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<KeyList>('GET', '/cachectl/v1/keys', { query: [...accountQuery(values), ['user', str(values.user)]] });
        if (json) {
          printJson(answer);
          return 0;
        }
        print(
          answer.keys.length === 0
            ? 'No access keys.'
            : renderTable(
                [{ header: 'ACCESS KEY' }, { header: 'ACCOUNT' }, { header: 'DESCRIPTION' }, { header: 'CREATED' }, { header: 'USER' }, { header: 'ENABLED' }, { header: 'LAST USED' }, { header: 'EXPIRES' }],
                answer.keys.map((k): Cell[] => [k.access_key, k.account, k.description, formatTime(k.created_at), k.user, k.enabled ? 'yes' : 'no', formatTime(k.last_used_at), k.expires_at === null ? 'never' : formatTime(k.expires_at)]),
              ),
        );
        return 0;
      });
    case 'enable':
    case 'disable':
    case 'set':
      return run(scope, rest, sub === 'set' ? only('expires', 'description') : only(), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one access key', scope);
        const d = description(values);
        const expires = expiresOf(values);
        const body = sub === 'set' ? { ...(expires !== undefined && { expires_at: expires }), ...(d !== undefined && { description: d }) } : { enabled: sub === 'enable' };
        if (Object.keys(body).length === 0) throw new UsageError('give what to change: --expires or --description', scope);
        const answer = await client.call<{ key: KeyList['keys'][number] }>('PUT', `/cachectl/v1/keys/${seg(positionals[0])}`, { body, query: accountQuery(values) });
        if (json) printJson(answer);
        else
          print(
            renderFields([
              ['access key', answer.key.access_key],
              ['user', answer.key.user],
              ['enabled', answer.key.enabled ? 'yes' : 'no'],
              ['expires', answer.key.expires_at === null ? 'never' : formatTime(answer.key.expires_at)],
              ['description', answer.key.description],
            ]),
          );
        return 0;
      });
    case 'rm':
      return run(scope, rest, only(), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one access key', scope);
        const answer = await client.call<{ deleted: string }>('DELETE', `/cachectl/v1/keys/${seg(positionals[0])}`, { query: accountQuery(values) });
        if (json) printJson(answer);
        else print(`deleted access key ${answer.deleted}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const keysCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(keys) };
