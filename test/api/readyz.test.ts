// /readyz: 200 while the store answers, the migrations are done, the engine runs and (a worker sharing a
// PostgreSQL store) its lease row is alive; otherwise 503 naming the failed check. /healthz stays "alive".
// The store outage is real: a TCP relay in front of PostgreSQL that drops its connections, or the
// SQLite store closed under the server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TEST_STORE } from '../support/stores.js';
import { freshDatabase } from '../support/postgres.js';
import { tcpRelay } from '../support/tcp-relay.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Where the probes are: the API, or for a worker (no API port) its metrics address. */
const probes = (ts: TestServer) => ts.server.url || ts.server.metricsUrl!.replace(/\/metrics$/, '');

async function get(ts: TestServer, path: string): Promise<{ status: number; json: any; cache: string | null }> {
  const res = await fetch(`${probes(ts)}${path}`);
  return { status: res.status, json: await res.json(), cache: res.headers.get('cache-control') };
}

/** A readiness answer is reused for up to a second: asks until `status` comes (a state change, not a timing). */
async function readyzUntil(ts: TestServer, status: number): Promise<any> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await get(ts, '/readyz');
    if (res.status === status) return res.json;
    if (Date.now() > deadline) throw new Error(`/readyz stayed ${res.status}: ${JSON.stringify(res.json)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function started(flags: Record<string, string> = {}): Promise<TestServer> {
  const ts = await startTestServer({ 'builtin-edges': '0', ...flags });
  cleanups.push(() => ts.close());
  return ts;
}

test('ready: every check ok, without credentials; /healthz says alive', async () => {
  const ts = await started();
  const ready = await get(ts, '/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.cache, 'no-store');
  const checks: Record<string, string> = { store: 'ok', migrations: 'ok', engine: 'ok' };
  // One process on PostgreSQL works URLs under a lease too (role all).
  if (TEST_STORE === 'postgres') checks.lease = 'ok';
  assert.deepEqual(ready.json, { ready: true, failed: [], checks });
  assert.deepEqual(await get(ts, '/healthz'), { status: 200, json: { ok: true }, cache: null });
});

test('the engine stopped: 503 naming the engine; /healthz still 200', async () => {
  const ts = await started();
  await readyzUntil(ts, 200);
  await ts.server.engine.stop();
  const body = await readyzUntil(ts, 503);
  assert.deepEqual(body.failed, ['engine']);
  assert.equal(body.checks.engine, 'not running');
  assert.equal(body.checks.store, 'ok');
  assert.equal((await get(ts, '/healthz')).status, 200);
});

if (TEST_STORE === 'sqlite') {
  test('SQLite: the store closed under the server: 503 naming the store, its error kept out of the answer', async () => {
    const ts = await started();
    await readyzUntil(ts, 200);
    await ts.server.store.close();
    const body = await readyzUntil(ts, 503);
    assert.deepEqual(body.failed, ['store']);
    assert.equal(body.checks.store, 'failed (see the server log)');
    assert.equal(body.checks.engine, 'ok');
    assert.equal((await get(ts, '/healthz')).status, 200);
  });
}

if (TEST_STORE === 'postgres') {
  test('PostgreSQL unreachable (a relay that drops every connection): 503 naming the store; ready again once it is back', async () => {
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const relay = await tcpRelay(new URL(database.url));
    cleanups.push(() => relay.close());
    const viaRelay = new URL(database.url);
    viaRelay.port = String(relay.port);
    const ts = await started({ 'database-url': viaRelay.href });
    await readyzUntil(ts, 200);
    relay.down();
    const body = await readyzUntil(ts, 503);
    assert.ok(body.failed.includes('store'), JSON.stringify(body));
    assert.doesNotMatch(JSON.stringify(body), /127\.0\.0\.1|ECONN|password/);
    assert.equal((await get(ts, '/healthz')).status, 200);
    relay.up();
    assert.equal((await readyzUntil(ts, 200)).ready, true);
  });

  test('PostgreSQL worker: its lease row run out: 503 naming the lease', async () => {
    // A long lease: renewed every 200 s, so nothing renews the row during the test.
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const ts = await started({ 'database-url': database.url, 'lease-ms': '600000' });
    await readyzUntil(ts, 200);
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    cleanups.push(() => direct.end());
    const { rowCount } = await direct.query('update workers set alive_until = 0');
    assert.equal(rowCount, 1);
    const body = await readyzUntil(ts, 503);
    assert.deepEqual(body.failed, ['lease']);
    assert.equal(body.checks.store, 'ok');
  });

  test('a worker (--role worker: no API port) is probed on its metrics address: /healthz, /readyz, and 503 when its lease runs out', async () => {
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const ts = await started({ 'database-url': database.url, role: 'worker', 'metrics-listen': '127.0.0.1:0', 'lease-ms': '600000' });
    assert.equal(ts.server.url, '', 'a worker serves no API');
    assert.deepEqual(await get(ts, '/healthz'), { status: 200, json: { ok: true }, cache: 'no-store' });
    const ready = await readyzUntil(ts, 200);
    assert.deepEqual(ready, { ready: true, failed: [], checks: { store: 'ok', migrations: 'ok', engine: 'ok', lease: 'ok' } });
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    cleanups.push(() => direct.end());
    await direct.query('update workers set alive_until = 0');
    assert.deepEqual((await readyzUntil(ts, 503)).failed, ['lease']);
    // The metrics are still there, and nothing else is.
    assert.equal((await fetch(ts.server.metricsUrl!)).status, 200);
    assert.equal((await fetch(`${probes(ts)}/v1.0/cdn/historytasks`)).status, 404);
  });
}
