// kill -9 of a server in the middle of a stream of task creates and domain changes: after a restart
// every task and domain in the store has its audit row, and every audit row of a change has its change
// (the row is written in the change's transaction, so they stand or fall together).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, kill, processScope, startCli } from '../support/processes.js';
import { storeFlags } from '../support/stores.js';
import { client } from '../support/signed-client.js';
import { startOrigin } from '../support/origin.js';
import { createStore } from '../../src/store/store.js';

const scope = processScope();
after(() => scope.end());

test('kill -9 during creates and domain changes leaves no change without its audit row, and no row without its change', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-audit-crash-'));
  scope.cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const store = await storeFlags();
  scope.cleanups.push(() => store.drop());
  const origin = await startOrigin();
  scope.cleanups.push(() => origin.close());
  const port = await freePort();
  const args = ['serve', '--data-dir', dataDir, '--port', String(port), '--builtin-edges', '1', '--edge-port', '0', '--edge-admin-port', '0', '--log-level', 'warn', '--origin-allow', 'loopback', ...Object.entries(store.flags).flatMap(([k, v]) => [`--${k}`, v])];
  let server = await startCli(args, /API listening/);
  scope.children.push(server);
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  const call = client(`http://127.0.0.1:${port}`, { accessKey: creds.access_key, secretKey: creds.secret_key });
  const source = { ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port };
  const base = await call('POST', '/v1.0/cdn/domains', { body: { domain: { domain_name: 'base.crash-audit.test', business_type: 'web', sources: [source] } } });
  assert.equal(base.status, 200, base.text);

  // Eight workers, each a loop of: a domain created, disabled, deleted (some), and refresh tasks.
  let answered = 0;
  let killed = false;
  const worker = async (w: number) => {
    for (let i = 0; !killed; i++) {
      try {
        const name = `w${w}-${i}.crash-audit.test`;
        const created = await call('POST', '/v1.0/cdn/domains', { body: { domain: { domain_name: name, business_type: 'web', sources: [source] } } });
        answered++;
        await call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls: [`http://base.crash-audit.test/${w}/${i}`] } } });
        answered++;
        if (created.status !== 200) continue;
        const id = created.json.domain.id;
        await call('PUT', `/v1.0/cdn/domains/${id}/disable`);
        answered++;
        if (i % 2 === 0) await call('DELETE', `/v1.0/cdn/domains/${id}`);
        answered++;
      } catch {
        return; // the server is gone
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  while (answered < 150) await new Promise((r) => setTimeout(r, 5));
  killed = true;
  await kill(server, 'SIGKILL');
  await Promise.all(workers);

  server = await startCli(args, /API listening/);
  scope.children.push(server);
  assert.equal((await call('GET', '/v1.0/cdn/domains')).status, 200);
  await kill(server, 'SIGTERM');

  const opened = await createStore(store.flags['database-url'] ? { kind: 'postgres', url: store.flags['database-url'], poolSize: 2 } : { kind: 'sqlite', file: path.join(dataDir, 'cachectl.db'), synchronous: 'NORMAL' });
  const db = opened.db;
  try {
    const audit = await db.selectFrom('audit_events').selectAll().where('status', '<', 400).orderBy('id').execute();
    const tasks = await db.selectFrom('tasks').select('id').execute();
    const domains = await db.selectFrom('domains').select(['name', 'status']).execute();
    assert.ok(tasks.length > 10 && audit.length > 30, `${tasks.length} tasks, ${audit.length} rows: the crash came too early to tell anything`);

    const taskRows = audit.filter((r) => r.resource.startsWith('task/'));
    assert.deepEqual(taskRows.map((r) => r.resource).sort(), tasks.map((t) => `task/${t.id}`).sort());
    assert.ok(taskRows.every((r) => r.action === 'cdn:configuration:refreshCache'));

    // Each domain's last recorded change says whether it exists, and in which state.
    const last = new Map<string, string>();
    for (const r of audit) if (r.resource.startsWith('domain/')) last.set(r.resource.slice('domain/'.length), r.action.split(':')[2]);
    const stored = new Map(domains.map((d) => [d.name, d.status]));
    for (const [name, action] of last) {
      if (action === 'deleteDomains') assert.ok(!stored.has(name), `${name} is deleted on the trail and still stored`);
      else assert.ok(stored.has(name), `${name}: ${action} on the trail, and not stored`);
      if (action === 'disableDomains') assert.equal(stored.get(name), 'offline', name);
      if (action === 'createDomains') assert.notEqual(stored.get(name), 'offline', name);
    }
    for (const name of stored.keys()) assert.ok(last.has(name), `${name} is stored without its create on the trail`);
    assert.ok([...last.values()].includes('deleteDomains') && [...last.values()].includes('disableDomains'));
  } finally {
    await opened.close();
  }
});
