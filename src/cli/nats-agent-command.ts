// `cachectl agent --nats <url> --pop <name> [--prefix P] [--metrics-listen H:P]`: a PoP's agent on the
// edge bus, with its own Prometheus endpoint when asked.
import { parseArgs } from 'node:util';
import { ConfigError, listenAddress } from '../config.js';
import { BUS_TOKEN_RE } from '../edge/nats/bus-wire.js';
import { DEFAULT_STOP_TIMEOUT_MS, exitOnStopSignals } from './stop-signals.js';
import { commandLogger, startupLog } from './process-logger.js';
import { LOG_OPTIONS } from '../logging/log-settings.js';
import { maskSetting } from '../setting-secrets.js';

export async function runNatsAgent(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      // An empty variable counts as not set, as for serve.
      nats: { type: 'string', default: process.env.CACHECTL_NATS_URL || 'nats://127.0.0.1:4222' },
      pop: { type: 'string' },
      prefix: { type: 'string', default: process.env.CACHECTL_NATS_PREFIX || 'cachectl' },
      'state-dir': { type: 'string', default: process.env.CACHECTL_AGENT_STATE_DIR || './agent-state' },
      'metrics-listen': { type: 'string', default: process.env.CACHECTL_AGENT_METRICS_LISTEN || undefined },
      ...LOG_OPTIONS,
    },
  });
  const logger = commandLogger(values);
  const pop = values.pop;
  if (!pop || !BUS_TOKEN_RE.test(pop)) throw new ConfigError('cachectl agent: --pop <name> is required: 1-32 letters, digits, _ or -');
  if (!/^(nats|tls):\/\/./.test(values.nats!)) throw new ConfigError(`cachectl agent: --nats must be a nats:// URL (got one starting '${values.nats!.split(/[:/@]/)[0].slice(0, 20)}'; the rest is not shown: it may hold a token)`);
  if (!BUS_TOKEN_RE.test(values.prefix!)) throw new ConfigError('cachectl agent: --prefix: 1-32 letters, digits, _ or -');
  const metricsListen = listenAddress(values['metrics-listen'], '--metrics-listen / CACHECTL_AGENT_METRICS_LISTEN');
  const { startPopAgent } = await import('../pop-agent/pop-agent.js');
  const popLog = logger.child({ pop });
  const agent = await startPopAgent({ natsUrl: values.nats!, pop, prefix: values.prefix, stateDir: values['state-dir']!, log: (line) => popLog.warn(line) });
  let metricsServer: { close(): Promise<void>; url: string } | undefined;
  if (metricsListen) {
    const { AgentMetrics } = await import('../metrics/agent-metrics.js');
    const { startMetricsServer } = await import('../metrics/metrics-server.js');
    const metrics = new AgentMetrics(pop, () => agent.consumerPending());
    metricsServer = await startMetricsServer(metrics, metricsListen.host, metricsListen.port).catch(async (err: unknown) => {
      await agent.close();
      throw err;
    });
  }
  // Once ready: scripts wait for it.
  const nats = maskSetting('nats-url', values.nats!);
  startupLog(popLog).info({ nats, prefix: values.prefix, ...(metricsServer && { metrics_url: metricsServer.url }) }, `agent ${pop}: on ${nats}`);
  exitOnStopSignals({
    name: 'cachectl agent',
    logger,
    timeoutMs: DEFAULT_STOP_TIMEOUT_MS,
    stop: async () => {
      await metricsServer?.close();
      await agent.close();
    },
  });
}

