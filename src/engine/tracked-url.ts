// What the engine holds for each URL it carries: the job as stored, and its tracking until every node
// is finished with it (attempts per node, failures, the deadline group it expires with).
import type { FleetMember } from './edge-fleet.js';
import type { NodeResult } from './node-results.js';
import type { TaskUrlRow } from '../store/repositories/task-rows.js';
import type { WorkKind } from '../edge/edge-driver.js';
import { workKindOf } from './work.js';
import type { Lease } from './worker-lease.js';

/** One URL of a task, as the engine needs it. */
export interface UrlJob {
  id: number;
  taskId: number;
  host: string;
  target: string;
  kind: WorkKind;
}

export interface Tracking extends UrlJob {
  deadline: number;
  pending: number;
  sentAt: number;
  failures: Array<{ node: string; classify: 'ORIGIN_ERROR' | 'INNER_ERROR'; message: string }>;
  nodes: NodeResult[];
  /** The fleet when the URL was taken up (one array shared by the URLs taken up together). */
  members: readonly FleetMember[];
  /**
   * Per member: the attempt sent or about to be sent (0 first), or -1 once that node is finished with
   * the URL. An answer for another attempt, or after -1, is late and ignored.
   */
  attempts: number[];
  /** Per member, why its last attempt failed (only once one did). */
  lastErrors?: string[];
  group: DeadlineGroup;
}

/** The URLs taken up together share one deadline and one timer; the timer goes when they are all decided. */
export interface DeadlineGroup {
  /** How long these URLs had (the task deadline, or a prefetch's longer timeout). */
  spanMs: number;
  urls: Tracking[];
  open: number;
  timer?: NodeJS.Timeout;
  /** Shared mode: the lease the URLs were taken under (their attempt). */
  lease?: Lease;
}

/** The job of a stored URL row. */
export function jobOfRow(r: TaskUrlRow): UrlJob {
  return {
    id: Number(r.id),
    taskId: Number(r.task_id),
    host: r.host,
    target: r.target,
    kind: workKindOf(r.task_type === 'PREHEATING' ? 'preheating' : 'refresh', r.file_type, r.mode),
  };
}
