#!/usr/bin/env node
// cachectl: one binary for the server, a standalone edge, and the client commands.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { OPTIONS, ConfigError, originAllow } from '../config.js';
import { SETTINGS_FILE_HELP, SETTINGS_FILE_OPTIONS, loadServeSettings } from './serve-settings.js';
import { DEFAULT_ORIGIN_ALLOW } from '../edge/origin-allow.js';
import { CLIENT_COMMANDS, clientCommand, clientUsage } from './commands/index.js';
import { nearest } from './nearest.js';
import { limitHeapGrowth } from './heap-growth.js';
import { anonymousControlRefusal, readSecretFile } from '../edge/control-secret.js';
import { LOG_OPTIONS } from '../logging/log-settings.js';
import type { Logger } from '../logging/logger.js';

/** What the long-running commands need, loaded by them only: client commands start without pino. */
async function processTools() {
  const [{ DEFAULT_STOP_TIMEOUT_MS, exitOnStopSignals }, { commandLogger, startupLog }] = await Promise.all([import('./stop-signals.js'), import('./process-logger.js')]);
  return { DEFAULT_STOP_TIMEOUT_MS, exitOnStopSignals, commandLogger, startupLog };
}

/** The secret of --secret-file, or undefined without one; a control port beyond loopback needs it. */
function controlSecret(file: string | undefined, host: string): string | undefined {
  let secret: string | undefined;
  try {
    secret = file === undefined ? undefined : readSecretFile(file);
  } catch (err) {
    throw new ConfigError(`--secret-file: ${(err as Error).message}`);
  }
  const refusal = anonymousControlRefusal(host, secret, 'give --secret-file F');
  if (refusal) throw new ConfigError(refusal);
  return secret;
}

const USAGE = `cachectl — self-hosted CDN refresh (purge) and preheating (prefetch), Huawei Cloud CDN API compatible

Usage:
  cachectl serve [options]          start the API, the task engine and the built-in edges
  cachectl edge [--name N] [--port P] [--host H] [--admin-port P] [--admin-host H]
                [--secret-file F] [--max-bytes B] [--origin-allow LIST]
                [--log-level L] [--log-format json|pretty]
                                    start one built-in edge node on its own; its control port
                                    (default 127.0.0.1) takes the secret as a bearer token and
                                    needs one beyond loopback: register it with
                                    cachectl nodes add … --driver builtin --secret-file F; it
                                    connects only to origins LIST allows (as serve's
                                    --origin-allow; default public)
  cachectl agent nginx|ats --config <engine.json> [--listen H:P] [--secret-file F]
                                    the edge agent beside an nginx or ATS: register it with
                                    cachectl nodes add … --control http://H:P
  cachectl agent --nats <url> --pop <name> [--prefix P] [--state-dir D] [--metrics-listen H:P]
                                    a PoP's agent on the NATS edge bus: applies the commands
                                    for the PoP's nodes (cachectl nodes add … --transport nats --pop <name>);
                                    GET /metrics (its consumer lag) on H:P without credentials
                                    (edge and agent log as serve does: --log-level, --log-format)
  cachectl cluster [--serves 3] [--pops 2] [--edges-per-pop 2] [--port 8080] [--dir D]
                   [--origin-allow loopback,public]
                                    the scale-out deployment on loopback (PostgreSQL, NATS,
                                    API processes, PoP agents, built-in edges) until Ctrl-C
  cachectl backup FILE [--data-dir D]
                                    an online copy of the embedded store (consistent while serving)
  cachectl restore FILE [--data-dir D]
                                    puts a backup in place of the store (no server on D; the next
                                    start migrates it)
  cachectl --version                the version
${clientUsage}
Run 'cachectl serve --help' for the server's settings.`;

