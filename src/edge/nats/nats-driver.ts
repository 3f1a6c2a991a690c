// A node driven through its PoP's agent over the edge bus (transport `nats`). Each call is one command
// on the PoP's stream; the answer is the agent's result, or, when the deadline passes first, a final
// INNER_ERROR naming the PoP and the node: an agent that is away gets its commands when it returns,
// as long as they are still due.
import { randomUUID } from 'node:crypto';
import type { CallOptions, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeNode, EdgeResult, EdgeTarget } from '../edge-driver.js';
import type { WorkKind } from '../edge-driver.js';
import type { BusNode } from './bus-wire.js';
import type { EdgeBus } from './edge-bus.js';

const HEALTH_TIMEOUT_MS = 2000;
const DOMAINS_TIMEOUT_MS = 60_000;

export class NatsDriver implements EdgeDriver {
  // Batches stay moderate: one command is one message, answered when its slowest target is done.
  readonly capabilities: EdgeCapabilities = { maxBatch: 256, maxInFlight: 32 };
  private readonly pop: string;
  private readonly busNode: BusNode;

  constructor(
    private readonly bus: EdgeBus,
    node: EdgeNode,
    /** scope: the deployment's id (store/repositories/meta-repository.ts), which makes URL refs unique. */
    private readonly options: { deadlineMs: number; scope: string },
  ) {
    if (node.transport !== 'nats' || !node.pop) throw new Error(`node ${node.name}: the NATS driver needs transport nats and a pop`);
    this.pop = node.pop;
    this.busNode = { name: node.name, driver: node.driver, trafficUrl: node.trafficUrl, controlUrl: node.controlUrl, ...(node.secret !== undefined && { secret: node.secret }) };
  }

  private async run(kind: WorkKind, targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    // The engine's own deadline for the call when it gives one (a prefetch's is its prefetch timeout):
    // the agent applies the command until then, and its driver call may last that long.
    const deadline = Date.now() + (options?.timeoutMs ?? this.options.deadlineMs);
    const answer = await this.bus.send(this.pop, { id: randomUUID(), scope: this.options.scope, node: this.busNode, kind, targets, deadline });
    if (!answer) {
      const message = `PoP ${this.pop}: the agent did not apply the command on node ${this.busNode.name} before the deadline`;
      return targets.map(() => ({ ok: false, classify: 'INNER_ERROR', retryable: false, message }));
    }
    if (answer.results.length !== targets.length) throw new Error(`PoP ${this.pop}: the agent answered ${answer.results.length} results for ${targets.length} targets`);
    return answer.results;
  }

  purge(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.run('purge', targets, options);
  }
  purgeDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.run('purge_dir', targets, options);
  }
  revalidate(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.run('revalidate', targets, options);
  }
  revalidateDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.run('revalidate_dir', targets, options);
  }
  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.run('prefetch', targets, options);
  }

  async health(): Promise<EdgeHealth> {
    try {
      const reply = await this.bus.control(this.pop, { op: 'health', node: this.busNode }, HEALTH_TIMEOUT_MS);
      if (!reply.ok) return { up: false, detail: `PoP ${this.pop}: ${reply.error}` };
      return reply.health ?? { up: false, detail: `PoP ${this.pop}: no health in the answer` };
    } catch (err) {
      return { up: false, detail: `PoP ${this.pop}: agent not answering (${err instanceof Error ? err.message : String(err)})` };
    }
  }

  async applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    const reply = await this.bus.control(this.pop, { op: 'domains', node: this.busNode, domains, version }, DOMAINS_TIMEOUT_MS);
    if (!reply.ok) throw new Error(`PoP ${this.pop}: ${reply.error}`);
  }

  async close(): Promise<void> {
    // The bus is shared by every node of the process; the server closes it.
  }
}
