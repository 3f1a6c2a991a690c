// The store on PostgreSQL: the same repositories as on SQLite, plus what only several processes
// need: work claimed with leases (no URL held by two owners, expired leases taken over, the old
// owner's late outcome ignored) and quota bookings serialised across connections.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, type Store } from '../../src/store/store.js';
import { insertTasks, listTasks, recordOutcomes } from '../../src/store/repositories/task-repository.js';
import { claimUrls, heartbeat, reapDeadWorkers, registerWorker, releaseWorker } from '../../src/store/repositories/lease-repository.js';
import { QuotaService } from '../../src/services/quota-service.js';
import { QUOTA_PRESETS } from '../../src/config.js';
import { freshDatabase } from '../support/postgres.js';
import { newTask } from '../support/new-task.js';
import { deploymentId } from '../../src/store/repositories/meta-repository.js';

let store: Store;
let drop: () => Promise<void>;

before(async () => {
  const db = await freshDatabase();
  drop = db.drop;
  store = await createStore({ kind: 'postgres', url: db.url, poolSize: 8 });
});
after(async () => {
  await store.close();
  await drop();
});

const task = newTask;

test('migrations ran: numbers come back as numbers, history and counts work', async () => {
  const now = Date.now();
  const [{ taskId, urlIds }] = await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-h', 3, now)]));
  assert.equal(typeof taskId, 'number');
  assert.equal(urlIds.length, 3);
  const done = await store.recoverableStatement((db) => recordOutcomes(db, urlIds.map((id) => ({ id, ok: true })), now));
  assert.deepEqual(done.map((t) => t.id), [taskId]);
  const { total, rows } = await listTasks(store.db, { accountId: 'acct-h', orderField: 'create_time', orderType: 'desc', limit: 30, offset: 0 });
  assert.equal(total, 1);
  assert.equal(rows[0].status, 'task_done');
  assert.equal(rows[0].succeed, 3);
  assert.equal(typeof rows[0].create_time, 'number');
});

test('concurrent claims never hand one URL to two owners, and together take all', async () => {
  const now = Date.now();
  await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-c', 2000, now)]));
  const owners = ['p1', 'p2', 'p3', 'p4'];
  for (const o of [...owners, 'p5']) await registerWorker(store.db, o, 60_000);
  const got = new Map<string, number[]>(owners.map((o) => [o, []]));
  // Each owner claims in pages of 100 until nothing is left, all at once.
  await Promise.all(
    owners.map(async (o) => {
      for (;;) {
        const rows = await claimUrls(store.db, o, 100);
        got.get(o)!.push(...rows.filter((r) => r.account_id === 'acct-c').map((r) => Number(r.id)));
        if (rows.length === 0) break;
      }
    }),
  );
  const all = owners.flatMap((o) => got.get(o)!);
  assert.equal(all.length, 2000);
  assert.equal(new Set(all).size, 2000, 'a URL was claimed twice');
  assert.ok(owners.filter((o) => got.get(o)!.length > 0).length >= 2, 'the work was not spread');
  // A clean stop gives the URLs back at once: claimable again without waiting for the lease.
  await releaseWorker(store.db, 'p1');
  const again = (await claimUrls(store.db, 'p5', 5000)).map((r) => Number(r.id));
  assert.deepEqual(again.sort((a, b) => a - b), got.get('p1')!.sort((a, b) => a - b));
  // Finish them all so later tests start with no claimable work.
  for (const o of owners.slice(1).concat('p5')) {
    const mine = o === 'p5' ? again : got.get(o)!;
    await store.recoverableStatement((db) => recordOutcomes(db, mine.map((id) => ({ id, ok: true })), Date.now(), o));
  }
  const left = await store.db.selectFrom('task_urls').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', 'acct-c').where('status', '=', 'waiting').executeTakeFirstOrThrow();
  assert.equal(Number(left.n), 0);
});

