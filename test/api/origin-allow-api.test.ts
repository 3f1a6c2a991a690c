// Domain create and --origin-allow: which origins a tenant may give, and the codes for the rest. One server
// with the multi-tenant default (public only), one with loopback added as `npm start` does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/test-server.js';

let strict: TestServer;
let local: TestServer;

before(async () => {
  strict = await startTestServer({ 'origin-allow': 'public', 'builtin-edges': '0' });
  local = await startTestServer({ 'origin-allow': 'loopback,public', 'builtin-edges': '0' });
});
after(async () => {
  await Promise.all([strict?.close(), local?.close()]);
});

let n = 0;
const create = (ts: TestServer, ip_or_domain: string, origin_type: string) =>
  ts.call('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: `o${++n}.origins.test`, business_type: 'web', sources: [{ ip_or_domain, origin_type, active_standby: 1, http_port: 8080 }] } },
  });

async function refused(ts: TestServer, address: string, type: string, code: string): Promise<void> {
  const res = await create(ts, address, type);
  assert.equal(res.status, 400, `${type} ${address}: ${res.text}`);
  assert.equal(res.json?.error?.error_code ?? res.json?.error_code, code, `${type} ${address}: ${res.text}`);
}

test('link-local, metadata, unspecified, multicast and broadcast IPs are refused with CDN.0121, whatever the list', async () => {
  for (const ts of [strict, local]) {
    for (const ip of ['169.254.169.254', 'fe80::1', '0.0.0.0', '::', '::ffff:169.254.169.254', '100.100.100.200', 'fd00:ec2::254', '224.0.0.1', '255.255.255.255']) {
      await refused(ts, ip, 'ipaddr', 'CDN.0121');
    }
  }
  const list = await local.call('GET', '/v1.0/cdn/domains');
  assert.equal(list.json.total, 0, 'nothing was created');
});

test('metadata names and IPv4 addresses disguised as names are refused with CDN.0103', async () => {
  for (const ts of [strict, local]) {
    for (const name of ['metadata.google.internal', 'instance-data.ec2.internal', '169.254.43518', '0251.0376.0251.0376', '169.254.169.254']) {
      await refused(ts, name, 'domain', 'CDN.0103');
    }
  }
});

test('nonsense origins are refused with CDN.0103', async () => {
  for (const [address, type] of [
    [':::::', 'ipaddr'],
    ['ffff', 'ipaddr'],
    ['2852039166', 'ipaddr'],
    ['0xa9fea9fe', 'ipaddr'],
    ['origin.example.com', 'ipaddr'],
    ['fe80::1%eth0', 'ipaddr'],
    ['1.2.3', 'ipaddr'],
    ['not a host', 'domain'],
    ['*.example.com', 'domain'],
    ['-bad.example.com', 'domain'],
    ['2852039166', 'domain'],
    ['0xa9fea9fe', 'domain'],
  ]) {
    await refused(local, address, type, 'CDN.0103');
  }
});

test('loopback is refused unless configured; private addresses follow the list; public ones pass', async () => {
  await refused(strict, '127.0.0.1', 'ipaddr', 'CDN.0121');
  await refused(strict, '::1', 'ipaddr', 'CDN.0121');
  await refused(strict, '::ffff:127.0.0.1', 'ipaddr', 'CDN.0121');
  await refused(strict, '10.1.2.3', 'ipaddr', 'CDN.0121');
  await refused(local, '192.168.1.10', 'ipaddr', 'CDN.0121');
  for (const ip of ['127.0.0.1', '::1']) {
    const res = await create(local, ip, 'ipaddr');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.domain.sources[0].ip_or_domain, ip);
  }
  // Public addresses, and names that do not resolve (yet: the edges check on connect), pass everywhere.
  for (const [address, type] of [
    ['203.0.113.7', 'ipaddr'],
    ['2001:db8::7', 'ipaddr'],
    ['origin.invalid-tld-for-tests.test', 'domain'],
  ]) {
    const res = await create(strict, address, type);
    assert.equal(res.status, 200, `${type} ${address}: ${res.text}`);
  }
});
