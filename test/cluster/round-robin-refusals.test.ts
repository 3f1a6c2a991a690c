// The round-robin address's own answers when no API process takes a request: 503 with a flat
// CDN.0001 body (docs/error-codes.md: proxyUnavailable), byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startRoundRobin } from '../../src/cluster/round-robin-proxy.js';

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('with every API process refusing connections, the proxy answers 503 CDN.0001 in the flat shape', async (t) => {
  const proxy = await startRoundRobin([`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`]);
  t.after(() => proxy.close());
  const res = await request(`${proxy.url}/v1.0/cdn/historytasks`);
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(await res.body.text(), '{"error_code":"CDN.0001","error_msg":"proxy: no API process answered"}');
  assert.deepEqual(proxy.counts(), [0, 0]);
});
