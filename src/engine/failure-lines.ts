// The log lines of failed URLs: one warning per URL with its task, each node that failed it and why.
// A task that fails wholesale (a node down, 1,000 URLs) would flood the log, so each task gets at most
// PER_TASK lines here; its "task done" line says how many more failed unlogged. A URL's query string
// is left out (signed URLs carry tokens in it); the task and URL ids find the whole URL in the API.
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logging/logger.js';
import type { Tracking } from './tracked-url.js';

const PER_TASK = 20;
// Tasks with failures remembered at once; an evicted task starts counting again (a few lines more).
const TASKS = 10_000;

export class FailureLines {
  private readonly counts = new LRUCache<number, { logged: number; unlogged: number }>({ max: TASKS });

  constructor(private readonly logger: Logger) {}

  failed(t: Tracking, classify: string): void {
    if (!this.logger.isLevelEnabled('warn')) return;
    let count = this.counts.get(t.taskId);
    if (!count) this.counts.set(t.taskId, (count = { logged: 0, unlogged: 0 }));
    if (count.logged >= PER_TASK) {
      count.unlogged++;
      return;
    }
    count.logged++;
    const q = t.target.indexOf('?');
    this.logger.warn(
      {
        task_id: t.taskId,
        url_id: t.id,
        url: `${t.host}${q < 0 ? t.target : `${t.target.slice(0, q)}?…`}`,
        fail_classify: classify,
        nodes: t.failures.map((f) => ({ node: f.node, classify: f.classify, reason: f.message })),
      },
      'url failed',
    );
  }

  /** The task is done: forgets it, and answers how many of its failed URLs were not logged. */
  forget(taskId: number): number {
    const count = this.counts.get(taskId);
    this.counts.delete(taskId);
    return count?.unlogged ?? 0;
  }
}
