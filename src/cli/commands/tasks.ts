// tasks: the task list (ShowHistoryTasks), filtered, sorted and paged.
import { intOption, noArguments, oneOf, str, timeOption, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { TaskList } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { taskTable } from './task-views.js';

const ORDER_FIELDS = ['create_time', 'task_type', 'total', 'processing', 'succeed', 'failed'] as const;

const OPTIONS: Record<string, OptionSpec> = {
  status: { type: 'string' },
  type: { type: 'string' },
  'file-type': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  sort: { type: 'string' },
  page: { type: 'string' },
  'page-size': { type: 'string' },
};

const scope: CommandScope = {
  name: 'tasks',
  usage: [
    {
      synopsis:
        'cachectl tasks [--status task_inprocess|task_done] [--type refresh|preheating] [--file-type file|directory] [--since <ISO or ms>] [--until <ISO or ms>] [--sort field[:asc|desc]] [--page N] [--page-size N]',
      help: 'list tasks, newest first (sort fields: create_time, task_type, total, processing, succeed, failed; times without a zone are UTC)',
    },
  ],
};

function tasks(args: string[]): Promise<number> {
  return run(scope, args, OPTIONS, async ({ client, json, values, positionals }) => {
    noArguments(scope, positionals);
    const status = oneOf(scope, 'status', str(values.status), ['task_inprocess', 'task_done'] as const);
    const type = oneOf(scope, 'type', str(values.type), ['refresh', 'preheating'] as const);
    const fileType = oneOf(scope, 'file-type', str(values['file-type']), ['file', 'directory'] as const);
    const since = timeOption(scope, 'since', str(values.since));
    const until = timeOption(scope, 'until', str(values.until));
    if (since !== undefined && until !== undefined && until < since) throw new UsageError('--until is before --since', scope);
    let orderField: string | undefined;
    let orderType: string | undefined;
    const sort = str(values.sort);
    if (sort !== undefined) {
      const [field, direction = 'desc', extra] = sort.split(':');
      if (extra !== undefined) throw new UsageError(`--sort is field[:asc|desc] (got '${sort}')`, scope);
      orderField = oneOf(scope, 'sort', field, ORDER_FIELDS);
      orderType = oneOf(scope, 'sort direction', direction, ['asc', 'desc'] as const);
    }
    const page = intOption(scope, 'page', str(values.page), 1, 65535) ?? 1;
    const pageSize = intOption(scope, 'page-size', str(values['page-size']), 1, 10000) ?? 30;

    const answer = await client.call<TaskList>('GET', '/v1.0/cdn/historytasks', {
      query: [
        ['page_size', pageSize],
        ['page_number', page],
        ['status', status],
        ['task_type', type],
        ['file_type', fileType],
        ['start_date', since],
        ['end_date', until],
        ['order_field', orderField],
        ['order_type', orderType],
      ],
    });
    if (json) {
      printJson(answer);
      return 0;
    }
    const pages = Math.max(1, Math.ceil(answer.total / pageSize));
    if (answer.tasks.length === 0) print(answer.total === 0 ? 'No tasks.' : `No tasks on page ${page} (${answer.total} tasks, ${pages} pages).`);
    else print(`${taskTable(answer.tasks)}\n\npage ${page} of ${pages}, ${answer.total} task${answer.total === 1 ? '' : 's'}`);
    return 0;
  });
}

export const tasksCommand: ClientCommand = { ...scope, options: OPTIONS, run: guarded(tasks) };
