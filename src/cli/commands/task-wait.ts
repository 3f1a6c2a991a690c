// Waiting for the tasks purge/prefetch created: one task by long-poll, as before; several (a list split
// at the per-request limit) polled together and drawn as one progress.
import type { ApiClient } from '../../client/api-client.js';
import type { TaskDetail, TaskObject, TaskWaited } from '../api-types.js';
import { commandProgress, countsOf, sumCounts } from '../command-progress.js';
import { print, printJson, sleep, warn } from '../output.js';
import { taskTable, urlTable } from './task-views.js';

const WAIT_TIMEOUT_MS = 30_000;
const POLL_MS = 200;
const FAILED_PAGE = 1000;

const detailPath = (id: string) => `/v1.0/cdn/historytasks/${encodeURIComponent(id)}/detail`;

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

/** Polls every task's counts until all are done, drawing their sum. */
async function waitForAll(client: ApiClient, ids: readonly string[], json: boolean): Promise<TaskObject[]> {
  const bar = commandProgress(json, `${ids.length} tasks`);
  const latest = new Map<string, TaskObject>();
  try {
    for (;;) {
      const open = ids.filter((id) => latest.get(id)?.status !== 'task_done');
      for (const id of open) {
        const { urls: _urls, ...task } = await client.call<TaskDetail>('GET', detailPath(id), { query: [['page_size', 1], ['page_number', 1]] });
        latest.set(id, task);
      }
      const tasks = ids.flatMap((id) => latest.get(id) ?? []);
      const state = sumCounts(tasks.map(countsOf));
      if (tasks.every((t) => t.status === 'task_done')) {
        bar?.finish(state);
        return tasks;
      }
      bar?.update(state);
      await sleep(POLL_MS);
    }
  } finally {
    bar?.close();
  }
}

/**
 * Waits for the created tasks and prints them; exit 1 (after naming the failed URLs) when any URL
 * failed: the purge or prefetch did not fully happen.
 */
export async function waitAndReport(client: ApiClient, ids: readonly string[], json: boolean, command: string): Promise<number> {
  let tasks: TaskObject[];
  if (ids.length === 1) {
    const waited = await waitForTask(client, ids[0]);
    if (json) printJson(waited);
    tasks = [waited.task];
  } else {
    tasks = await waitForAll(client, ids, json);
    if (json) for (const task of tasks) printJson({ done: true, task });
  }
  if (!json) print(taskTable(tasks));
  const failed = sumCounts(tasks).failed;
  if (failed === 0) return 0;

  for (const t of tasks.filter((x) => x.failed > 0)) {
    const detail = await client.call<TaskDetail>('GET', detailPath(t.id), { query: [['page_size', FAILED_PAGE], ['page_number', 1], ['status', 'failed']] });
    if (json) printJson(detail);
    else print(`\n${urlTable(detail.urls)}`);
  }
  warn(`cachectl ${command}: ${failed} of ${sumCounts(tasks).total} URLs failed`);
  return 1;
}
