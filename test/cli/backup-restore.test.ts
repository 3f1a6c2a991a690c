// cachectl backup while a server takes a stream of creates, and cachectl restore of that copy into a
// new data directory: a fresh server starts on it and serves every task acknowledged before the backup
// began. restore refuses a data directory a server is serving, and a file that is not a cachectl database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServerConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { client, historyTaskIds } from '../support/signed-client.js';
import { startOrigin } from '../support/origin.js';
import { addDomain, startTestServer } from '../support/test-server.js';
import { createLoad } from '../support/create-load.js';
import { runCli } from './run-cli.js';

test('a backup taken under load restores to a data dir a fresh server serves', async () => {
  const origin = await startOrigin();
  const s = await startTestServer();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-backup-'));
  try {
    await addDomain(s.call, 'backup.test', origin.port);
    const load = createLoad(s.call, 'backup.test');
    const acked = load.acked;
    await load.reach(50);
    const before = [...acked];
    const file = path.join(work, 'copy.db');
    const backup = await runCli(['backup', file, '--data-dir', s.dataDir]);
    const during = acked.length;
    await load.stop();
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(during > before.length, 'creates went on while the backup ran');
    assert.equal(fs.statSync(file).mode & 0o077, 0, 'the copy is the owner\'s only');

    // Not while a server serves the directory; not a file that is no cachectl database.
    const refused = await runCli(['restore', file, '--data-dir', s.dataDir]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`a server \\(pid ${process.pid}\\) is serving`));
    const junk = path.join(work, 'junk.db');
    fs.writeFileSync(junk, 'not a database at all, just text long enough');
    const target = path.join(work, 'restored');
    const notDb = await runCli(['restore', junk, '--data-dir', target]);
    assert.equal(notDb.code, 2);
    assert.match(notDb.stderr, /not an SQLite database/);
    assert.equal(fs.existsSync(path.join(target, 'cachectl.db')), false);

    const restored = await runCli(['restore', file, '--data-dir', target]);
    assert.equal(restored.code, 0, restored.stderr);
    const config = loadServerConfig({ 'data-dir': target, port: '0', 'edge-port': '0', 'edge-admin-port': '0', 'sqlite-sync': 'NORMAL', 'log-level': 'warn', 'origin-allow': 'loopback,public' }, {});
    const fresh = await startServer(config);
    try {
      assert.equal(fresh.bootstrap, undefined, 'the restored accounts are there: no new bootstrap');
      const b = s.server.bootstrap!;
      const call = client(fresh.url, { accessKey: b.accessKey, secretKey: b.secretKey });
      const all = await historyTaskIds(call);
      for (const id of before) assert.ok(all.has(id), `task ${id}, acknowledged before the backup, is restored`);
      for (const id of all) assert.ok(acked.includes(id), `task ${id} was created`);
      const detail = await call('GET', `/v1.0/cdn/historytasks/${before[0]}/detail`);
      assert.equal(detail.status, 200, detail.text);
      assert.equal(detail.json.urls?.length ?? detail.json.total, 1);
    } finally {
      await fresh.close();
    }
    assert.equal(fs.existsSync(path.join(target, 'server.pid')), false, 'the mark goes with the server');
  } finally {
    await s.close();
    await origin.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
