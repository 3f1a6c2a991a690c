// What the engine asks of a node for one URL of a task.
import type { CallOptions, EdgeDriver, EdgeResult, EdgeTarget, WorkKind } from '../edge/edge-driver.js';

/** The driver method behind each kind of work. */
export function runOnDriver(driver: EdgeDriver, kind: WorkKind, targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
  switch (kind) {
    case 'purge':
      return driver.purge(targets, options);
    case 'purge_dir':
      return driver.purgeDirectory(targets, options);
    case 'revalidate':
      return driver.revalidate(targets, options);
    case 'revalidate_dir':
      return driver.revalidateDirectory(targets, options);
    case 'prefetch':
      return driver.prefetch(targets, options);
  }
}

/** The kind of work for a task's type, file type and mode (huawei-cdn-api.md §9.3). */
export function workKindOf(taskType: string, fileType: string, mode: string): WorkKind {
  if (taskType === 'preheating') return 'prefetch';
  const soft = mode === 'detect_modify_refresh';
  if (fileType === 'directory') return soft ? 'revalidate_dir' : 'purge_dir';
  return soft ? 'revalidate' : 'purge';
}
