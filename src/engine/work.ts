// What the engine asks of a node for one URL of a task.
import type { EdgeDriver, EdgeResult, EdgeTarget } from '../edge/edge-driver.js';

export type WorkKind = 'purge' | 'purge_dir' | 'revalidate' | 'revalidate_dir' | 'prefetch';

/** The driver method behind each kind of work. */
export function runOnDriver(driver: EdgeDriver, kind: WorkKind, targets: EdgeTarget[]): Promise<EdgeResult[]> {
  switch (kind) {
    case 'purge':
      return driver.purge(targets);
    case 'purge_dir':
      return driver.purgeDirectory(targets);
    case 'revalidate':
      return driver.revalidate(targets);
    case 'revalidate_dir':
      return driver.revalidateDirectory(targets);
    case 'prefetch':
      return driver.prefetch(targets);
  }
}

/** The kind of work for a task's type, file type and mode (huawei-cdn-api.md §9.3). */
export function workKindOf(taskType: string, fileType: string, mode: string): WorkKind {
  if (taskType === 'preheating') return 'prefetch';
  const soft = mode === 'detect_modify_refresh';
  if (fileType === 'directory') return soft ? 'revalidate_dir' : 'purge_dir';
  return soft ? 'revalidate' : 'purge';
}
