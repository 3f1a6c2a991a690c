// Single store: PostgreSQL only (leases between workers on a shared store).
// A worker taken for dead on a shared PostgreSQL: it lost the store for longer than its lease, another
// worker reaped it and took part of its URLs, and then it came back. From the moment it learns that,
// nothing it started under its old name may reach a node or the store: its old calls are not sent
// again, and an outcome of its old attempt is never written for the attempt it makes of the same URL
// under its new name. Two real engines on one real PostgreSQL; each reaches its own real built-in edge
// (so each edge's purge count says what one worker did) through a TCP relay that can refuse it, and
// the stalled worker reaches the store through a relay too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createStore, type Store } from '../../src/store/store.js';
import { insertTasks } from '../../src/store/repositories/task-repository.js';
import { TaskEngine } from '../../src/engine/task-engine.js';
import { EdgeFleet } from '../../src/engine/edge-fleet.js';
import { createDriver } from '../../src/edge/engines.js';
import { startBuiltinEdge, type BuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import { freshDatabase } from '../support/postgres.js';
import { tcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { newTask } from '../support/new-task.js';

const LEASE_MS = 1000;
const URLS = 20;
const secret = 'dead-edge-secret-'.padEnd(40, 'z');
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** An edge reached through a relay that refuses connections until up(). */
async function edgeBehindRelay(name: string): Promise<{ edge: BuiltinEdge; relay: TcpRelay; fleet: EdgeFleet; purges: () => Promise<number> }> {
  const edge = await startBuiltinEdge({ name, secret, originAllow: OriginAllowList.parse('loopback') });
  cleanups.push(() => edge.close());
  const relay = await tcpRelay(new URL(edge.controlUrl));
  cleanups.push(() => relay.close());
  relay.down();
  const node = { name: 'edge-1', driver: 'builtin' as const, trafficUrl: edge.trafficUrl, controlUrl: `http://127.0.0.1:${relay.port}`, labels: {}, secret };
  const fleet = new EdgeFleet([{ node, driver: createDriver(node) }]);
  cleanups.push(() => fleet.close());
  const purges = async () => {
    const res = await fetch(`${edge.controlUrl}/health`, { headers: { authorization: `Bearer ${secret}` } });
    return ((await res.json()) as { ops: { purge: number } }).ops.purge;
  };
  return { edge, relay, fleet, purges };
}

function engine(store: Store, fleet: EdgeFleet, owner: string, deadlineMs: number, log: (msg: string) => void, maxTracked?: number): TaskEngine {
  const e = new TaskEngine(store.db, fleet, {
    outcomeWrite: (fn) => store.recoverableStatement(fn),
    deadlineMs,
    retryBaseMs: 50,
    maxTracked,
    log,
    shared: { owner, leaseMs: LEASE_MS, pollMs: 50, worker: true },
  });
  cleanups.push(() => e.stop());
  return e;
}

/**
 * Worker `w` takes all 20 URLs of a task while its node refuses calls, then loses the store. Once its
 * lease ran out, worker `p` (room for 10 URLs, its node refusing too) reaps it and takes 10; the other
 * 10 wait unclaimed. Answers with everything still down: the test decides what comes back when.
 */
async function takeover(wDeadlineMs: number) {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const direct = await createStore({ kind: 'postgres', url: database.url, poolSize: 4 });
  cleanups.push(() => direct.close());
  const storeRelay = await tcpRelay(new URL(database.url));
  cleanups.push(() => storeRelay.close());
  const viaRelay = new URL(database.url);
  viaRelay.port = String(storeRelay.port);
  const wStore = await createStore({ kind: 'postgres', url: viaRelay.href, poolSize: 4 });
  cleanups.push(() => wStore.close());

  const a = await edgeBehindRelay('edge-a');
  const b = await edgeBehindRelay('edge-b');
  const wLog: string[] = [];
  const w = engine(wStore, a.fleet, 'w', wDeadlineMs, (msg) => wLog.push(msg));
  const p = engine(direct, b.fleet, 'p', 60_000, () => undefined, 10);

  const [{ taskId }] = await direct.db.transaction().execute((trx) => insertTasks(trx, [newTask('acct-dead', URLS, Date.now())]));
  const owners = async () => {
    const { rows } = await sql<{ owner: string | null; status: string; n: number }>`
      select lease_owner as owner, status, count(*)::int as n from task_urls where task_id = ${taskId} group by 1, 2 order by 1, 2`.execute(direct.db);
    return rows;
  };
  await w.start();
  // Claimed and marked started, so the only writes w has left are outcomes.
  await until('w holds every URL', async () => JSON.stringify(await owners()) === JSON.stringify([{ owner: 'w', status: 'refreshing', n: URLS }]));

  storeRelay.down();
  await p.start();
  await until('p took 10 URLs of the reaped w, and 10 wait unclaimed', async () => {
    const rows = await owners();
    return rows.some((r) => r.owner === 'p' && r.n === 10) && rows.some((r) => r.owner === null && r.n === 10);
  });
  const task = async () => {
    const { rows } = await sql<{ succeed: number; failed: number; processing: number }>`select succeed, failed, processing from tasks where id = ${taskId}`.execute(direct.db);
    return rows[0];
  };
  return { w, p, a, b, wLog, storeRelay, owners, task };
}

test('an outcome of the old attempt is not written for the attempt the worker makes under its new name', async () => {
  // w's first attempts reach their deadline while its node and the store are down: they fail, and
  // those failures wait in w's outcome writer, which backs off longer after each failed write.
  const { w, p, a, b, wLog, storeRelay, owners, task } = await takeover(1500);
  const writeFailures = () => wLog.filter((m) => m.startsWith('writing URL outcomes failed')).length;
  // After the 7th failed write the next one is 3.2 s away: time enough for w to learn it was taken
  // for dead, claim the 10 free URLs under its new name and purge them, before that write comes.
  await until('w failed to write its outcomes 7 times', () => writeFailures() >= 7, 30_000);
  a.relay.up();
  storeRelay.up();
  await until('w claimed the 10 free URLs under a new name', async () => (await owners()).some((r) => r.owner?.startsWith('w~') && r.n === 10));
  b.relay.up();
  // Done only once w's writer has tried its old outcomes again: they are queued before the new ones.
  await until('the task is done', async () => (await task()).processing === 0);
  await until('w and p are idle', () => w.load === 0 && p.load === 0);

  // Every URL was purged by the worker holding it then: p's 10 by edge B, w's 10 (new name) by edge A.
  assert.deepEqual(await task(), { succeed: URLS, failed: 0, processing: 0 });
  const rows = await owners();
  assert.equal(rows.length, 2, JSON.stringify(rows));
  assert.deepEqual(rows.find((r) => r.owner === 'p'), { owner: 'p', status: 'succeed', n: 10 });
  const again = rows.find((r) => r.owner !== 'p')!;
  assert.match(again.owner!, /^w~/);
  assert.deepEqual([again.status, again.n], ['succeed', 10]);
  assert.equal(await a.purges(), 10);
  assert.equal(await b.purges(), 10);
});

test('from the moment the worker learns it was taken for dead, its old attempts reach no node', async () => {
  // w's first attempts are still retrying (the deadline is far) when it learns.
  const { w, p, a, b, wLog, storeRelay, owners, task } = await takeover(60_000);
  storeRelay.up();
  await until('w learned it was taken for dead', () => wLog.some((m) => m.includes('taken for dead')));
  await until('w claimed the 10 free URLs under a new name', async () => (await owners()).some((r) => r.owner?.startsWith('w~') && r.n === 10));
  // Only now may w's node answer: every purge it gets comes after w learned.
  a.relay.up();
  b.relay.up();
  await until('the task is done', async () => (await task()).processing === 0);
  // Old attempts, if any were still retried, end too (their node answers now).
  await until('w and p are idle', () => w.load === 0 && p.load === 0);

  assert.deepEqual(await task(), { succeed: URLS, failed: 0, processing: 0 });
  // Edge A purged exactly the 10 URLs w holds under its new name, each once (each succeeded there):
  // none of p's, and no URL a second time for the old attempt.
  assert.equal(await a.purges(), 10);
  assert.equal(await b.purges(), 10);
});
