// Single store: SQLite only (backup and restore copy the embedded store).
// `cachectl backup` of a real serve process taking a stream of creates, `cachectl restore` of that copy
// into a new data directory, and a serve started on it: every task acknowledged before the backup
// began is there, the restored keys sign, and the whole conformance suite passes against it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOrigin } from '../support/origin.js';
import { client, historyTaskIds } from '../support/signed-client.js';
import { addDomain } from '../support/test-server.js';
import { addSecondAccount, readCredentials, requireSuite, runSuite, startServe, suiteSkip, tail, type ServeProcess } from '../support/conformance-run.js';
import { createLoad } from '../support/create-load.js';
import { runCli } from '../cli/run-cli.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-conf-backup-'));
const serves: ServeProcess[] = [];
after(async () => {
  for (const s of serves) await s.stop('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

test('a backup taken under load restores to a server that passes conformance', { skip: suiteSkip(), timeout: 600_000 }, async () => {
  requireSuite();
  const origin = await startOrigin();
  try {
    const first = await startServe({ dataDir: path.join(work, 'first') });
    serves.push(first);
    const creds = readCredentials(first.dataDir);
    const call = client(first.api, { accessKey: creds.access_key, secretKey: creds.secret_key });
    // Made before the backup: its keys must sign on the restored server.
    const other = await addSecondAccount(call);
    await addDomain(call, 'load.backup.test', origin.port);

    const load = createLoad(call, 'load.backup.test', { preheatEvery: 4 });
    const acked = load.acked;
    try {
      await load.reach(100);
      const before = [...acked];
      const file = path.join(work, 'copy.db');
      const backup = await runCli(['backup', file, '--data-dir', first.dataDir]);
      assert.equal(backup.code, 0, backup.stderr);
      assert.ok(acked.length > before.length, 'creates went on while the backup ran');
      await load.stop();
      assert.equal(await first.stop(), 0, tail(first.output()));

      const target = path.join(work, 'restored');
      const restored = await runCli(['restore', file, '--data-dir', target]);
      assert.equal(restored.code, 0, restored.stderr);
      const second = await startServe({ dataDir: target });
      serves.push(second);
      assert.equal(fs.existsSync(path.join(target, 'credentials.json')), false, 'no first start on a restored store: no new admin account');
      const all = await historyTaskIds(client(second.api, { accessKey: creds.access_key, secretKey: creds.secret_key }));
      for (const id of before) assert.ok(all.has(id), `task ${id}, acknowledged before the backup, is restored`);
      for (const id of all) assert.ok(acked.includes(id), `task ${id} was created`);

      const suite = await runSuite(second, creds, other);
      assert.equal(suite.code, 0, `the conformance suite failed on the restored server:\n${tail(suite.output)}`);
      assert.match(suite.output, /^# fail 0$/m);
      assert.equal(await second.stop(), 0, tail(second.output()));
    } finally {
      await load.stop().catch(() => undefined);
    }
  } finally {
    await origin.close();
  }
});