test('a process that stops renewing is reaped: its URLs are taken over, and its late outcome is ignored', async () => {
  const now = Date.now();
  await registerWorker(store.db, 'old', 100);
  await registerWorker(store.db, 'new', 60_000);
  const [{ taskId, urlIds }] = await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-l', 10, now, 'old')]));
  // Alive: nothing to reap, nothing to claim.
  assert.equal(await reapDeadWorkers(store.db), 0);
  assert.equal((await claimUrls(store.db, 'new', 100)).filter((r) => r.account_id === 'acct-l').length, 0);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await reapDeadWorkers(store.db), 10);
  const taken = (await claimUrls(store.db, 'new', 100)).filter((r) => r.account_id === 'acct-l');
  assert.deepEqual(taken.map((r) => Number(r.id)), urlIds);
  // The old process learns it was reaped at its next renewal.
  assert.equal(await heartbeat(store.db, 'old', 100), false);
  assert.equal(await heartbeat(store.db, 'new', 60_000), true);
  // Its outcome arrives late: not written, not counted.
  assert.deepEqual(await store.recoverableStatement((db) => recordOutcomes(db, urlIds.map((id) => ({ id, ok: false, failClassify: 'INNER_ERROR', failDesc: 'late' })), Date.now(), 'old')), []);
  const done = await store.recoverableStatement((db) => recordOutcomes(db, urlIds.map((id) => ({ id, ok: true })), Date.now(), 'new'));
  assert.deepEqual(done.map((t) => t.id), [taskId]);
  const row = await store.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
  assert.deepEqual([row.succeed, row.failed, row.processing, row.status], [10, 0, 0, 'task_done']);
});

test('URLs in the name of a process that never registered are reaped too', async () => {
  await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-g', 3, Date.now(), 'ghost')]));
  assert.equal(await reapDeadWorkers(store.db), 3);
});

test('a process that was reaped claims nothing in its dead name (the next reap would free it again)', async () => {
  await store.db.transaction().execute((trx) => insertTasks(trx, [task('acct-r', 3, Date.now())]));
  await registerWorker(store.db, 'stalled', 60_000);
  await releaseWorker(store.db, 'stalled'); // as a reap does: its row is gone
  assert.equal((await claimUrls(store.db, 'stalled', 100)).filter((r) => r.account_id === 'acct-r').length, 0);
  await registerWorker(store.db, 'stalled~1', 60_000);
  assert.equal((await claimUrls(store.db, 'stalled~1', 100)).filter((r) => r.account_id === 'acct-r').length, 3);
});

test('quota bookings on several connections at once never exceed the limit', async () => {
  const limits = { ...QUOTA_PRESETS.selfhosted, file_refresh: 50 };
  const quotas = new QuotaService(store.db, limits);
  await store.db.insertInto('accounts').values({ id: 'q'.repeat(32), name: 'quota-race', is_admin: 0, quota_file_refresh: null, quota_dir_refresh: null, quota_preheat: null, quota_domain: null, created_at: Date.now() }).execute();
  // 20 transactions of 5 URLs each: only 10 fit.
  const verdicts = await Promise.all(
    Array.from({ length: 20 }, () =>
      store.db.transaction().execute(async (trx) => {
        // As the intake does: judge, then book with the task it accepts.
        const { verdicts: [v], bookings } = await quotas.judge(trx, [{ accountId: 'q'.repeat(32), use: { file_refresh: 5 } }], Date.now());
        if (v === null) await insertTasks(trx, [task('q'.repeat(32), 5, Date.now())], bookings);
        // Hold the transaction a little, as a batch insert would.
        await new Promise((r) => setTimeout(r, 5));
        return v;
      }),
    ),
  );
  assert.equal(verdicts.filter((v) => v === null).length, 10);
  const [row] = await store.db.selectFrom('quota_usage').select('used').where('account_id', '=', 'q'.repeat(32)).execute();
  assert.equal(Number(row.used), 50);
});

test('the deployment id is made once, whoever asks first', async () => {
  const ids = await Promise.all(Array.from({ length: 5 }, () => deploymentId(store.db)));
  assert.equal(new Set(ids).size, 1);
  assert.match(ids[0], /^[0-9a-f]{16}$/);
  assert.equal(await deploymentId(store.db), ids[0]);
});
