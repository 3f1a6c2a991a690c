// The --origin-allow matcher: address classes, CIDRs, names, and the address forms that hide a refused
// address (IPv4-mapped and NAT64 IPv6, inet_aton's decimal, hex and octal IPv4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OriginAllowList, classifyAddress, parseLooseIpv4 } from '../../src/edge/origin-allow.js';

test('every address is denied, loopback, private or public', () => {
  const cases: Array<[string, string]> = [
    ['169.254.169.254', 'denied'],
    ['169.254.0.1', 'denied'],
    ['0.0.0.0', 'denied'],
    ['0.1.2.3', 'denied'],
    ['100.100.100.200', 'denied'],
    ['224.0.0.251', 'denied'],
    ['255.255.255.255', 'denied'],
    ['::', 'denied'],
    ['fe80::1', 'denied'],
    ['febf:ffff::1', 'denied'],
    ['ff02::1', 'denied'],
    ['fd00:ec2::254', 'denied'],
    ['::ffff:169.254.169.254', 'denied'],
    ['::ffff:a9fe:a9fe', 'denied'],
    ['64:ff9b::169.254.169.254', 'denied'],
    ['2002:a9fe:a9fe::1', 'denied'], // 6to4 of 169.254.169.254
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'denied'], // Teredo, client 169.254.169.254 (inverted)
    ['2002:7f00:1::', 'loopback'],
    ['2002:a00:1::5', 'private'],
    ['2002:cb00:7105::1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ];
  for (const [address, cls] of cases) assert.equal(classifyAddress(address), cls, address);
  for (const nonsense of [':::::', 'ffff', '2852039166', '0xa9fea9fe', '1.2.3', 'example.com', '']) assert.equal(classifyAddress(nonsense), undefined, nonsense);
});

test('IPv4 in the forms inet_aton takes: decimal, hex, octal, short', () => {
  for (const form of ['2852039166', '0xa9fea9fe', '0XA9FEA9FE', '0251.0376.0251.0376', '169.254.43518', '169.16689662', '0xa9.0xfe.0xa9.0xfe']) {
    assert.equal(parseLooseIpv4(form), '169.254.169.254', form);
  }
  assert.equal(parseLooseIpv4('127.1'), '127.0.0.1');
  for (const not of ['example.com', '1.2.3.4.5', '256.1.1.1', '4294967296', '08.1.1.1', '0xg1', '']) assert.equal(parseLooseIpv4(not), undefined, not);
});

test('the default (public) refuses loopback, private and denied addresses', () => {
  const allow = OriginAllowList.parse('public');
  assert.equal(allow.refusesAddress('203.0.113.9'), undefined);
  for (const a of ['127.0.0.1', '::1', '10.0.0.1', 'fd00::1', '169.254.169.254', '::ffff:169.254.169.254', '0.0.0.0']) assert.ok(allow.refusesAddress(a), a);
  assert.match(allow.refusesAddress('not-an-ip')!, /not an IP address/);
});

test('classes, CIDRs and single addresses allow; nothing allows a denied address', () => {
  const allow = OriginAllowList.parse(' loopback , 10.1.0.0/16, 2001:db8:1::/48, 192.0.2.7 ');
  assert.equal(allow.spec, 'loopback,10.1.0.0/16,2001:db8:1::/48,192.0.2.7');
  for (const a of ['127.0.0.1', '::1', '10.1.200.3', '::ffff:10.1.0.9', '2001:db8:1:2::3', '192.0.2.7']) assert.equal(allow.refusesAddress(a), undefined, a);
  for (const a of ['10.2.0.1', '2001:db8:2::1', '192.0.2.8', '8.8.8.8']) assert.ok(allow.refusesAddress(a), a);
  const wide = OriginAllowList.parse('public,private,loopback,169.254.0.0/16,0.0.0.0/0,::/0');
  for (const a of ['169.254.169.254', 'fe80::1', '0.0.0.0', '::', '::ffff:169.254.169.254', '224.0.0.1']) assert.match(wide.refusesAddress(a)!, /link-local, metadata/, a);
});

test('names: metadata names are refused, disguised IPs are checked as IPs, listed names are trusted but never for denied addresses', () => {
  const allow = OriginAllowList.parse('public,origin.corp.example,*.svc.example');
  for (const n of ['metadata.google.internal', 'METADATA.google.internal.', 'metadata', 'instance-data']) assert.match(allow.refusesName(n)!, /metadata/, n);
  for (const n of ['2852039166', '0xa9fea9fe', '169.254.43518']) assert.match(allow.refusesName(n)!, /169\.254\.169\.254/, n);
  assert.match(allow.refusesName('localhost')!, /loopback/);
  assert.match(allow.refusesName('db.localhost')!, /loopback/);
  assert.equal(allow.refusesName('www.example.com'), undefined);
  // Resolved addresses: the name's own, unless the operator listed the name.
  assert.match(allow.refusesResolved('www.example.com', '10.0.0.5')!, /www\.example\.com resolves to 10\.0\.0\.5/);
  assert.equal(allow.refusesResolved('origin.corp.example', '10.0.0.5'), undefined);
  assert.equal(allow.refusesResolved('a.b.svc.example', '192.168.0.5'), undefined);
  assert.ok(allow.refusesResolved('svc.example', '192.168.0.5'), 'the wildcard does not cover its own base name');
  assert.match(allow.refusesResolved('origin.corp.example', '169.254.169.254')!, /link-local/);
  assert.match(allow.refusesResolved('origin.corp.example', '::ffff:169.254.169.254')!, /link-local/);
});

test('bad lists are refused with the entry named', () => {
  for (const [spec, message] of [
    ['', /empty/],
    [' , ', /empty/],
    ['publik', /not loopback, private, public/],
    ['10.0.0.0/33', /at most 32/],
    ['::/129', /at most 128/],
    ['metadata.google.internal', /metadata/],
    ['*.com.', /not loopback/],
    ['2852039166', /not loopback/],
    ['foo_bar.example', /not loopback/],
  ] as const) {
    assert.throws(() => OriginAllowList.parse(spec), (err: Error) => message.test(err.message), spec);
  }
});
