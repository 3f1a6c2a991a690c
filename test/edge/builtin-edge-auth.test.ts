// Who may drive a built-in edge's control port: only a caller with its secret. Without it, or with a
// wrong one, every route answers 401 before any body is read and changes nothing; the port listens on
// its own address (loopback by default), not the traffic address, and beyond loopback only with a secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Pool } from 'undici';
import { startBuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { fetchRaw, source, startOrigin, startTestEdge } from './builtin-edge-fixture.js';
import type { TestEdge, TestOrigin } from './builtin-edge-fixture.js';

const SITE = 'www.auth.test';
const EVIL = 'evil.auth.test';
let origin: TestOrigin;
let evilOrigin: TestOrigin;
let edge: TestEdge;

before(async () => {
  origin = await startOrigin();
  evilOrigin = await startOrigin();
  edge = await startTestEdge([{ name: SITE, sources: [source(origin.port)] }]);
});

after(async () => {
  await edge?.close();
  await origin?.close();
  await evilOrigin?.close();
});

/** One control call with the given Authorization header (none when undefined). */
async function call(method: string, path: string, body: unknown, authorization: string | undefined): Promise<{ status: number; text: string; challenge: unknown }> {
  const pool = new Pool(edge.edge.controlUrl);
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization !== undefined && { authorization }) };
    const res = await pool.request({ method: method as 'POST', path, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.statusCode, text: await res.body.text(), challenge: res.headers['www-authenticate'] };
  } finally {
    await pool.close();
  }
}

test('without the secret or with a wrong one, every control route answers 401 and nothing changes', async () => {
  origin.put('/a.txt');
  origin.put('/p.txt');
  evilOrigin.put('/a.txt');
  assert.equal((await edge.get('/a.txt', { host: SITE })).xcache, 'MISS');
  assert.equal((await edge.get('/a.txt', { host: SITE })).xcache, 'HIT');
  const items = { items: [{ host: SITE, path: '/a.txt' }] };
  const evilDomains = { version: 99, domains: [{ name: EVIL, sources: [source(evilOrigin.port)] }] };
  const wrong = [undefined, 'Bearer not-the-secret-at-all', `Bearer ${edge.secret}x`, `Bearer ${edge.secret.slice(0, -1)}`, edge.secret, `Basic ${edge.secret}`, ''];
  for (const authorization of wrong) {
    const what = `Authorization ${JSON.stringify(authorization)}`;
    for (const [method, path, body] of [
      ['PUT', '/domains', evilDomains],
      ['POST', '/purge', items],
      ['POST', '/purge-directory', { items: [{ host: SITE, path: '/' }] }],
      ['POST', '/revalidate', items],
      ['POST', '/revalidate-directory', { items: [{ host: SITE, path: '/' }] }],
      ['POST', '/prefetch', { items: [{ host: SITE, path: '/p.txt' }] }],
      ['GET', '/health', undefined],
    ] as const) {
      const res = await call(method, path, body, authorization);
      assert.equal(res.status, 401, `${method} ${path}, ${what}: ${res.text}`);
      assert.equal(res.challenge, 'Bearer');
      assert.deepEqual(JSON.parse(res.text), { error: 'missing or wrong bearer secret' });
    }
  }
  // The domain set is the one the driver applied; the object is still cached; nothing was prefetched.
  const health = await edge.driver.health();
  assert.equal(health.up, true);
  assert.equal(health.domainsVersion, 1);
  assert.equal((await edge.get('/a.txt', { host: EVIL })).status, 404, 'the evil domain is not served');
  assert.equal(evilOrigin.arrived('/a.txt'), 0);
  assert.equal((await edge.get('/a.txt', { host: SITE })).xcache, 'HIT');
  assert.equal(origin.arrived('/p.txt'), 0, 'no prefetch reached the origin');
  const ops = JSON.parse((await fetchRaw(`${edge.edge.controlUrl}/health`, 'GET', undefined, edge.secret)).text).ops;
  assert.deepEqual(ops, { purge: 0, purge_dir: 0, revalidate: 0, revalidate_dir: 0, prefetch: 0 });
});

test('with the secret, the same calls work', async () => {
  const right = `Bearer ${edge.secret}`;
  const purge = await call('POST', '/purge', { items: [{ host: SITE, path: '/a.txt' }] }, right);
  assert.equal(purge.status, 200, purge.text);
  assert.deepEqual(JSON.parse(purge.text), { results: [{ ok: true, purged: 1 }] });
  assert.equal((await edge.get('/a.txt', { host: SITE })).xcache, 'MISS');
  const prefetch = await call('POST', '/prefetch', { items: [{ host: SITE, path: '/p.txt' }] }, right);
  assert.equal(prefetch.status, 200, prefetch.text);
  assert.equal((await edge.get('/p.txt', { host: SITE })).xcache, 'HIT');
  const domains = { version: 2, domains: [{ name: SITE, sources: [source(origin.port)] }] };
  const put = await call('PUT', '/domains', domains, right);
  assert.equal(put.status, 200, put.text);
  assert.equal((await edge.driver.health()).domainsVersion, 2);
});

test('an anonymous call is refused before its body is read', async () => {
  // Announces 10 MB and sends none of it: the answer must come at once, not after a body that never comes.
  const url = new URL(edge.edge.controlUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  try {
    const head = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer before the body: the edge waits for it')), 5000);
      socket.once('error', reject);
      socket.once('data', (d) => {
        clearTimeout(timer);
        resolve(d.toString('latin1'));
      });
      socket.write(`PUT /domains HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`);
    });
    assert.match(head, /^HTTP\/1\.1 401 /);
  } finally {
    socket.destroy();
  }
});

test('the control port listens on its own address, loopback by default, not on the traffic address', async () => {
  const e = await startBuiltinEdge({ name: 'split', host: '127.0.0.2', secret: edge.secret });
  try {
    const traffic = new URL(e.trafficUrl);
    const control = new URL(e.controlUrl);
    assert.equal(traffic.hostname, '127.0.0.2');
    assert.equal(control.hostname, '127.0.0.1');
    assert.equal((await fetchRaw(`${e.controlUrl}/health`, 'GET', undefined, edge.secret)).status, 200);
    // Nothing answers on the traffic address at the control port.
    await assert.rejects(fetchRaw(`http://127.0.0.2:${control.port}/health`, 'GET', undefined, edge.secret), /ECONNREFUSED/);
  } finally {
    await e.close();
  }
});

test('a control port beyond loopback needs a secret', async () => {
  await assert.rejects(startBuiltinEdge({ name: 'open', adminHost: '0.0.0.0' }), /beyond loopback, without a secret/);
  const e = await startBuiltinEdge({ name: 'closed', adminHost: '0.0.0.0', secret: edge.secret });
  try {
    assert.match(e.controlUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetchRaw(`${e.controlUrl}/health`, 'GET')).status, 401);
  } finally {
    await e.close();
  }
});
