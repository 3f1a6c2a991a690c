// Origins for engines that resolve names themselves (Varnish, nginx, ATS) are resolved by the control
// plane, checked, and written as addresses. `localhost` is a real name the system resolver answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import { pinOrigins } from '../../src/engine/origin-pinning.js';
import type { DomainConfig } from '../../src/edge/edge-driver.js';

const src = (address: string, primary = true) => ({ address, type: (/^[\d.:]+$/.test(address) ? 'ipaddr' : 'domain') as 'ipaddr' | 'domain', primary, httpPort: 8080, httpsPort: 443 });

test('a name is replaced by its allowed addresses; refused ones and their domains are left out', async () => {
  const domains: DomainConfig[] = [
    { name: 'named.test', sources: [src('localhost')] },
    { name: 'mixed.test', sources: [src('169.254.169.254'), src('203.0.113.5', false)] },
    { name: 'meta.test', sources: [src('metadata.google.internal')] },
    { name: 'nowhere.test', sources: [src('no-such-host.invalid')] },
  ];
  const loop = await pinOrigins(domains, OriginAllowList.parse('loopback,public'));
  assert.deepEqual(
    loop.domains.map((d) => [d.name, d.sources.map((s) => [s.address, s.type, s.primary, s.httpPort])]),
    [
      ['named.test', [['127.0.0.1', 'ipaddr', true, 8080]]],
      ['mixed.test', [['203.0.113.5', 'ipaddr', false, 8080]]],
    ],
  );
  assert.equal(loop.refused.length, 5, loop.refused.join('\n'));

  const pub = await pinOrigins(domains, OriginAllowList.parse('public'));
  assert.deepEqual(
    pub.domains.map((d) => d.name),
    ['mixed.test'],
    'localhost resolves to loopback, which is not allowed: the domain is not served by engines',
  );
  assert.ok(pub.refused.some((r) => /named\.test: .*localhost.*loopback/.test(r)), pub.refused.join('\n'));
});

test('a name that fails to resolve for a moment keeps its last good addresses, re-checked; names gone are forgotten', async () => {
  const domains: DomainConfig[] = [{ name: 'blip.test', sources: [src('origin.blip.test')] }];
  const answers: Array<string[] | undefined> = [['203.0.113.7'], undefined, ['169.254.169.254'], undefined];
  const resolve = async () => answers.shift();
  const lastGood = new Map<string, string[]>();
  const allow = OriginAllowList.parse('public');
  const first = await pinOrigins(domains, allow, { lastGood, resolve });
  assert.deepEqual(first.domains[0]?.sources.map((s) => s.address), ['203.0.113.7']);
  const blip = await pinOrigins(domains, allow, { lastGood, resolve });
  assert.deepEqual(blip.domains[0]?.sources.map((s) => s.address), ['203.0.113.7'], 'the domain stays on the engine nodes through a DNS blip');
  // A new answer replaces the old one and is checked like any other: refused, the domain is left out.
  const rebound = await pinOrigins(domains, allow, { lastGood, resolve });
  assert.deepEqual(rebound.domains, []);
  const after = await pinOrigins(domains, allow, { lastGood, resolve });
  assert.deepEqual(after.domains, [], 'the refused address remembered is still refused');
  await pinOrigins([], allow, { lastGood, resolve });
  assert.equal(lastGood.size, 0);
});
