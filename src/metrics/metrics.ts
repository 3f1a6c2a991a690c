// The Prometheus series of one server, on its own registry (not prom-client's global one: tests run
// several servers in one process). Hooks on the purge path only bump counters and histograms; gauges
// (nodes, store pool) are read when scraped. Labels stay few: account ids and node names, never URLs.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a scrape reads of one edge node. */
export interface NodeGauges {
  name: string;
  up: boolean;
  backlog: number;
  domainsVersion?: number;
}

/** What a scrape reads of one connection pool (PostgreSQL). */
export interface PoolGauges {
  pool: string;
  total: number;
  idle: number;
  waiting: number;
}

// From a lone purge on loopback (milliseconds) to a slow prefetch fill (minutes).
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export class Metrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  readonly tasksCreated = new Counter({ name: 'cachectl_tasks_created_total', help: 'Tasks accepted, by task type and account', labelNames: ['type', 'account'] as const, registers: this.registers });
  readonly urlsFinished = new Counter({ name: 'cachectl_urls_finished_total', help: 'URLs decided on every node, by outcome (succeed, failed) and fail_classify', labelNames: ['outcome', 'fail_classify'] as const, registers: this.registers });
  readonly taskCompletion = new Histogram({ name: 'cachectl_task_completion_seconds', help: 'Time from a task\'s creation to the last of its URLs done on every node, by task type and the engines of the fleet that did it (builtin, varnish, nginx, ats; a mixed fleet joins them with +)', labelNames: ['type', 'engine'] as const, buckets: LATENCY_BUCKETS, registers: this.registers });
  readonly nodeOperations = new Counter({ name: 'cachectl_node_operations_total', help: 'Operations (one URL or directory each) a node answered, by node and kind', labelNames: ['node', 'kind'] as const, registers: this.registers });
  readonly nodeErrors = new Counter({ name: 'cachectl_node_operation_errors_total', help: 'Operations a node failed (each failed attempt), by node and fail_classify', labelNames: ['node', 'fail_classify'] as const, registers: this.registers });
  readonly nodeCallSeconds = new Histogram({ name: 'cachectl_node_call_duration_seconds', help: 'Duration of one call to a node (a batch of operations of one kind), by node and kind', labelNames: ['node', 'kind'] as const, buckets: LATENCY_BUCKETS, registers: this.registers });
  readonly intakeBatchTasks = new Histogram({ name: 'cachectl_intake_batch_tasks', help: 'Tasks stored by one intake transaction (group commit)', buckets: BATCH_BUCKETS, registers: this.registers });
  readonly intakeCommitSeconds = new Histogram({ name: 'cachectl_intake_commit_seconds', help: 'Duration of one intake transaction, read of the domains included', buckets: LATENCY_BUCKETS, registers: this.registers });
  readonly httpRequests = new Counter({ name: 'cachectl_http_requests_total', help: 'API requests answered, by route pattern, method and status', labelNames: ['route', 'method', 'status'] as const, registers: this.registers });
  readonly httpSeconds = new Histogram({ name: 'cachectl_http_request_duration_seconds', help: 'API request duration, by route pattern and method', labelNames: ['route', 'method'] as const, buckets: HTTP_BUCKETS, registers: this.registers });
  readonly rateRefusals = new Counter({ name: 'cachectl_rate_limit_refusals_total', help: 'Calls refused by the per-account rate limits, by rate class', labelNames: ['class'] as const, registers: this.registers });
  readonly quotaRefusals = new Counter({ name: 'cachectl_quota_refusals_total', help: 'Task creations refused by the daily URL quotas, by task type', labelNames: ['type'] as const, registers: this.registers });

  // Succeeded URLs have no fail_classify; the label is then empty (absent, for Prometheus).
  readonly urlSucceeded = this.urlsFinished.labels('succeed', '');

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Node gauges, read from `nodes` at each scrape. */
  watchNodes(nodes: () => NodeGauges[]): void {
    const gauge = (name: string, help: string, value: (n: NodeGauges) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['node'] as const,
        registers: this.registers,
        collect() {
          // Reset first: a node removed from the fleet leaves no stale series behind.
          this.reset();
          for (const n of nodes()) {
            const v = value(n);
            if (v !== undefined) this.set({ node: n.name }, v);
          }
        },
      });
    gauge('cachectl_node_up', '1 when the node\'s last health check passed, 0 when it failed', (n) => (n.up ? 1 : 0));
    gauge('cachectl_node_backlog_operations', 'Operations queued for the node or in calls to it', (n) => n.backlog);
    gauge('cachectl_node_domain_set_version', 'The domain-set version the node last took', (n) => n.domainsVersion);
  }

  /** Store connection pool gauges, read from `pools` at each scrape. */
  watchPools(pools: () => PoolGauges[]): void {
    new Gauge({
      name: 'cachectl_store_pool_connections',
      help: 'Store connections, by pool and state (total, idle)',
      labelNames: ['pool', 'state'] as const,
      registers: this.registers,
      collect() {
        this.reset();
        for (const p of pools()) {
          this.set({ pool: p.pool, state: 'total' }, p.total);
          this.set({ pool: p.pool, state: 'idle' }, p.idle);
        }
      },
    });
    new Gauge({
      name: 'cachectl_store_pool_waiting_requests',
      help: 'Queries waiting for a free store connection, by pool',
      labelNames: ['pool'] as const,
      registers: this.registers,
      collect() {
        this.reset();
        for (const p of pools()) this.set({ pool: p.pool }, p.waiting);
      },
    });
  }
}
