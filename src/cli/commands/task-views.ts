// Tables of tasks and their URLs, shared by purge/prefetch --wait and task.
import { formatTime, renderTable } from '../table.js';
import type { TaskObject, UrlObject } from '../api-types.js';

/** A URL's states, for --status filters (history-routes.ts checks the same list). */
export const URL_STATUSES = ['processing', 'succeed', 'failed', 'waiting', 'refreshing', 'preheating'] as const;

export function taskTable(tasks: TaskObject[]): string {
  return renderTable(
    [
      { header: 'ID' },
      { header: 'TYPE' },
      { header: 'FILE TYPE' },
      { header: 'STATUS' },
      { header: 'TOTAL', align: 'right' },
      { header: 'SUCCEED', align: 'right' },
      { header: 'FAILED', align: 'right' },
      { header: 'PROCESSING', align: 'right' },
      { header: 'CREATED' },
    ],
    tasks.map((t) => [t.id, t.task_type, t.file_type, t.status, t.total, t.succeed, t.failed, t.processing, formatTime(t.create_time)]),
  );
}

export function urlTable(urls: UrlObject[]): string {
  return renderTable(
    [{ header: 'URL' }, { header: 'STATUS' }, { header: 'FAIL CLASSIFY' }, { header: 'FAIL DESC' }],
    urls.map((u) => [u.url, u.status, u.fail_classify, u.fail_desc]),
  );
}
