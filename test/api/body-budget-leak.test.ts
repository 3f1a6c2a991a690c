// Single store: PostgreSQL only (the key lookup's round trip, held up by a table lock).
// A body's share of the budget is given back when its response's connection closes. It was reserved
// after the caller was identified, which on PostgreSQL is a round trip on a key-cache miss: a client
// that reset the connection during that wait had its 'close' fire before anyone listened, and the
// share was held until restart; eight such resets and every body got 429. Real PostgreSQL; the key
// lookup is held up by a lock on the keys table so that the reset lands inside it every time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { formatSdkDate } from '../../src/signing/sdk-date.js';
import { connect } from '../support/raw-http.js';
import { freshDatabase } from '../support/postgres.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const LIMIT = 8192;
let db: { url: string; drop(): Promise<void> };
let ts: TestServer;
let port: number;
before(async () => {
  db = await freshDatabase();
  // Eight 8 KiB bodies at once in all; each address and the key may hold all of it, so that any
  // leaked share shows in the total.
  const all = String(8 * LIMIT);
  ts = await startTestServer({ 'database-url': db.url, 'builtin-edges': '0', 'body-limit': String(LIMIT), 'body-budget': all, 'body-budget-per-address': all, 'body-budget-per-key': all });
  port = Number(new URL(ts.server.url).port);
});
after(async () => {
  await ts?.close();
  await db?.drop();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a connection reset while its key is being looked up leaves no share of the body budget behind', async () => {
  const admin = ts.server.bootstrap!;
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  try {
    ts.server.auth.invalidate();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE access_keys IN ACCESS EXCLUSIVE MODE');
    // Ten requests announcing a full body, each waiting for the key's lookup, then reset.
    const sockets = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(port, `127.0.3.${i + 1}`)));
    for (const s of sockets) {
      s.on('error', () => {});
      s.write(
        `POST /cachectl/v1/keys HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-Sdk-Date: ${formatSdkDate(Date.now())}\r\n` +
          `Authorization: SDK-HMAC-SHA256 Access=${admin.accessKey}, SignedHeaders=content-type;host;x-sdk-date, Signature=${'0'.repeat(64)}\r\nContent-Length: ${LIMIT}\r\n\r\n`,
      );
    }
    await pause(300);
    for (const s of sockets) s.resetAndDestroy();
    await pause(300);
  } finally {
    await locker.query('COMMIT');
    await locker.end();
  }
  // The lookups finish now, for connections long gone.
  await pause(300);
  assert.deepEqual(ts.server.app.bodyBudgets.credentialed.inUse, { bytes: 0, addresses: 0, credentials: 0 });
  // And bodies are still received.
  const res = await ts.call('POST', '/cachectl/v1/keys', { body: { account: admin.account, description: 'x'.repeat(150) } });
  assert.equal(res.status, 200, res.text);
});
