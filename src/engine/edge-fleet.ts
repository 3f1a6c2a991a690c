// The edge nodes this control plane drives, each with its driver and its work queue. Nodes come and go
// at run time (the node registry): `members` is replaced, never mutated, so a URL dispatched keeps the
// set of nodes it was sent to.
import type { EdgeDriver, EdgeNode } from '../edge/edge-driver.js';
import { NodeQueue } from './node-queue.js';
import type { Metrics } from '../metrics/metrics.js';

export interface FleetMember {
  node: EdgeNode;
  driver: EdgeDriver;
  queue: NodeQueue;
  /** Last health check: up or down, and the domain-set version the node reported. */
  up: boolean;
  domainsVersion?: number;
  detail?: string;
  /** When the last health check ran (epoch ms); 0 before the first. */
  checkedAt: number;
  /** Set once the node has left the fleet: its pending work fails instead of being retried. */
  removed: boolean;
  /** Whether the node is configured data (the registry) or a built-in edge of this process. */
  source: 'registry' | 'process';
}

export class EdgeFleet {
  private list: FleetMember[] = [];

  constructor(
    nodes: Array<{ node: EdgeNode; driver: EdgeDriver; source?: FleetMember['source'] }> = [],
    /** When set, each node's queue counts its calls and their durations there. */
    private readonly metrics?: Metrics,
  ) {
    for (const n of nodes) this.add(n.node, n.driver, n.source ?? 'process');
  }

  get members(): readonly FleetMember[] {
    return this.list;
  }

  get(name: string): FleetMember | undefined {
    return this.list.find((m) => m.node.name === name);
  }

  add(node: EdgeNode, driver: EdgeDriver, source: FleetMember['source']): FleetMember {
    if (this.get(node.name)) throw new Error(`two edge nodes are named '${node.name}'`);
    const member: FleetMember = { node, driver, queue: new NodeQueue(node.name, driver, this.metrics), up: true, checkedAt: 0, removed: false, source };
    this.list = [...this.list, member];
    return member;
  }

  /** Takes the node out: queued work fails at once, calls in flight finish, then its driver closes. */
  async remove(name: string): Promise<FleetMember | undefined> {
    const member = this.get(name);
    if (!member) return undefined;
    member.removed = true;
    this.list = this.list.filter((m) => m !== member);
    member.queue.close('the node was removed from the fleet before it answered');
    await member.driver.close().catch(() => undefined);
    return member;
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((m) => m.driver.close()));
  }
}
