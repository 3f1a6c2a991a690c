// The edge nodes this control plane drives, each with its driver and its work queue.
import type { EdgeDriver, EdgeNode } from '../edge/edge-driver.js';
import { NodeQueue } from './node-queue.js';

export interface FleetMember {
  node: EdgeNode;
  driver: EdgeDriver;
  queue: NodeQueue;
  /** Last health check: up or down, and the domain-set version the node reported. */
  up: boolean;
  domainsVersion?: number;
  detail?: string;
}

export class EdgeFleet {
  readonly members: FleetMember[];

  constructor(nodes: Array<{ node: EdgeNode; driver: EdgeDriver }>) {
    const names = new Set<string>();
    for (const { node } of nodes) {
      if (names.has(node.name)) throw new Error(`two edge nodes are named '${node.name}'`);
      names.add(node.name);
    }
    this.members = nodes.map(({ node, driver }) => ({ node, driver, queue: new NodeQueue(node.name, driver), up: true }));
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.driver.close()));
  }
}
