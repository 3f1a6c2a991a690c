// quota: the account's daily quotas and what is used of them today (ShowQuota).
import { noArguments, type CommandScope } from '../args.js';
import type { QuotaList } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { renderTable } from '../table.js';

const scope: CommandScope = {
  name: 'quota',
  usage: [{ synopsis: 'cachectl quota', help: "the account's quotas (file and directory refresh and prefetch per day, domains) and what is used" }],
};

function quota(args: string[]): Promise<number> {
  return run(scope, args, {}, async ({ client, json, positionals }) => {
    noArguments(scope, positionals);
    const answer = await client.call<QuotaList>('GET', '/v1.0/cdn/quota');
    if (json) printJson(answer);
    else
      print(
        renderTable(
          [{ header: 'TYPE' }, { header: 'LIMIT', align: 'right' }, { header: 'USED', align: 'right' }, { header: 'LEFT', align: 'right' }],
          answer.quotas.map((q) => [q.type, q.quota_limit, q.used, Math.max(0, q.quota_limit - q.used)]),
        ),
      );
    return 0;
  });
}

export const quotaCommand: ClientCommand = { ...scope, options: {}, run: guarded(quota) };
