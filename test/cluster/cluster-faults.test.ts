// The scale-out deployment under faults, on the real PostgreSQL and NATS JetStream: three serve
// processes on one database behind a round-robin address, two PoPs whose agents drive built-in
// edges over the edge bus. The truth is read from the database and from each edge's own counters.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addDomain, edgeOps, query, startTestCluster, submitLoad, taskOf, waitDone, type TestCluster } from './cluster-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function purgesPerEdge(cluster: TestCluster): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const pop of cluster.pops) for (const e of pop.edges) out.set(e.name, (await edgeOps(e)).purge ?? 0);
  return out;
}

describe('three serve processes, two PoPs (deadline 60 s, lease 3 s)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ serveEnv: { CACHECTL_TASK_DEADLINE_MS: '60000', CACHECTL_LEASE_MS: '3000', CACHECTL_MAX_URLS: '1000' } });
    await addDomain(cluster.api1, 'faults.test');
  });
  after(() => cluster?.close());

  test('kill -9 of a serve process during a 20,000-URL load: every URL terminal, counted once, none applied twice on a node', async () => {
    const before = await purgesPerEdge(cluster);
    // The agents are paused while the load goes in and the serve dies, so that work is surely open at the
    // kill (a fast machine otherwise finished all 20,000 URLs before it); they resume right after.
    const agents = cluster.pops.map((p) => p.agent.pid());
    for (const pid of agents) process.kill(pid, 'SIGSTOP');
    let ids: string[];
    try {
      ids = await submitLoad(cluster.api1, 'faults.test', 20, 1000, 'kill');
      const spread = cluster.proxy.counts();
      assert.ok(spread.every((n) => n > 0), `the API calls were not spread over the processes: ${spread}`);
      await cluster.serves[1].kill('SIGKILL');
      // Read after the kill: a task not done now was not done at the kill either.
      const views = await Promise.all(ids.map((id) => taskOf(cluster.api1, id)));
      const open = views.filter((v) => v.status !== 'task_done').length;
      assert.ok(open > 0, 'every task was done before the kill: the test proves nothing');
    } finally {
      for (const pid of agents) process.kill(pid, 'SIGCONT');
    }
    const done = await waitDone(cluster.api1, ids, 120_000);
    for (const t of done) {
      assert.equal(t.total, 1000);
      assert.equal(t.succeed + t.failed, 1000, `task ${t.id} counts ${JSON.stringify(t)}`);
      assert.equal(t.processing, 0);
    }
    const rows = await query<{ status: string; n: string }>(cluster.databaseUrl, `select status, count(*) as n from task_urls where url like 'http://faults.test/kill/%' group by status`);
    assert.deepEqual(rows.map((r) => [r.status, Number(r.n)]), [['succeed', 20_000]]);
    const sums = await query<{ s: string; f: string }>(cluster.databaseUrl, `select sum(succeed) as s, sum(failed) as f from tasks where id = any($1::bigint[])`, [ids]);
    assert.deepEqual([Number(sums[0].s), Number(sums[0].f)], [20_000, 0]);
    const after = await purgesPerEdge(cluster);
    for (const [name, n] of after) assert.equal(n - before.get(name)!, 20_000, `edge ${name} applied ${n - before.get(name)!} purges for 20,000 URLs`);
    await cluster.serves[1].start();
  });

  test('an agent stopped for 10 s during a load: its commands are applied after it returns', async () => {
    const pop = cluster.pops[0];
    const before = await purgesPerEdge(cluster);
    await pop.agent.kill('SIGTERM');
    const ids = await submitLoad(cluster.api1, 'faults.test', 5, 1000, 'agent-away');
    await sleep(10_000);
    const waiting = await Promise.all(ids.map((id) => taskOf(cluster.api1, id)));
    assert.ok(waiting.every((t) => t.status === 'task_inprocess'), 'tasks finished while a PoP was away');
    for (const e of pop.edges) assert.equal((await edgeOps(e)).purge - before.get(e.name)!, 0, `${e.name} was purged while its agent was away`);
    await pop.agent.start();
    const done = await waitDone(cluster.api1, ids, 60_000);
    for (const t of done) assert.deepEqual([t.succeed, t.failed], [1000, 0]);
    const after = await purgesPerEdge(cluster);
    for (const [name, n] of after) assert.equal(n - before.get(name)!, 5000, `edge ${name}`);
  });
});