function serveHelp(): string {
  const rows = OPTIONS.map((o) => `  --${o.flag.padEnd(22)} ${o.env.padEnd(30)} ${o.help}${o.def ? ` (default ${o.def})` : ''}`);
  return `cachectl serve [options]\n\n${SETTINGS_FILE_HELP}\n\nEvery option is also an environment variable:\n${rows.join('\n')}`;
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...SETTINGS_FILE_OPTIONS, help: { type: 'boolean' }, ...Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: o.boolean ? ('boolean' as const) : ('string' as const) }])) },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(serveHelp());
    return;
  }
  const settings = loadServeSettings(values);
  if (settings.printed !== undefined) {
    process.stdout.write(settings.printed);
    return;
  }
  const { config } = settings;
  limitHeapGrowth();
  // Loaded on demand: client commands then start without Fastify, SQLite and the edge.
  const { startServer } = await import('../server.js');
  const { createLogger } = await import('../logging/logger.js');
  const { exitOnStopSignals, startupLog } = await processTools();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const server = await startServer(config, { logger });
  const says = startupLog(logger);
  if (server.url) says.info({ url: server.url }, `cachectl API listening on ${server.url}`);
  else says.info('cachectl worker running (role worker: no API)');
  if (server.metricsUrl) says.info({ url: server.metricsUrl }, `cachectl metrics on ${server.metricsUrl} (no credentials)`);
  for (const e of server.edges) sayEdge(says, e);
  if (server.bootstrap) {
    const b = server.bootstrap;
    says.info({ account: b.account, account_id: b.accountId, user: b.user, credentials_file: server.credentialsFile }, `First start: created the admin account ${b.account}; its password and keys are in ${server.credentialsFile} (mode 0600)`);
    // Shown once, to a person at a terminal, apart from the log: a log (a pipe, a file, a service
    // manager's journal) would keep the secrets where others may read them.
    if (process.stderr.isTTY) {
      const lines = ['', 'These secrets are shown once; they are also in', `${server.credentialsFile} (mode 0600).`, `  account:     ${b.account} (id ${b.accountId})`, `  user:        ${b.user}`, `  password:    ${b.password}`, `  access key:  ${b.accessKey}`, `  secret key:  ${b.secretKey}`, ''];
      process.stderr.write(lines.join('\n'));
    }
  }
  exitOnStopSignals({ name: 'cachectl', logger, timeoutMs: config.shutdownTimeoutMs, stop: () => server.close(), waitingFor: () => server.closingStep() });
}

/** The start-up line of an edge: where its traffic and control ports are. */
function sayEdge(says: Logger, e: { name: string; trafficUrl: string; controlUrl: string }): void {
  says.info({ edge: e.name, traffic_url: e.trafficUrl, control_url: e.controlUrl }, `edge ${e.name}: traffic ${e.trafficUrl}, control ${e.controlUrl}`);
}

async function edge(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string', default: 'edge' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8081' },
      'admin-host': { type: 'string', default: '127.0.0.1' },
      'admin-port': { type: 'string', default: '9081' },
      'secret-file': { type: 'string' },
      'max-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
      'origin-allow': { type: 'string', default: process.env.CACHECTL_ORIGIN_ALLOW || DEFAULT_ORIGIN_ALLOW },
      ...LOG_OPTIONS,
    },
  });
  const { DEFAULT_STOP_TIMEOUT_MS, exitOnStopSignals, commandLogger, startupLog } = await processTools();
  const logger = commandLogger(values);
  const secret = controlSecret(values['secret-file'], values['admin-host']!);
  const int = (v: string, name: string) => {
    if (!/^\d+$/.test(v)) throw new ConfigError(`--${name} must be a non-negative integer (got '${v}')`);
    return Number(v);
  };
  const { startBuiltinEdge } = await import('../edge/builtin/edge-server.js');
  const e = await startBuiltinEdge({
    name: values.name!,
    host: values.host!,
    trafficPort: int(values.port!, 'port'),
    adminHost: values['admin-host']!,
    adminPort: int(values['admin-port']!, 'admin-port'),
    secret,
    maxBytes: int(values['max-bytes']!, 'max-bytes'),
    originAllow: originAllow(values['origin-allow']!),
  });
  sayEdge(startupLog(logger), e);
  if (!secret) logger.warn({ control_url: e.controlUrl }, `cachectl edge: no --secret-file: any local user can drive the control port ${e.controlUrl}`);
  exitOnStopSignals({ name: 'cachectl edge', logger, timeoutMs: DEFAULT_STOP_TIMEOUT_MS, stop: () => e.close() });
}

