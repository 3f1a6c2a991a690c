// purge and prefetch: create refresh or preheating tasks (a list over the per-request limit becomes
// several tasks), and with --wait follow them to the end.
import { intOption, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { PreheatRequest, RefreshRequest, TaskCreated } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { batches, readUrlList } from '../url-list.js';
import { waitAndReport } from './task-wait.js';

// The API's defaults per request (huawei-cdn-api.md §2.1, §3.1; the server's --max-urls, --max-dirs).
const MAX_URLS = 1000;
const MAX_DIRS = 100;

const COMMON: Record<string, OptionSpec> = { 'zh-url-encode': { type: 'boolean' }, wait: { type: 'boolean' }, 'from-file': { type: 'string' }, batch: { type: 'string' } };
const PURGE_OPTIONS: Record<string, OptionSpec> = { dir: { type: 'boolean' }, 'changed-only': { type: 'boolean' }, ...COMMON };
const PREFETCH_OPTIONS: Record<string, OptionSpec> = COMMON;

function createTask(kind: 'refresh' | 'preheating', scope: CommandScope, options: Record<string, OptionSpec>) {
  return (args: string[]) =>
    run(scope, args, options, async ({ client, json, values, positionals }) => {
      const dir = values.dir === true;
      const batch = intOption(scope, 'batch', str(values.batch), 1, 100_000) ?? (dir ? MAX_DIRS : MAX_URLS);
      const fromFile = str(values['from-file']);
      let urls = positionals;
      if (fromFile !== undefined) {
        try {
          urls = [...urls, ...(await readUrlList(fromFile))];
        } catch (err) {
          throw new UsageError(`--from-file: ${(err as Error).message}`, scope);
        }
      }
      if (urls.length === 0) throw new UsageError(`give at least one URL (http:// or https://)${fromFile !== undefined ? `: ${fromFile} has none` : ''}`, scope);
      const zh = values['zh-url-encode'] === true ? { zh_url_encode: true } : {};

      // Each id is printed as soon as its task exists: if a later batch is refused, the earlier ones
      // are known (and running).
      const ids: string[] = [];
      for (const part of batches(urls, batch)) {
        const answer =
          kind === 'refresh'
            ? await client.call<TaskCreated>('POST', '/v1.0/cdn/content/refresh-tasks', {
                body: {
                  refresh_task: { type: dir ? 'directory' : 'file', ...(values['changed-only'] === true && { mode: 'detect_modify_refresh' }), ...zh, urls: part },
                } satisfies RefreshRequest,
              })
            : await client.call<TaskCreated>('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { ...zh, urls: part } } satisfies PreheatRequest });
        const id = 'refresh_task' in answer ? answer.refresh_task : answer.preheating_task;
        ids.push(id);
        if (json) printJson(answer);
        else print(id);
      }
      return values.wait === true ? waitAndReport(client, ids, json, scope.name) : 0;
    });
}

const LIST_HELP =
  '--from-file F: the URLs of F too, one per line (- for stdin); a list over the API\'s limit per request (1000 URLs, 100 directories; --batch N) becomes several tasks, one id per line, followed by --wait as one progress';

const purgeScope: CommandScope = {
  name: 'purge',
  usage: [
    {
      synopsis: 'cachectl purge <url…> [--from-file F] [--dir] [--changed-only] [--zh-url-encode] [--batch N] [--wait]',
      help: `create a refresh task (--dir: type directory; --changed-only: mode detect_modify_refresh); prints the task id. --wait: wait for it and print the summary (exit 1 if a URL failed). ${LIST_HELP}`,
    },
  ],
};

const prefetchScope: CommandScope = {
  name: 'prefetch',
  usage: [{ synopsis: 'cachectl prefetch <url…> [--from-file F] [--zh-url-encode] [--batch N] [--wait]', help: 'create a preheating task; prints the task id (--wait, --from-file and --batch as for purge)' }],
};

export const purge: ClientCommand = { ...purgeScope, options: PURGE_OPTIONS, run: guarded(createTask('refresh', purgeScope, PURGE_OPTIONS)) };
export const prefetch: ClientCommand = { ...prefetchScope, options: PREFETCH_OPTIONS, run: guarded(createTask('preheating', prefetchScope, PREFETCH_OPTIONS)) };
