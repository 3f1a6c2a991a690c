// url-tasks: URLs of every task in a time window of at most 24 hours (ShowUrlTaskInfo), filtered and paged.
import { intOption, noArguments, oneOf, str, timeOption, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { UrlTaskList } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { formatTime, renderTable } from '../table.js';
import { URL_STATUSES } from './task-views.js';

const DAY_MS = 24 * 3600_000;

const OPTIONS: Record<string, OptionSpec> = {
  since: { type: 'string' },
  until: { type: 'string' },
  url: { type: 'string' },
  type: { type: 'string' },
  status: { type: 'string' },
  'file-type': { type: 'string' },
  offset: { type: 'string' },
  limit: { type: 'string' },
};

const scope: CommandScope = {
  name: 'url-tasks',
  usage: [
    {
      synopsis: 'cachectl url-tasks [--since <ISO or ms> [--until <ISO or ms>]] [--url U] [--type refresh|preheating] [--status S] [--file-type file|directory] [--offset N] [--limit N]',
      help: "every task's URLs created in a window of at most 24 hours (default today, UTC; --since alone: the 24 hours from it); --limit 1 to 100 (default 10)",
    },
  ],
};

function urlTasks(args: string[]): Promise<number> {
  return run(scope, args, OPTIONS, async ({ client, json, values, positionals }) => {
    noArguments(scope, positionals);
    let since = timeOption(scope, 'since', str(values.since));
    let until = timeOption(scope, 'until', str(values.until));
    if (until !== undefined && since === undefined) since = until - DAY_MS;
    if (since !== undefined && until === undefined) until = since + DAY_MS;
    if (since !== undefined && until !== undefined && until < since) throw new UsageError('--until is before --since', scope);
    if (since !== undefined && until !== undefined && until - since > DAY_MS) throw new UsageError('--since to --until spans more than 24 hours', scope);
    const type = oneOf(scope, 'type', str(values.type), ['refresh', 'preheating'] as const);
    const status = oneOf(scope, 'status', str(values.status), URL_STATUSES);
    const fileType = oneOf(scope, 'file-type', str(values['file-type']), ['file', 'directory'] as const);
    const offset = intOption(scope, 'offset', str(values.offset), 0, 2 ** 31 - 1) ?? 0;
    const limit = intOption(scope, 'limit', str(values.limit), 1, 100) ?? 10;

    const answer = await client.call<UrlTaskList>('GET', '/v1.0/cdn/contentgateway/url-tasks', {
      query: [
        ['start_time', since],
        ['end_time', until],
        ['url', str(values.url)],
        ['task_type', type],
        ['status', status],
        ['file_type', fileType],
        ['offset', offset],
        ['limit', limit],
      ],
    });
    if (json) {
      printJson(answer);
      return 0;
    }
    if (answer.result.length === 0) {
      print(answer.total === 0 ? 'No URLs.' : `No URLs from offset ${offset} (${answer.total} in all).`);
      return 0;
    }
    print(
      renderTable(
        [{ header: 'TASK' }, { header: 'URL' }, { header: 'TYPE' }, { header: 'FILE TYPE' }, { header: 'MODE' }, { header: 'STATUS' }, { header: 'CREATED' }, { header: 'MODIFIED' }],
        answer.result.map((r) => [r.task_id, r.url, r.type, r.file_type, r.mode, r.status, formatTime(r.create_time), formatTime(r.modify_time)]),
      ),
    );
    print(`\n${offset + 1}–${offset + answer.count} of ${answer.total}`);
    return 0;
  });
}

export const urlTasksCommand: ClientCommand = { ...scope, options: OPTIONS, run: guarded(urlTasks) };