async function agent(args: string[]): Promise<void> {
  if (args.some((a) => a === '--nats' || a.startsWith('--nats=') || a === '--pop' || a.startsWith('--pop='))) {
    const { runNatsAgent } = await import('./nats-agent-command.js');
    return runNatsAgent(args);
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { listen: { type: 'string', default: '127.0.0.1:9300' }, config: { type: 'string' }, 'secret-file': { type: 'string' }, ...LOG_OPTIONS },
  });
  const { DEFAULT_STOP_TIMEOUT_MS, exitOnStopSignals, commandLogger, startupLog } = await processTools();
  const logger = commandLogger(values);
  const [engine] = positionals;
  const { ENGINES, engineOf } = await import('../edge/engines.js');
  const entry = engineOf(engine ?? '');
  if (!entry?.agentEngine || positionals.length !== 1) {
    throw new ConfigError(`cachectl agent: give the engine, ${ENGINES.filter((e) => e.agentEngine).map((e) => `'${e.name}'`).join(' or ')}`);
  }
  if (!values.config) throw new ConfigError('cachectl agent: --config <engine.json> is required (the engine options; see README)');
  const m = /^(.*):(\d{1,5})$/.exec(values.listen!);
  if (!m) throw new ConfigError(`--listen must be host:port (got '${values.listen}')`);
  const { readFileSync } = await import('node:fs');
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${what}: ${(err as Error).message}`);
    }
  };
  let options: unknown;
  try {
    options = JSON.parse(read(values.config, '--config'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`--config: not JSON: ${(err as Error).message}`);
  }
  const host = m[1].replace(/^\[|\]$/g, '');
  const secret = controlSecret(values['secret-file'], host);
  if (typeof options !== 'object' || options === null) throw new ConfigError(`--config: the ${engine} options must be a JSON object`);
  const { startAgentServer } = await import('../edge/agent/agent-server.js');
  const local = await entry.agentEngine(options);
  const server = await startAgentServer(local, { host, port: Number(m[2]), secret, engineName: engine });
  startupLog(logger).info({ engine, control_url: server.url }, `agent ${engine}: control ${server.url}`);
  exitOnStopSignals({
    name: 'cachectl agent',
    logger,
    timeoutMs: DEFAULT_STOP_TIMEOUT_MS,
    stop: async () => {
      await server.close();
      await local.close();
    },
  });
}

/** The entries of USAGE for one server command (`cachectl edge --help`, `cachectl agent --help`). */
function commandUsage(command: string): string {
  const entries = USAGE.split(/\n(?=  cachectl )/).filter((e) => e.startsWith(`  cachectl ${command} `));
  return `Usage:\n${entries.map((e) => e.replace(/\n(?!  )[\s\S]*$/, '')).join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if ((command === 'edge' || command === 'agent') && rest.some((a) => a === '--help' || a === '-h')) {
    console.log(commandUsage(command));
    return 0;
  }
  if (command === 'serve') return serve(rest).then(() => -1);
  if (command === 'edge') return edge(rest).then(() => -1);
  if (command === 'agent') return agent(rest).then(() => -1);
  if (command === 'cluster') {
    const { runCluster } = await import('./cluster-command.js');
    return runCluster(rest).then(() => 0);
  }
  if (command === 'backup' || command === 'restore') {
    const { runBackup, runRestore } = await import('./backup-command.js');
    return command === 'backup' ? runBackup(rest) : runRestore(rest);
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    console.log(`cachectl ${packageVersion()}`);
    return 0;
  }
  const client = command === undefined ? undefined : clientCommand(command);
  if (client) return client.run(rest);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  // One line, not the whole usage: the mistake stays on the screen.
  const guess = nearest(command, [...SERVER_COMMANDS, ...CLIENT_COMMANDS.map((c) => c.name)]);
  const message = `unknown command '${command}'${guess ? `; did you mean '${guess}'?` : ''} (cachectl help lists the commands)`;
  console.error(rest.includes('--json') ? JSON.stringify({ error_code: 'CLI.USAGE', error_msg: message }) : `cachectl: ${message}`);
  return 2;
}

const SERVER_COMMANDS = ['serve', 'edge', 'agent', 'cluster', 'backup', 'restore', 'help', 'version'];

/** The version in package.json, beside dist/ wherever the package is installed. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`cachectl: ${err instanceof Error ? err.message : String(err)}`);
    // A setting refused, or an option parseArgs does not know (serve, edge, agent): a usage error.
    const usage = err instanceof ConfigError || String((err as { code?: unknown } | null)?.code ?? '').startsWith('ERR_PARSE_ARGS');
    process.exitCode = usage ? 2 : 1;
  },
);
