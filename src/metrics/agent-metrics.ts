// The Prometheus series of a PoP agent (`cachectl agent --nats … --metrics-listen`), on a registry of
// its own. The consumer lag is read from JetStream when scraped, not polled between scrapes: one
// consumer-info request per scrape, and the value is as of the scrape.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** What the agent's durable consumer holds back: messages not yet delivered, and delivered but not acknowledged. */
export interface ConsumerPending {
  numPending: number;
  numAckPending: number;
}

export class AgentMetrics {
  readonly registry = new Registry();

  /**
   * cachectl_agent_consumer_pending{pop}: read from `read` at each scrape. When the read fails (NATS
   * away) the series is absent rather than stale: a stuck value would look like a steady backlog.
   */
  constructor(pop: string, read: () => Promise<ConsumerPending>) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'cachectl_agent_consumer_pending',
      help: 'Commands (bus messages) waiting for this PoP\'s agent on its JetStream consumer: not yet delivered plus delivered and not yet acknowledged',
      labelNames: ['pop'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const p = await read().catch(() => undefined);
        if (p) this.set({ pop }, p.numPending + p.numAckPending);
      },
    });
  }
}
