// The engine list: each entry is its folder's index, says what it can do consistently with what it
// exports, and a test-only engine cannot be registered as a node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DRIVER_NAMES, ENGINES, NODE_DRIVERS, createDriver } from '../../src/edge/engines.js';
import { ENGINE_NAMES } from '../../src/edge/local-engines.js';
import { validateNode } from '../../src/services/node-service.js';

test('each engine is the index of its own folder, and its flags match what it exports', async () => {
  assert.equal(new Set(DRIVER_NAMES).size, DRIVER_NAMES.length, 'engine names are unique');
  for (const engine of ENGINES) {
    const index = new URL(`../../src/edge/${engine.name}/index.js`, import.meta.url);
    assert.ok(fs.existsSync(fileURLToPath(index)), `src/edge/${engine.name}/index.ts`);
    const exported = Object.values(await import(index.href));
    assert.ok(exported.includes(engine), `src/edge/${engine.name}/index.ts exports the listed entry`);
    assert.equal(engine.capabilities.needsAgent, engine.agentEngine !== undefined, `${engine.name}: needsAgent iff it has an agent engine`);
    assert.equal(engine.capabilities.tagPurge, false, `${engine.name}: no driver method purges by tag yet`);
  }
  assert.deepEqual([...ENGINE_NAMES].sort(), ENGINES.filter((e) => e.localProcess && !e.capabilities.testOnly).map((e) => e.name).sort());
});

test('a test-only engine is listed and drives nodes, but the node API refuses it, naming the others', () => {
  assert.ok(DRIVER_NAMES.includes('recording'));
  assert.ok(!NODE_DRIVERS.includes('recording'));
  const driver = createDriver({ name: 'r', driver: 'recording', trafficUrl: 'http://127.0.0.1:1', controlUrl: 'recording:r', labels: {} });
  assert.equal(typeof driver.purge, 'function');
  assert.throws(
    () => validateNode({ name: 'r', driver: 'recording', traffic_url: 'http://127.0.0.1:1', control_url: 'recording:r' }),
    (err: Error) => err.message === `driver 'recording': one of ${NODE_DRIVERS.join(', ')}`,
  );
  assert.throws(() => createDriver({ name: 'x', driver: 'nope', trafficUrl: 'http://127.0.0.1:1', controlUrl: 'http://127.0.0.1:2', labels: {} }), /unknown driver 'nope'/);
});
