// An origin change that arrives while the previous push is still on its way: the domain must not be
// marked online by that push (its nodes got the older origins), only by the push that carries the new
// ones. A gate in front of a real built-in edge's control port holds the domain pushes on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startBuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import { startTestServer, addDomain } from '../support/test-server.js';
import { startOrigin } from '../support/origin.js';

const HOST = 'www.push-race.test';

/** Forwards control calls; a PUT …/domains waits while the gate has no pass left (`allow(n)` gives n). */
async function pushGate(target: string) {
  let passes = Infinity;
  const waiting: Array<() => void> = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'PUT' && req.url?.endsWith('/domains')) {
      if (passes > 0) passes--;
      else await new Promise<void>((r) => waiting.push(r));
    }
    const headers = { ...req.headers };
    delete headers.host;
    const up = await request(target + req.url, { method: req.method as 'PUT', headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
    res.end(Buffer.from(await up.body.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => waiting.length,
    close: () => {
      passes = 0;
    },
    allow(n: number) {
      for (let i = 0; i < n; i++) {
        const next = waiting.shift();
        if (next) next();
        else passes++;
      }
    },
    open() {
      passes = Infinity;
      for (const w of waiting.splice(0)) w();
    },
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

test('a push that carried older origins does not mark the domain online', async (t) => {
  const [a, b, c] = await Promise.all([startOrigin(), startOrigin(), startOrigin()]);
  const secret = randomBytes(16).toString('hex');
  const edge = await startBuiltinEdge({ name: 'gated-1', originAllow: OriginAllowList.parse('loopback'), secret });
  const gate = await pushGate(edge.controlUrl);
  const ts = await startTestServer({ 'builtin-edges': '0' });
  t.after(async () => {
    gate.open();
    await ts.close();
    await gate.stop();
    await edge.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });
  const added = await ts.call('POST', '/cachectl/v1/nodes', { body: { name: 'gated-1', driver: 'builtin', traffic_url: edge.trafficUrl, control_url: gate.url, secret } });
  assert.equal(added.status, 200, added.text);
  const id = await addDomain(ts.call, HOST, a.port);
  const change = (port: number) => ts.call('PUT', `/v1.0/cdn/domains/${id}/origin`, { body: { origin: { sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: port }] } } });
  const status = async () => (await ts.call('GET', `/v1.0/cdn/domains/${id}/detail`)).json.domain;
  const served = async (p: string) => (await request(`${edge.trafficUrl}${p}`, { headers: { host: HOST } })).body.text();

  gate.close();
  assert.equal((await change(b.port)).status, 200); // push 1 (origin b) is held at the gate
  for (let i = 0; gate.held() === 0; i++) {
    assert.ok(i < 500, 'push 1 never reached the gate');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await change(c.port)).status, 200); // push 2 (origin c) will follow push 1
  gate.allow(1); // push 1 goes through; push 2 is held
  for (let i = 0; gate.held() === 0; i++) {
    assert.ok(i < 500, 'push 2 never reached the gate');
    await new Promise((r) => setTimeout(r, 10));
  }
  b.put('/p');
  assert.equal(await served('/p'), '/p v1', 'the edge serves origin b: push 1 is applied');
  // Push 1 is over (push 2 started after it): the domain is still configuring, with origin c pending.
  for (let i = 0; i < 20; i++) {
    const d = await status();
    assert.equal(d.domain_status, 'configuring', `marked online by the push that carried origin b: ${JSON.stringify(d)}`);
    assert.equal(d.sources[0].http_port, c.port);
    await new Promise((r) => setTimeout(r, 10));
  }

  gate.open();
  for (let i = 0; (await status()).domain_status !== 'online'; i++) {
    assert.ok(i < 500, 'never online after push 2');
    await new Promise((r) => setTimeout(r, 10));
  }
  c.put('/q');
  assert.equal(await served('/q'), '/q v1');
  assert.deepEqual([b.hits('/q').full, c.hits('/q').full], [0, 1], 'online means served by origin c');
});
