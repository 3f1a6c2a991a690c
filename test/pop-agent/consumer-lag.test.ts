// `cachectl agent --nats … --metrics-listen`: the PoP consumer's lag on the agent's /metrics, on the
// real NATS JetStream. Commands published while no agent runs wait on the stream; the agent then takes
// them but cannot finish them while its edge is stopped (SIGSTOP): the gauge counts every one, those
// not yet delivered and those delivered but not acknowledged. Once the edge goes on, it drains to 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { busNames, connectNats, ensureBus, removeBus } from '../../src/edge/nats/edge-bus.js';
import { encode, type BusCommand } from '../../src/edge/nats/bus-wire.js';
import { reachable, startPrivateNats } from '../../src/cluster/private-nats.js';
import { AgentMetrics } from '../../src/metrics/agent-metrics.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { MAIN, freePort, processScope } from '../support/processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-lag-'));
const scope = processScope();
const prefix = `lagtest_${randomBytes(4).toString('hex')}`;
let natsUrl = process.env.CACHECTL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
after(async () => {
  await scope.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  scope.children.push(child);
  return child;
};

/** Polls `read` until it answers something other than undefined. */
async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the agent reports its consumer backlog, and 0 once it has worked it off', { timeout: 120_000 }, async () => {
  if (!process.env.CACHECTL_TEST_NATS_URL && !(await reachable('127.0.0.1', 4222))) {
    const nats = await startPrivateNats(path.join(dir, 'nats'));
    scope.cleanups.push(() => nats.stop());
    natsUrl = nats.url;
  }
  scope.cleanups.push(() => removeBus(natsUrl, prefix));

  // A real edge process, to be stopped: calls to it hang (the kernel takes the connections).
  const secretFile = path.join(dir, 'edge-secret');
  const secret = 'lag-edge-secret-'.padEnd(40, 'x');
  fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const [traffic, control, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const edge = cli(['edge', '--name', 'lag-1', '--port', String(traffic), '--admin-port', String(control), '--origin-allow', 'loopback', '--secret-file', secretFile]);
  const controlUrl = `http://127.0.0.1:${control}`;
  await until('the edge', async () => ((await fetch(`${controlUrl}/health`, { headers: { authorization: `Bearer ${secret}` } })).ok ? true : undefined));

  // Commands for the PoP while no agent runs: prefetches, whose calls wait as long as the deadline
  // allows (a purge call would give up after the driver's 5 s and be acknowledged as failed).
  const pop = 'lag1';
  const names = busNames(prefix);
  const nc = await connectNats(natsUrl, 'consumer-lag test');
  scope.cleanups.push(() => nc.close());
  await ensureBus(nc, names);
  const js = nc.jetstream();
  const COMMANDS = 300; // more than the agent works on at once (256)
  const node = { name: 'lag-1', driver: 'builtin' as const, trafficUrl: `http://127.0.0.1:${traffic}`, controlUrl, secret };
  for (let i = 0; i < COMMANDS; i++) {
    const command: BusCommand = { id: `c${i}`, scope: 'lagtest', node, kind: 'prefetch', targets: [{ host: 'lag.test', path: `/${i}`, ref: i + 1 }], deadline: Date.now() + 90_000, replyTo: names.resSubject('lagtest') };
    await js.publish(names.cmdSubject(pop), encode({ commands: [command] }));
  }
  edge.kill('SIGSTOP');

  const agent = cli(['agent', '--nats', natsUrl, '--pop', pop, '--prefix', prefix, '--state-dir', path.join(dir, 'state'), '--metrics-listen', `127.0.0.1:${metricsPort}`]);
  const pending = async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    if (!res.ok) return undefined;
    const m = parsePrometheusText(await res.text());
    return m.samples.some((s) => s.name === 'cachectl_agent_consumer_pending') ? m.sum('cachectl_agent_consumer_pending', { pop }) : undefined;
  };
  const backlog = await until('the agent\'s /metrics', pending);
  assert.equal(backlog, COMMANDS, 'every command is waiting: none can be finished while the edge is stopped');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await pending(), COMMANDS, 'still waiting');

  edge.kill('SIGCONT');
  await until('the backlog worked off', async () => ((await pending()) === 0 ? true : undefined), 60_000);

  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('--metrics-listen is checked before the agent starts', async () => {
  const run = spawn(process.execPath, [MAIN, 'agent', '--nats', 'nats://127.0.0.1:1', '--pop', 'p', '--metrics-listen', '9464'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  run.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((r) => run.once('exit', r));
  assert.equal(code, 2);
  assert.match(stderr, /--metrics-listen .* must be host:port/);
});

test('a failed read leaves the series out rather than a stale value', async () => {
  let away = false;
  const metrics = new AgentMetrics('p1', async () => {
    if (away) throw new Error('NATS is away');
    return { numPending: 2, numAckPending: 3 };
  });
  const read = async () => parsePrometheusText(await metrics.registry.metrics()).samples.filter((s) => s.name === 'cachectl_agent_consumer_pending');
  assert.deepEqual(await read(), [{ name: 'cachectl_agent_consumer_pending', labels: { pop: 'p1' }, value: 5 }]);
  away = true;
  assert.deepEqual(await read(), []);
});
