// A client address as the per-client counters (body shares, login throttle) key it: as one client holds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceKey } from '../../src/services/source-key.js';

test('IPv4 stands alone, IPv4-mapped IPv6 counts as its IPv4 address, IPv6 is grouped by its /64', () => {
  assert.equal(sourceKey('203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('::FFFF:127.0.0.1'), '127.0.0.1');
  // Every address of one /64 is one client, however it is written.
  const group = sourceKey('2001:db8:1:2::1');
  assert.equal(group, '2001:db8:1:2::/64');
  for (const a of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::a:b%eth0', '2001:db8:1:2::1.2.3.4']) assert.equal(sourceKey(a), group, a);
  assert.notEqual(sourceKey('2001:db8:1:3::1'), group);
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('fe80::1'), 'fe80:0:0:0::/64');
  assert.equal(sourceKey(undefined), '?');
});
