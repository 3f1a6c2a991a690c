// accounts (admin): add, list, rm.
import { noArguments, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { AccountCreated, AccountDeleted, AccountList } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable } from '../table.js';

const OPTIONS: Record<string, OptionSpec> = { user: { type: 'string' }, password: { type: 'string' } };
const SUBCOMMANDS = ['add', 'list', 'rm'] as const;

const scope: CommandScope = {
  name: 'accounts',
  usage: [
    { synopsis: 'cachectl accounts add <name> [--user U] [--password P]', help: '(admin) create an account with a user and a key; prints the secrets once' },
    { synopsis: 'cachectl accounts list', help: '(admin) list accounts and their daily quotas' },
    { synopsis: 'cachectl accounts rm <name>', help: '(admin) delete an account, its users, keys, groups, policies and projects; refused while it has domains or tasks in process' },
  ],
};

function accounts(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one account name', scope);
        const password = str(values.password);
        if (password !== undefined && password.length < 8) throw new UsageError('--password must have at least 8 characters', scope);
        const answer = await client.call<AccountCreated>('POST', '/cachectl/v1/accounts', {
          body: { name: positionals[0], ...(str(values.user) !== undefined && { user: str(values.user) }), ...(password !== undefined && { password }) },
        });
        if (json) printJson(answer);
        else
          print(
            `${renderFields([
              ['account', answer.account.name],
              ['account id', answer.account.id],
              ['user', answer.user],
              ['password', answer.password],
              ['access key', answer.access_key],
              ['secret key', answer.secret_key],
            ])}\n\nThe password and the secret key are shown only now.`,
          );
        return 0;
      });
    case 'list':
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<AccountList>('GET', '/cachectl/v1/accounts');
        if (json) {
          printJson(answer);
          return 0;
        }
        print(
          renderTable(
            [
              { header: 'ID' },
              { header: 'NAME' },
              { header: 'ADMIN' },
              { header: 'FILE REFRESH/DAY', align: 'right' },
              { header: 'DIR REFRESH/DAY', align: 'right' },
              { header: 'PREFETCH/DAY', align: 'right' },
              { header: 'DOMAINS', align: 'right' },
              { header: 'CREATED' },
            ],
            answer.accounts.map((a) => [a.id, a.name, a.admin ? 'yes' : 'no', a.quotas?.file_refresh, a.quotas?.dir_refresh, a.quotas?.preheat, a.quotas?.domain, formatTime(Number(a.created_at))]),
          ),
        );
        return 0;
      });
    case 'rm':
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one account name', scope);
        const answer = await client.call<AccountDeleted>('DELETE', `/cachectl/v1/accounts/${encodeURIComponent(positionals[0])}`);
        if (json) printJson(answer);
        else print(`deleted account ${answer.deleted} and its ${answer.access_keys.length} access key${answer.access_keys.length === 1 ? '' : 's'}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const accountsCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(accounts) };
