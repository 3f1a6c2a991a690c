// task <id>: a task and its URLs; --watch follows it with a progress bar, --nodes shows each node's result.
import type { ApiClient } from '../../client/api-client.js';
import { oneOf, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { TaskDetail, TaskNodesPage, TaskOwnView } from '../api-types.js';
import { print, printJson, sleep, warn } from '../output.js';
import { commandProgress, countsOf } from '../command-progress.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { formatTime, renderFields, renderTable, type Cell } from '../table.js';
import { URL_STATUSES, urlTable } from './task-views.js';

const PAGE = 10_000;
const NODES_PAGE = 1000;
const WATCH_INTERVAL_MS = 200;

const OPTIONS: Record<string, OptionSpec> = { watch: { type: 'boolean' }, status: { type: 'string' }, url: { type: 'string' }, nodes: { type: 'boolean' } };

const scope: CommandScope = {
  name: 'task',
  usage: [
    {
      synopsis: 'cachectl task <id> [--watch] [--status S] [--url U] [--nodes]',
      help: "a task and its URLs; --watch shows a live progress bar until task_done, then exits 1 if a URL failed (S: processing, succeed, failed, waiting, refreshing, preheating); --nodes: each node's result, time and error per URL",
    },
  ],
};

function task(args: string[]): Promise<number> {
  return run(scope, args, OPTIONS, async ({ client, json, values, positionals }) => {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give a task id' : `one task id only (got ${positionals.length} arguments)`, scope);
    const id = positionals[0];
    if (values.nodes === true) {
      if (values.watch === true) throw new UsageError('--nodes and --watch do not go together', scope);
      return taskNodes(client, json, id, str(values.url));
    }
    const status = oneOf(scope, 'status', str(values.status), URL_STATUSES);
    const url = str(values.url);
    const path = `/v1.0/cdn/historytasks/${encodeURIComponent(id)}/detail`;
    const detail = (pageSize: number, page: number) =>
      client.call<TaskDetail>('GET', path, { query: [['page_size', pageSize], ['page_number', page], ['status', status], ['url', url]] });

    /** Every URL page (the detail's urls are paged; `total` counts the task's URLs, not the filtered ones). */
    const allPages = async (first?: TaskDetail): Promise<TaskDetail[]> => {
      const pages = [first ?? (await detail(PAGE, 1))];
      while (pages[pages.length - 1].urls.length === PAGE && pages.length * PAGE < pages[0].total && pages.length < 65535) {
        pages.push(await detail(PAGE, pages.length + 1));
      }
      return pages;
    };

    const watching = values.watch === true;
    const pages = watching ? await watch(id, json, async (small) => detail(small ? 1 : PAGE, 1), allPages) : await allPages();

    const t = pages[0];
    if (json) for (const p of pages) printJson(p);
    else {
      // Who created it is cachectl's own view of the task; the Huawei detail does not carry it.
      const own = (await client.call<TaskOwnView>('GET', `/cachectl/v1/tasks/${encodeURIComponent(id)}`)).task;
      const creator = own.created_by.user === null ? '-' : `${own.created_by.user}${own.created_by.access_key ? ` (key ${own.created_by.access_key})` : ' (token)'}`;
      const urls = pages.flatMap((p) => p.urls);
      print(
        renderFields([
          ['task', t.id],
          ['type', t.task_type],
          ['file type', t.file_type],
          ['status', t.status],
          ['created', formatTime(t.create_time)],
          ['created by', creator],
          ['project', own.enterprise_project_id],
          ['urls', `${t.total} total, ${t.succeed} succeed, ${t.failed} failed, ${t.processing} processing`],
        ]),
      );
      print('');
      print(urls.length === 0 ? (status !== undefined || url !== undefined ? 'No URLs match.' : 'No URLs.') : urlTable(urls));
    }
    // Watching waits for the outcome, as purge --wait does: a failed URL is a failure.
    if (watching && t.failed > 0) {
      warn(`cachectl task: ${t.failed} of ${t.total} URLs failed`);
      return 1;
    }
    return 0;
  });
}

/**
 * Polls the task every ~200 ms until task_done, drawing the progress. While the task has at most 10000
 * URLs each poll fetches them all (page_size 10000), so the last poll is the answer; bigger tasks poll
 * the counts only (page_size 1) and fetch every page at the end.
 */
async function watch(
  id: string,
  json: boolean,
  poll: (countsOnly: boolean) => Promise<TaskDetail>,
  allPages: (first?: TaskDetail) => Promise<TaskDetail[]>,
): Promise<TaskDetail[]> {
  const bar = commandProgress(json, `task ${id}`);
  try {
    let countsOnly = false;
    for (;;) {
      const answer = await poll(countsOnly);
      if (answer.status === 'task_done') {
        bar?.finish(countsOf(answer));
        return countsOnly ? allPages() : allPages(answer);
      }
      bar?.update(countsOf(answer));
      countsOnly = answer.total > PAGE;
      await sleep(WATCH_INTERVAL_MS);
    }
  } finally {
    bar?.close();
  }
}

/** Each URL's result on each node (cachectl's own endpoint; the Huawei detail does not carry it). */
async function taskNodes(client: ApiClient, json: boolean, id: string, url: string | undefined): Promise<number> {
  const pages: TaskNodesPage[] = [];
  for (let offset = 0; ; offset += NODES_PAGE) {
    const page = await client.call<TaskNodesPage>('GET', `/cachectl/v1/tasks/${encodeURIComponent(id)}/nodes`, {
      query: [['offset', offset], ['limit', NODES_PAGE], ['url', url]],
    });
    pages.push(page);
    if (page.urls.length < NODES_PAGE) break;
  }
  if (json) {
    for (const p of pages) printJson(p);
    return 0;
  }
  const rows: Cell[][] = [];
  for (const u of pages.flatMap((p) => p.urls)) {
    if (u.nodes.length === 0) rows.push([u.url, u.status, '-', '', '', 'no node has answered yet']);
    for (const n of u.nodes) rows.push([u.url, u.status, n.node, n.ok ? 'ok' : `failed ${n.classify ?? ''}`.trim(), `${n.ms}`, n.ok ? (n.detail ?? '') : (n.error ?? '')]);
  }
  print(
    rows.length === 0
      ? 'No URLs.'
      : renderTable([{ header: 'URL' }, { header: 'STATUS' }, { header: 'NODE' }, { header: 'RESULT' }, { header: 'MS', align: 'right' }, { header: 'DETAIL / ERROR' }], rows),
  );
  return 0;
}

export const taskCommand: ClientCommand = { ...scope, options: OPTIONS, run: guarded(task) };