describe('a PoP away past the deadline (deadline 4 s)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ serves: 2, serveEnv: { CACHECTL_TASK_DEADLINE_MS: '4000', CACHECTL_LEASE_MS: '3000' } });
    await addDomain(cluster.api1, 'late.test');
  });
  after(() => cluster?.close());

  test('its URLs fail with INNER_ERROR naming the PoP and node, and nothing is applied when it returns', async () => {
    const pop = cluster.pops[1];
    const before = await purgesPerEdge(cluster);
    await pop.agent.kill('SIGTERM');
    const [id] = await submitLoad(cluster.api1, 'late.test', 1, 100, 'late');
    const [t] = await waitDone(cluster.api1, [id], 30_000);
    assert.deepEqual([t.succeed, t.failed], [0, 100]);
    const detail = await cluster.api1.call<{ urls: Array<{ status: string; fail_classify: string; fail_desc: string }> }>('GET', `/v1.0/cdn/historytasks/${id}/detail`, { query: [['page_size', 100], ['page_number', 1]] });
    for (const u of detail.urls) {
      assert.equal(u.status, 'failed');
      assert.equal(u.fail_classify, 'INNER_ERROR');
      for (const e of pop.edges) assert.match(u.fail_desc, new RegExp(`${e.name}.*${pop.name}|${pop.name}.*${e.name}`), u.fail_desc);
    }
    // The other PoP applied them.
    for (const e of cluster.pops[0].edges) assert.equal((await edgeOps(e)).purge - before.get(e.name)!, 100);
    await pop.agent.start();
    await sleep(1500);
    for (const e of pop.edges) assert.equal((await edgeOps(e)).purge - before.get(e.name)!, 0, `${e.name} applied commands past their deadline`);
  });
});

describe('PostgreSQL restarted during a load (a private server)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ privatePostgres: true, serveEnv: { CACHECTL_TASK_DEADLINE_MS: '60000', CACHECTL_LEASE_MS: '5000' } });
    await addDomain(cluster.api1, 'pgrestart.test');
  });
  after(() => cluster?.close());

  test('the processes reconnect and finish the work', async () => {
    const before = await purgesPerEdge(cluster);
    const ids = await submitLoad(cluster.api1, 'pgrestart.test', 10, 1000, 'first');
    const open = (await Promise.all(ids.map((id) => taskOf(cluster.api1, id)))).filter((t) => t.status !== 'task_done').length;
    await cluster.postgres!.restart(2000);
    assert.ok(open > 0, 'every task was done before the restart: the test proves nothing');
    // The API answers again once it has reconnected: more work after the restart.
    let more: string[] = [];
    for (let i = 0; ; i++) {
      try {
        more = await submitLoad(cluster.api1, 'pgrestart.test', 5, 1000, 'second');
        break;
      } catch (err) {
        if (i > 50) throw err;
        await sleep(200);
      }
    }
    const done = await waitDone(cluster.api1, [...ids, ...more], 120_000);
    for (const t of done) assert.deepEqual([t.total, t.succeed + t.failed, t.processing], [1000, 1000, 0], JSON.stringify(t));
    const rows = await query<{ status: string; n: string }>(cluster.databaseUrl, `select status, count(*) as n from task_urls where url like 'http://pgrestart.test/%' group by status`);
    assert.deepEqual(rows.map((r) => [r.status, Number(r.n)]), [['succeed', 15_000]]);
    const after = await purgesPerEdge(cluster);
    for (const [name, n] of after) assert.ok(n - before.get(name)! >= 15_000, `edge ${name} applied ${n - before.get(name)!}`);
  });
});
