// AgentDriver against a real ATS and its agent: exact purges go straight to ATS once the agent has
// named the endpoint (they keep working with the agent gone), everything else needs the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentDriver } from '../../src/edge/agent/driver.js';
import { engineMissing, startLocalNode } from '../../src/edge/local-engines.js';
import { stopPid } from '../../src/edge/local-process.js';

test('exact purges skip the agent once it named the engine endpoint; other operations need it', async (t) => {
  const missing = await engineMissing('ats');
  if (missing) {
    if (process.env.CACHECTL_REQUIRE_ENGINES === '1') assert.fail(missing);
    t.skip(missing);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-agent-driver-'));
  fs.chmodSync(dir, 0o755);
  const node = await startLocalNode('ats', dir, 'n1');
  const driver = new AgentDriver(node.controlUrl, node.secret, 2000);
  try {
    // ATS answers a purge for a host without a remap rule with a 404 that is not "not cached".
    await driver.applyDomains([{ name: 'a.test', sources: [{ address: '127.0.0.1', type: 'ipaddr', primary: true, httpPort: 9, httpsPort: 443 }] }], 1);
    const target = [{ host: 'a.test', path: '/x' }];
    assert.deepEqual(await driver.purge(target), [{ ok: true, detail: 'purged 0' }], 'through the agent');
    const h = await driver.health();
    assert.equal(h.up, true);
    assert.match(h.directPurge!.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await stopPid(node.pids[1]); // the agent
    assert.deepEqual(await driver.purge(target), [{ ok: true, detail: 'purged 0' }], 'straight to ATS');
    await assert.rejects(driver.purgeDirectory([{ host: 'a.test', path: '/d/' }]), 'a directory purge needs the agent');
    assert.equal((await driver.health()).up, false);
  } finally {
    await driver.close();
    await node.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
