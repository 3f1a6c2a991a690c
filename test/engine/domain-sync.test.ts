// The domain set's version belongs to the deployment: every process answers the same number for the
// same set, and a push that fails changes nothing (its retries send the same version again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore, type Store } from '../../src/store/store.js';
import { domainSetVersion, insertDomain } from '../../src/store/repositories/domain-repository.js';
import { DomainSync } from '../../src/engine/domain-sync.js';
import { EdgeFleet } from '../../src/engine/edge-fleet.js';
import { createDriver } from '../../src/edge/engines.js';
import { startBuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import type { EdgeNode } from '../../src/edge/edge-driver.js';
import { freshDatabase } from '../support/postgres.js';
import { freePort } from '../support/processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two stores on one database, as two serve processes have. */
async function twoStores(kind: 'sqlite' | 'postgres'): Promise<{ stores: Store[]; close(): Promise<void> }> {
  if (kind === 'postgres') {
    const db = await freshDatabase();
    const first = await createStore({ kind: 'postgres', url: db.url, poolSize: 4 });
    const second = await createStore({ kind: 'postgres', url: db.url, poolSize: 4 });
    const close = async () => {
      await first.close();
      await second.close();
      await db.drop();
    };
    return { stores: [first, second], close };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-domain-set-'));
  const file = path.join(dir, 'd.db');
  const first = await createStore({ kind: 'sqlite', file, synchronous: 'NORMAL' });
  const second = await createStore({ kind: 'sqlite', file, synchronous: 'NORMAL' });
  const close = async () => {
    await first.close();
    await second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { stores: [first, second], close };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`${kind}: the version changes with the set's content only, and two processes agree on it`, async (t) => {
    const { stores: [a, b], close } = await twoStores(kind);
    t.after(close);
    assert.equal(await domainSetVersion(a.db, 'set-1'), 1);
    assert.equal(await domainSetVersion(b.db, 'set-1'), 1, 'the other process, the same set');
    assert.equal(await domainSetVersion(a.db, 'set-1'), 1, 'asked again: no change');
    assert.equal(await domainSetVersion(b.db, 'set-2'), 2);
    assert.equal(await domainSetVersion(a.db, 'set-2'), 2);
    // Both see the next set at once: one of them records it, both answer its number.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => domainSetVersion((i % 2 ? a : b).db, 'set-3')));
    assert.deepEqual(answers, Array(10).fill(3));
  });
}

test('a push that fails on one node does not change the version: its retries send the same one', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-domain-sync-'));
  const store = await createStore({ kind: 'sqlite', file: path.join(dir, 's.db'), synchronous: 'NORMAL' });
  const secret = 'domain-sync-test-secret-'.padEnd(40, 'x');
  const edge = await startBuiltinEdge({ name: 'up', secret, originAllow: OriginAllowList.parse('loopback') });
  // Nothing listens there: every push to it fails, and the sync retries the whole set.
  const dead = `http://127.0.0.1:${await freePort()}`;
  const node = (name: string, controlUrl: string): EdgeNode => ({ name, driver: 'builtin', trafficUrl: controlUrl, controlUrl, secret, labels: {} });
  const nodes = [node('up', edge.controlUrl), node('dead', dead)];
  const fleet = new EdgeFleet(nodes.map((n) => ({ node: n, driver: createDriver(n) })));
  const sync = new DomainSync(store.db, fleet, () => undefined);
  t.after(async () => {
    sync.stop();
    await fleet.close();
    await edge.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const now = Date.now();
  const sources = JSON.stringify([{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: 8080, https_port: 443 }]);
  await insertDomain(store.db, { id: 'd1', account_id: 'acct', name: 'www.sync.test', business_type: 'web', service_area: 'mainland_china', status: 'configuring', sources, status_detail: '', create_time: now, modify_time: now });

  const health = async () => {
    const res = await fetch(`${edge.controlUrl}/health`, { headers: { authorization: `Bearer ${secret}` } });
    return (await res.json()) as { domainsVersion: number | null; domainPushes: number };
  };
  await sync.settled();
  const first = await health();
  assert.equal(first.domainPushes, 1);
  // Retries after 100, 200, 400 and 800 ms: each pushes the set to every node again.
  await sleep(2_000);
  const later = await health();
  assert.ok(later.domainPushes >= 4, `the failed push was retried (${later.domainPushes} pushes)`);
  assert.equal(later.domainsVersion, first.domainsVersion, 'every retry sent the same version');
  const row = await store.db.selectFrom('meta').select('value').where('key', '=', 'domain_set').executeTakeFirstOrThrow();
  assert.equal(later.domainsVersion, Number(row.value.split(' ')[0]), 'the version is the store’s');
});
