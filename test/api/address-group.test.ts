// The body budget's per-address share groups client addresses the way one client holds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressGroup } from '../../src/api/body-budget.js';

test('IPv4 stands alone, IPv4-mapped IPv6 counts as its IPv4 address, IPv6 is grouped by its /64', () => {
  assert.equal(addressGroup('203.0.113.7'), '203.0.113.7');
  assert.equal(addressGroup('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(addressGroup('::FFFF:127.0.0.1'), '127.0.0.1');
  // Every address of one /64 is one client, however it is written.
  const group = addressGroup('2001:db8:1:2::1');
  assert.equal(group, '2001:db8:1:2::/64');
  for (const a of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::a:b%eth0', '2001:db8:1:2::1.2.3.4']) assert.equal(addressGroup(a), group, a);
  assert.notEqual(addressGroup('2001:db8:1:3::1'), group);
  assert.equal(addressGroup('::1'), '0:0:0:0::/64');
  assert.equal(addressGroup('fe80::1'), 'fe80:0:0:0::/64');
  assert.equal(addressGroup(undefined), '?');
});
