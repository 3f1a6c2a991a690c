// Work waiting for one node. Operations that pile up while calls are in flight go out together in the
// next call (up to the driver's maxBatch), so a burst costs few round trips and a lone purge goes
// out at once.
import type { EdgeDriver, EdgeResult, EdgeTarget, WorkKind } from '../edge/edge-driver.js';
import { runOnDriver } from './work.js';
import type { Metrics } from '../metrics/metrics.js';

export interface QueuedOp {
  kind: WorkKind;
  target: EdgeTarget;
  /** Epoch ms after which the answer is of no use: the op is not sent after it. */
  deadline?: number;
  /** false once the answer would be ignored (the URL was decided or dropped): the op is then not sent, and done is not called. */
  wanted?: () => boolean;
  done: (result: EdgeResult) => void;
}

const KINDS: WorkKind[] = ['purge', 'purge_dir', 'revalidate', 'revalidate_dir', 'prefetch'];

export class NodeQueue {
  private readonly waiting = new Map<WorkKind, QueuedOp[]>(KINDS.map((k) => [k, []]));
  private size = 0;
  private inFlight = 0;
  /** Prefetch calls in flight: they may last minutes (a slow or large fill), so they get half the slots. */
  private prefetchInFlight = 0;
  private scheduled = false;
  private next = 0;
  private closedWith: string | null = null;

  constructor(
    readonly name: string,
    private readonly driver: EdgeDriver,
    private readonly metrics?: Metrics,
  ) {}

  get backlog(): number {
    return this.size + this.inFlight;
  }

  /** Fails everything waiting (not what is in flight) with a final INNER_ERROR; later pushes fail too. */
  close(message: string): void {
    this.closedWith = message;
    for (const q of this.waiting.values()) {
      for (const op of q.splice(0)) op.done({ ok: false, classify: 'INNER_ERROR', retryable: false, message });
    }
    this.size = 0;
  }

  push(op: QueuedOp): void {
    if (this.closedWith !== null) return op.done({ ok: false, classify: 'INNER_ERROR', retryable: false, message: this.closedWith });
    this.waiting.get(op.kind)!.push(op);
    this.size++;
    if (!this.scheduled) {
      this.scheduled = true;
      // After the current synchronous burst, so that it is batched.
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  private pump(): void {
    const { maxBatch, maxInFlight } = this.driver.capabilities;
    while (this.size > 0 && this.inFlight < maxInFlight) {
      // Round robin over kinds, so a flood of one kind does not starve another.
      let ops: QueuedOp[] | undefined;
      let kind: WorkKind = 'purge';
      const prefetchFull = this.prefetchInFlight >= Math.ceil(maxInFlight / 2);
      for (let i = 0; i < KINDS.length; i++) {
        kind = KINDS[(this.next + i) % KINDS.length];
        const q = this.waiting.get(kind)!;
        // Purges and revalidations are never stuck behind long prefetch calls.
        if (q.length > 0 && !(kind === 'prefetch' && prefetchFull)) {
          this.next = (this.next + i + 1) % KINDS.length;
          ops = q.length <= maxBatch ? q.splice(0) : q.splice(0, maxBatch);
          break;
        }
      }
      if (!ops) return;
      this.size -= ops.length;
      ops = this.withoutStale(ops);
      if (ops.length === 0) continue;
      this.inFlight++;
      if (kind === 'prefetch') this.prefetchInFlight++;
      this.send(kind, ops);
    }
  }

  /**
   * Ops whose deadline passed while they waited (e.g. behind calls to a hung node) are not sent, nor
   * ops no longer wanted (their URL was given up, e.g. by a process that lost its lease).
   */
  private withoutStale(ops: QueuedOp[]): QueuedOp[] {
    const now = Date.now();
    const fresh = (o: QueuedOp) => (o.deadline === undefined || o.deadline > now) && (o.wanted === undefined || o.wanted());
    if (ops.every(fresh)) return ops;
    const live: QueuedOp[] = [];
    for (const op of ops) {
      if (fresh(op)) live.push(op);
      else if (op.wanted === undefined || op.wanted()) op.done({ ok: false, classify: 'INNER_ERROR', retryable: false, message: 'the deadline passed before the node could be asked' });
    }
    return live;
  }

  private send(kind: WorkKind, ops: QueuedOp[]): void {
    // The call is of no use after the last of its URLs' deadlines: it ends then at the latest.
    let last = 0;
    for (const o of ops) last = o.deadline === undefined ? Infinity : Math.max(last, o.deadline);
    const options = Number.isFinite(last) ? { timeoutMs: Math.max(1, last - Date.now()) } : undefined;
    const started = this.metrics ? performance.now() : 0;
    runOnDriver(
      this.driver,
      kind,
      ops.map((o) => o.target),
      options,
    ).then(
      (results) => {
        this.inFlight--;
        if (kind === 'prefetch') this.prefetchInFlight--;
        for (let i = 0; i < ops.length; i++) {
          const result = results[i] ?? { ok: false, classify: 'INNER_ERROR', retryable: true, message: 'node answered fewer results than asked' };
          if (!result.ok) this.metrics?.nodeErrors.labels(this.name, result.classify).inc();
          ops[i].done(result);
        }
        this.observe(kind, ops.length, started);
        this.pump();
      },
      (err: unknown) => {
        this.inFlight--;
        if (kind === 'prefetch') this.prefetchInFlight--;
        const message = err instanceof Error ? err.message : String(err);
        this.metrics?.nodeErrors.labels(this.name, 'INNER_ERROR').inc(ops.length);
        this.observe(kind, ops.length, started);
        for (const op of ops) op.done({ ok: false, classify: 'INNER_ERROR', retryable: true, message });
        this.pump();
      },
    );
  }

  /** One call's duration and operations, when metrics are on. */
  private observe(kind: WorkKind, ops: number, started: number): void {
    if (!this.metrics) return;
    this.metrics.nodeCallSeconds.labels(this.name, kind).observe((performance.now() - started) / 1000);
    this.metrics.nodeOperations.labels(this.name, kind).inc(ops);
  }
}
