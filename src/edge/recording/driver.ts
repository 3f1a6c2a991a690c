// A driver that records every call and answers as its script says, without a server: the engine's
// batching, queueing, retries and deadlines can be tested against it (also with mock timers).
import type { CallOptions, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget, WorkKind } from '../edge-driver.js';

/** One call of an operation method, in the order the driver received them. */
export interface RecordedCall {
  kind: WorkKind;
  targets: EdgeTarget[];
  options?: CallOptions;
  /** Date.now() when the call came (the mocked clock, under mock timers). */
  at: number;
}

/** How the node answers one target of a call: a result, or a promise of one (held until the test settles it). */
export type Script = (kind: WorkKind, target: EdgeTarget, call: RecordedCall) => EdgeResult | Promise<EdgeResult>;

export interface RecordingOptions {
  capabilities?: Partial<EdgeCapabilities>;
  /** Default: every operation succeeds. */
  script?: Script;
}

export class RecordingDriver implements EdgeDriver {
  readonly capabilities: EdgeCapabilities;
  readonly calls: RecordedCall[] = [];
  /** Domain sets applied, with their versions. */
  readonly applied: Array<{ domains: DomainConfig[]; version: number }> = [];
  script: Script;
  closed = false;

  constructor(options: RecordingOptions = {}) {
    this.capabilities = { maxBatch: 500, maxInFlight: 8, ...options.capabilities };
    this.script = options.script ?? (() => ({ ok: true }));
  }

  /** The calls of one kind. */
  callsOf(kind: WorkKind): RecordedCall[] {
    return this.calls.filter((c) => c.kind === kind);
  }

  private record(kind: WorkKind, targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    const call: RecordedCall = { kind, targets, ...(options && { options }), at: Date.now() };
    this.calls.push(call);
    return Promise.all(targets.map((t) => this.script(kind, t, call)));
  }

  purge(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.record('purge', targets, options);
  }

  purgeDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.record('purge_dir', targets, options);
  }

  revalidate(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.record('revalidate', targets, options);
  }

  revalidateDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.record('revalidate_dir', targets, options);
  }

  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.record('prefetch', targets, options);
  }

  async health(): Promise<EdgeHealth> {
    const last = this.applied.at(-1);
    return { up: !this.closed, ...(last && { domainsVersion: last.version }), detail: `${this.calls.length} calls recorded` };
  }

  async applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    this.applied.push({ domains, version });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
