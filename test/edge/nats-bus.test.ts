// The edge bus on the real NATS JetStream: a NatsDriver (the control plane's side) → the PoP agent →
// a real built-in edge. Purges take effect on the edge; the same targets sent again are answered from
// the agent's record, not applied twice (the edge's own counters say so); an agent that is away gets
// its commands when it starts; one away past the deadline leaves an INNER_ERROR naming PoP and node,
// and does not apply the command when it returns. A prefetch waits for a slow fill as long as the
// engine's call allows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectBus, removeBus, type EdgeBus } from '../../src/edge/nats/edge-bus.js';
import { NatsDriver } from '../../src/edge/nats/nats-driver.js';
import { startPopAgent, type PopAgent } from '../../src/pop-agent/pop-agent.js';
import { reachable, startPrivateNats } from '../../src/cluster/private-nats.js';
import type { EdgeNode } from '../../src/edge/edge-driver.js';
import { source, startOrigin, startTestEdge, type TestEdge, type TestOrigin } from './builtin-edge-fixture.js';

const HOST = 'bus.test';
const SCOPE = 'deployment-a';
let natsUrl = process.env.CACHECTL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
let privateNats: { stop(): Promise<void> } | undefined;
const prefix = `bustest_${randomBytes(4).toString('hex')}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bus-'));
let origin: TestOrigin;
let edge: TestEdge;
let bus: EdgeBus;
let node: EdgeNode;

before(async () => {
  if (!process.env.CACHECTL_TEST_NATS_URL && !(await reachable('127.0.0.1', 4222))) {
    const nats = await startPrivateNats(path.join(dir, 'nats'));
    privateNats = nats;
    natsUrl = nats.url;
  }
  origin = await startOrigin();
  edge = await startTestEdge([{ name: HOST, sources: [source(origin.port)] }]);
  bus = await connectBus({ url: natsUrl, prefix, instanceId: 'test-control-plane' });
  node = { name: 'fra1-edge-1', driver: 'builtin', trafficUrl: edge.edge.trafficUrl, controlUrl: edge.edge.controlUrl, secret: edge.secret, labels: {}, transport: 'nats', pop: 'fra1' };
});

after(async () => {
  await bus?.close();
  await removeBus(natsUrl, prefix).catch(() => undefined);
  await edge?.close();
  await origin?.close();
  await privateNats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const agentFor = (pop: string) => startPopAgent({ natsUrl, pop, prefix, stateDir: path.join(dir, 'state'), log: () => undefined });

async function ops(): Promise<Record<string, number>> {
  const res = await fetch(`${edge.edge.controlUrl}/health`, { headers: { authorization: `Bearer ${edge.secret}` } });
  return ((await res.json()) as { ops: Record<string, number> }).ops;
}

test('a purge through the agent takes effect on the edge; the same refs again are answered, not applied', async () => {
  const agent: PopAgent = await agentFor('fra1');
  try {
    const driver = new NatsDriver(bus, node, { deadlineMs: 10_000, scope: SCOPE });
    assert.equal((await driver.health()).up, true);
    origin.put('/a.js');
    await edge.get('/a.js', { host: HOST });
    assert.equal((await edge.get('/a.js', { host: HOST })).xcache, 'HIT');
    const before = (await ops()).purge;
    const targets = [{ host: HOST, path: '/a.js', ref: 101 }, { host: HOST, path: '/b.js', ref: 102 }];
    assert.deepEqual((await driver.purge(targets)).map((r) => r.ok), [true, true]);
    assert.equal((await edge.get('/a.js', { host: HOST })).xcache, 'MISS');
    assert.equal((await ops()).purge - before, 2);
    // Sent again (a redelivery, or another process resuming the URLs): same answers, no new purge.
    assert.deepEqual((await driver.purge(targets)).map((r) => r.ok), [true, true]);
    assert.equal((await ops()).purge - before, 2);
    assert.deepEqual(agent.stats()['fra1-edge-1'], { applied: 2, replayed: 2 });
    // Another kind on the same ref is another operation.
    assert.deepEqual((await driver.revalidate([targets[0]])).map((r) => r.ok), [true]);
    assert.equal((await ops()).revalidate, 1);
    // The same ref from another deployment (another database: its URL ids start over) is applied.
    const other = new NatsDriver(bus, node, { deadlineMs: 10_000, scope: 'deployment-b' });
    assert.deepEqual((await other.purge([targets[0]])).map((r) => r.ok), [true]);
    assert.equal((await ops()).purge - before, 3);
  } finally {
    await agent.close();
  }
  // The record outlives the agent: a new agent process answers from it too.
  const again = await agentFor('fra1');
  try {
    const before = (await ops()).purge;
    const driver = new NatsDriver(bus, node, { deadlineMs: 10_000, scope: SCOPE });
    assert.deepEqual((await driver.purge([{ host: HOST, path: '/a.js', ref: 101 }])).map((r) => r.ok), [true]);
    assert.equal((await ops()).purge - before, 0);
  } finally {
    await again.close();
  }
});

test('an agent that is away gets its commands when it starts', async () => {
  const driver = new NatsDriver(bus, node, { deadlineMs: 15_000, scope: SCOPE });
  const before = (await ops()).purge;
  const pending = driver.purge([{ host: HOST, path: '/late.js', ref: 201 }]);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await ops()).purge - before, 0);
  const agent = await agentFor('fra1');
  try {
    assert.deepEqual((await pending).map((r) => r.ok), [true]);
    assert.equal((await ops()).purge - before, 1);
  } finally {
    await agent.close();
  }
});

test('past the deadline: INNER_ERROR naming the PoP and the node, and the returning agent does not apply it', async () => {
  const driver = new NatsDriver(bus, node, { deadlineMs: 1000, scope: SCOPE });
  const before = (await ops()).purge;
  const [r] = await driver.purge([{ host: HOST, path: '/never.js', ref: 301 }]);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.classify, 'INNER_ERROR');
    assert.equal(r.retryable, false);
    assert.match(r.message, /PoP fra1/);
    assert.match(r.message, /fra1-edge-1/);
  }
  const agent = await agentFor('fra1');
  try {
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await ops()).purge - before, 0, 'a command past its deadline was applied');
  } finally {
    await agent.close();
  }
});

test('a prefetch of a slow object waits for the fill as long as the engine allows, not the task deadline or a call timeout', async () => {
  // 12 s: longer than the driver's deadline (2 s), the 5 s call timeout and the edge's origin timeout (10 s).
  origin.put('/slow.bin', { delayMs: 12_000, cacheControl: 'max-age=3600' });
  const driver = new NatsDriver(bus, node, { deadlineMs: 2000, scope: SCOPE });
  const agent = await agentFor('fra1');
  try {
    const [r] = await driver.prefetch([{ host: HOST, path: '/slow.bin', ref: 401 }], { timeoutMs: 30_000 });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(origin.arrived('/slow.bin'), 1);
  } finally {
    await agent.close();
  }
});

test('health of a node whose PoP has no agent says so', async () => {
  const lonely = new NatsDriver(bus, { ...node, name: 'ams1-edge-1', pop: 'ams1' }, { deadlineMs: 1000, scope: SCOPE });
  const h = await lonely.health();
  assert.equal(h.up, false);
  assert.match(h.detail ?? '', /PoP ams1/);
});
