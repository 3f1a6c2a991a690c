// Prefetch calls may last minutes (a slow or large fill): on a node whose call slots are taken by them,
// a purge still goes out at once. Real built-in edge and origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeQueue } from '../../src/engine/node-queue.js';
import type { EdgeResult } from '../../src/edge/edge-driver.js';
import { source, startOrigin, startTestEdge } from '../edge/builtin-edge-fixture.js';

const HOST = 'queue.test';

test('slow prefetches leave call slots for a purge on the same node', async () => {
  const origin = await startOrigin();
  const edge = await startTestEdge([{ name: HOST, sources: [source(origin.port)] }]);
  try {
    const queue = new NodeQueue('edge-test', edge.driver);
    const { maxInFlight } = edge.driver.capabilities;
    const done: string[] = [];
    const push = (kind: 'prefetch' | 'purge', path: string) =>
      new Promise<EdgeResult>((resolve) => queue.push({ kind, target: { host: HOST, path }, done: (r) => (done.push(path), resolve(r)) }));
    // As many prefetches as the node takes calls, each its own call (pushed one event-loop turn apart).
    const prefetches: Array<Promise<EdgeResult>> = [];
    for (let i = 0; i < maxInFlight; i++) {
      origin.put(`/slow/${i}`, { delayMs: 3000, cacheControl: 'max-age=60' });
      prefetches.push(push('prefetch', `/slow/${i}`));
      await new Promise((r) => setImmediate(r));
    }
    const purged = await push('purge', '/other');
    assert.equal(purged.ok, true, JSON.stringify(purged));
    assert.deepEqual(done, ['/other'], 'the purge was answered before any slow prefetch');
    for (const r of await Promise.all(prefetches)) assert.equal(r.ok, true, JSON.stringify(r));
  } finally {
    await edge.close();
    await origin.close();
  }
});
