// Two serve processes on one database drive the same edge: the domain set's version is the
// deployment's, so once the set is on the edge neither process pushes it again, also after one of them
// restarted. (With a version per process, two counters two or more apart took turns pushing the whole
// set every health round, forever: each saw the other's number on the node.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../../src/client/api-client.js';
import type { EdgeInfo } from '../../src/cluster/local-cluster.js';
import { addDomain, query, startTestCluster } from './cluster-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The edge's own answer: the domain set version it serves and how many sets it was given. */
async function edgeState(edge: EdgeInfo): Promise<{ domainsVersion: number | null; domainPushes: number }> {
  const res = await fetch(`${edge.controlUrl}/health`, { headers: { authorization: `Bearer ${edge.secret}` } });
  const body = (await res.json()) as { domainsVersion: number | null; domainPushes?: number };
  if (typeof body.domainPushes !== 'number') throw new Error(`edge ${edge.name} reports no domainPushes: ${JSON.stringify(body)}`);
  return { domainsVersion: body.domainsVersion, domainPushes: body.domainPushes };
}

test('two serve processes adding domains alternately, one restarted between: after settling, no domain set is pushed again', { timeout: 180_000 }, async () => {
  const cluster = await startTestCluster({ serves: 2, pops: 1, edgesPerPop: 1 });
  const clientOf = (i: number) => new ApiClient({ api: cluster.serves[i].url, accessKey: cluster.credentials.accessKey, secretKey: cluster.credentials.secretKey });
  const direct = [clientOf(0), clientOf(1)];
  try {
    const edge = cluster.pops[0].edges[0];
    for (let i = 0; i < 6; i++) await addDomain(direct[i % 2], `d${i}.sync.test`);
    // A rolling restart of the second process: the deployment's version goes on where it was.
    await cluster.serves[1].kill('SIGTERM');
    await cluster.serves[1].start();
    await direct[1].close();
    direct[1] = clientOf(1);
    for (let i = 6; i < 8; i++) await addDomain(direct[i % 2], `d${i}.sync.test`);
    // Settling: each process may push once more after the other's last change (its own push was older).
    let settled = await edgeState(edge);
    for (let quiet = 0, i = 0; quiet < 5_000 && i < 40; i++) {
      await sleep(500);
      const now = await edgeState(edge);
      quiet = now.domainPushes === settled.domainPushes ? quiet + 500 : 0;
      settled = now;
    }
    // Five health rounds (2 s each) of both processes.
    await sleep(10_000);
    const later = await edgeState(edge);
    assert.equal(later.domainPushes - settled.domainPushes, 0, `domain sets pushed to the edge in 10 s after settling (versions ${settled.domainsVersion} → ${later.domainsVersion})`);
    assert.equal(later.domainsVersion, settled.domainsVersion);
    // The edge serves the store's version of the set: one per change of the set, none per push.
    const [row] = await query<{ value: string }>(cluster.databaseUrl, "select value from meta where key = 'domain_set'");
    assert.equal(later.domainsVersion, Number(row.value.split(' ')[0]));
  } finally {
    for (const d of direct) await d.close();
    await cluster.close();
  }
});
