// nginx resolves origin names itself, so the control plane pins them: it resolves each name at push time,
// checks the addresses against --origin-allow and writes addresses, never the name. `localhost` (a real
// name the system resolver answers with 127.0.0.1) stands for a name that resolves to a refused address.
// The domain row goes straight into the store: the API already refuses such a name at create, and what
// is checked here is what the push does with a name that resolves elsewhere by then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { engineMissing, startLocalNode, type LocalNode } from '../../src/edge/local-engines.js';
import { insertDomain } from '../../src/store/repositories/domain-repository.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';

const HOST = 'www.pinned.test';

function serversConf(dir: string): string {
  const found = (fs.readdirSync(dir, { recursive: true }) as string[]).find((f) => f.endsWith(path.join('cachectl', 'servers.conf')));
  assert.ok(found, 'servers.conf');
  return fs.readFileSync(path.join(dir, found), 'utf8');
}

async function withServer(node: LocalNode, originPort: number, allow: string, body: (ts: TestServer) => Promise<void>): Promise<void> {
  const ts = await startTestServer({ 'builtin-edges': '0', 'origin-allow': allow });
  try {
    const added = await ts.call('POST', '/cachectl/v1/nodes', {
      body: { name: node.name, driver: node.driver, traffic_url: node.trafficUrl, control_url: node.controlUrl, secret: node.secret },
    });
    assert.equal(added.status, 200, added.text);
    const now = Date.now();
    await insertDomain(ts.server.store.db, {
      id: crypto.randomBytes(16).toString('hex'),
      account_id: ts.accountId,
      name: HOST,
      business_type: 'web',
      service_area: 'mainland_china',
      status: 'configuring',
      sources: JSON.stringify([{ ip_or_domain: 'localhost', origin_type: 'domain', active_standby: 1, http_port: originPort, https_port: 443 }]),
      status_detail: '',
      create_time: now,
      modify_time: now,
    });
    await ts.server.domainSync.settled();
    await body(ts);
  } finally {
    await ts.close();
  }
}

test('nginx gets checked addresses for origin names, and nothing for a name that resolves to a refused address', async (t) => {
  const missing = await engineMissing('nginx');
  if (missing) {
    if (process.env.CACHECTL_REQUIRE_ENGINES === '1') assert.fail(`nginx: ${missing}`);
    t.skip(`nginx: ${missing}`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-pinning-'));
  let origin: TestOrigin | undefined;
  let node: LocalNode | undefined;
  try {
    origin = await startOrigin();
    origin.put('/p');
    node = await startLocalNode('nginx', dir, 'nginx-1');
    const get = async () => {
      const res = await request(`${node!.trafficUrl}/p`, { headers: { host: HOST } });
      await res.body.dump();
      return res.statusCode;
    };

    await withServer(node, origin.port, 'public', async () => {
      const conf = serversConf(dir);
      assert.doesNotMatch(conf, /localhost/, 'the name never reaches nginx');
      assert.doesNotMatch(conf, new RegExp(HOST.replace(/\./g, '\\.')), 'a domain without an allowed origin is not served');
      assert.notEqual(await get(), 200);
      assert.equal(origin!.hits('/p').full, 0, 'the origin was never asked');
    });

    await withServer(node, origin.port, 'loopback', async () => {
      const conf = serversConf(dir);
      assert.doesNotMatch(conf, /localhost/);
      assert.match(conf, new RegExp(`server 127\\.0\\.0\\.1:${origin!.port}`), 'pinned to the checked address');
      assert.equal(await get(), 200);
    });
  } finally {
    await node?.stop().catch(() => undefined);
    await origin?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
