// Tables of tasks and their URLs, shared by purge/prefetch --wait and task.
import { formatTime, renderTable } from '../table.js';
import type { TaskObject, UrlObject } from '../api-types.js';

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

/** The progress of one task, or of several summed (a URL list split into tasks). */
export interface TaskCounts {
  total: number;
  succeed: number;
  failed: number;
  processing: number;
}

export const countsOf = (t: TaskCounts): TaskCounts => ({ total: t.total, succeed: t.succeed, failed: t.failed, processing: t.processing });

export function sumCounts(tasks: readonly TaskCounts[]): TaskCounts {
  const sum = { total: 0, succeed: 0, failed: 0, processing: 0 };
  for (const t of tasks) {
    sum.total += t.total;
    sum.succeed += t.succeed;
    sum.failed += t.failed;
    sum.processing += t.processing;
  }
  return sum;
}
