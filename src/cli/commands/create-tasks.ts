// purge and prefetch: create a refresh or preheating task, and with --wait follow it to the end.
import type { ApiClient } from '../api-client.js';
import { UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { TaskCreated, TaskDetail, TaskWaited } from '../api-types.js';
import { print, printJson, warn } from '../output.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { taskTable, urlTable } from './task-views.js';

const WAIT_TIMEOUT_MS = 30_000;

/** Long-polls until the task is done; returns the last answer. */
async function waitForTask(client: ApiClient, id: string): Promise<TaskWaited> {
  for (;;) {
    const answer = await client.call<TaskWaited>('GET', `/cachectl/v1/tasks/${encodeURIComponent(id)}/wait`, {
      query: [['timeout_ms', WAIT_TIMEOUT_MS]],
      timeoutMs: WAIT_TIMEOUT_MS + 30_000,
    });
    if (answer.done || answer.task?.status === 'task_done') return answer;
  }
}

const PURGE_OPTIONS: Record<string, OptionSpec> = { dir: { type: 'boolean' }, 'changed-only': { type: 'boolean' }, 'zh-url-encode': { type: 'boolean' }, wait: { type: 'boolean' } };
const PREFETCH_OPTIONS: Record<string, OptionSpec> = { 'zh-url-encode': { type: 'boolean' }, wait: { type: 'boolean' } };

function createTask(kind: 'refresh' | 'preheating', scope: CommandScope, options: Record<string, OptionSpec>) {
  return (args: string[]) =>
    run(scope, args, options, async ({ client, json, values, positionals: urls }) => {
      if (urls.length === 0) throw new UsageError('give at least one URL (http:// or https://)', scope);
      const zh = values['zh-url-encode'] === true ? { zh_url_encode: true } : {};
      const answer =
        kind === 'refresh'
          ? await client.call<TaskCreated>('POST', '/v1.0/cdn/content/refresh-tasks', {
              body: {
                refresh_task: {
                  type: values.dir === true ? 'directory' : 'file',
                  ...(values['changed-only'] === true && { mode: 'detect_modify_refresh' }),
                  ...zh,
                  urls,
                },
              },
            })
          : await client.call<TaskCreated>('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { ...zh, urls } } });
      const id = 'refresh_task' in answer ? answer.refresh_task : answer.preheating_task;
      if (json) printJson(answer);
      else print(String(id));
      if (values.wait !== true) return 0;

      const waited = await waitForTask(client, String(id));
      if (json) printJson(waited);
      else print(taskTable([waited.task]));
      if (waited.task.failed === 0) return 0;

      // Say which URLs failed, and exit 1: the purge or prefetch did not fully happen.
      const failed = await client.call<TaskDetail>('GET', `/v1.0/cdn/historytasks/${encodeURIComponent(String(id))}/detail`, {
        query: [['page_size', 1000], ['page_number', 1], ['status', 'failed']],
      });
      if (json) printJson(failed);
      else print(`\n${urlTable(failed.urls)}`);
      warn(`cachectl ${scope.name}: ${waited.task.failed} of ${waited.task.total} URLs failed`);
      return 1;
    });
}

const purgeScope: CommandScope = {
  name: 'purge',
  usage: [
    {
      synopsis: 'cachectl purge <url…> [--dir] [--changed-only] [--zh-url-encode] [--wait]',
      help: 'create a refresh task (--dir: type directory; --changed-only: mode detect_modify_refresh); prints the task id. --wait: wait for it and print the summary (exit 1 if a URL failed)',
    },
  ],
};

const prefetchScope: CommandScope = {
  name: 'prefetch',
  usage: [{ synopsis: 'cachectl prefetch <url…> [--zh-url-encode] [--wait]', help: 'create a preheating task; prints the task id (--wait as for purge)' }],
};

export const purge: ClientCommand = { ...purgeScope, options: PURGE_OPTIONS, run: guarded(createTask('refresh', purgeScope, PURGE_OPTIONS)) };
export const prefetch: ClientCommand = { ...prefetchScope, options: PREFETCH_OPTIONS, run: guarded(createTask('preheating', prefetchScope, PREFETCH_OPTIONS)) };
