// `cachectl agent --nats <url> --pop <name> [--prefix P]`: a PoP's agent on the edge bus.
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { BUS_TOKEN_RE } from '../edge/nats/bus-wire.js';
import { DEFAULT_STOP_TIMEOUT_MS, exitOnStopSignals } from './stop-signals.js';
import { LOG_OPTIONS, commandLogger, startupLog } from './process-logger.js';

export async function runNatsAgent(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      nats: { type: 'string', default: process.env.CACHECTL_NATS_URL ?? 'nats://127.0.0.1:4222' },
      pop: { type: 'string' },
      prefix: { type: 'string', default: process.env.CACHECTL_NATS_PREFIX ?? 'cachectl' },
      'state-dir': { type: 'string', default: process.env.CACHECTL_AGENT_STATE_DIR ?? './agent-state' },
      ...LOG_OPTIONS,
    },
  });
  const logger = commandLogger(values);
  const pop = values.pop;
  if (!pop || !BUS_TOKEN_RE.test(pop)) throw new ConfigError('cachectl agent: --pop <name> is required: 1-32 letters, digits, _ or -');
  if (!/^(nats|tls):\/\/./.test(values.nats!)) throw new ConfigError(`cachectl agent: --nats must be a nats:// URL (got '${values.nats}')`);
  if (!BUS_TOKEN_RE.test(values.prefix!)) throw new ConfigError('cachectl agent: --prefix: 1-32 letters, digits, _ or -');
  const { startPopAgent } = await import('../pop-agent/pop-agent.js');
  const popLog = logger.child({ pop });
  const agent = await startPopAgent({ natsUrl: values.nats!, pop, prefix: values.prefix, stateDir: values['state-dir']!, log: (line) => popLog.warn(line) });
  // Once ready: scripts wait for it.
  startupLog(popLog).info({ nats: values.nats, prefix: values.prefix }, `agent ${pop}: on ${values.nats}`);
  exitOnStopSignals({ name: 'cachectl agent', logger, timeoutMs: DEFAULT_STOP_TIMEOUT_MS, stop: () => agent.close() });
}
