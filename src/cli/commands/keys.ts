// keys (admin): access keys — add, list, rm.
import { noArguments, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { KeyCreated, KeyList } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable, type Cell } from '../table.js';

const OPTIONS: Record<string, OptionSpec> = { account: { type: 'string' }, description: { type: 'string' } };
const SUBCOMMANDS = ['add', 'list', 'rm'] as const;

const scope: CommandScope = {
  name: 'keys',
  usage: [
    { synopsis: 'cachectl keys add --account <name> [--description D]', help: "(admin) a new access key for the account's first user" },
    { synopsis: 'cachectl keys list [--account <name>]', help: '(admin) list access keys' },
    { synopsis: 'cachectl keys rm <access key>', help: '(admin) delete an access key' },
  ],
};

function keys(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (the account goes in --account)`, scope);
        const account = str(values.account);
        if (account === undefined) throw new UsageError('--account is required', scope);
        const description = str(values.description);
        if (description !== undefined && description.length > 200) throw new UsageError('--description is at most 200 characters', scope);
        const answer = await client.call<KeyCreated>('POST', '/cachectl/v1/keys', { body: { account, ...(description !== undefined && { description }) } });
        if (json) printJson(answer);
        else
          print(
            `${renderFields([
              ['account', answer.account],
              ['access key', answer.access_key],
              ['secret key', answer.secret_key],
            ])}\n\nThe secret key is shown only now.`,
          );
        return 0;
      });
    case 'list':
      return run(scope, rest, { account: OPTIONS.account }, async ({ client, json, values, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<KeyList>('GET', '/cachectl/v1/keys', { query: [['account', str(values.account)]] });
        if (json) {
          printJson(answer);
          return 0;
        }
        print(
          answer.keys.length === 0
            ? 'No access keys.'
            : renderTable(
                [{ header: 'ACCESS KEY' }, { header: 'ACCOUNT' }, { header: 'DESCRIPTION' }, { header: 'CREATED' }],
                answer.keys.map((k): Cell[] => [k.access_key, k.account, k.description, formatTime(Number(k.created_at))]),
              ),
        );
        return 0;
      });
    case 'rm':
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one access key', scope);
        const answer = await client.call<{ deleted: string }>('DELETE', `/cachectl/v1/keys/${encodeURIComponent(positionals[0])}`);
        if (json) printJson(answer);
        else print(`deleted access key ${answer.deleted}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const keysCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(keys) };
