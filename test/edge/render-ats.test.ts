// ATS's rendered remap/parent rules and the regex_revalidate rules file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderAts } from '../../src/edge/ats/render-ats.js';
import { directoryRegex, formatRules, mergeRules, parseRules } from '../../src/edge/ats/revalidate-rules.js';

const src = (address: string, httpPort: number, primary = true) => ({ address, type: 'ipaddr' as const, primary, httpPort, httpsPort: 443 });

test('each domain remaps to itself; origins are parents, standbys secondary; exact names before wildcards', () => {
  const { remap, parent } = renderAts([{ name: '*.b.test', sources: [src('10.0.0.3', 80)] }, { name: 'www.a.test', sources: [src('10.0.0.1', 80), src('10.0.0.2', 81, false)] }], 4, 5555);
  const maps = remap.split('\n').filter((l) => /^(regex_)?map /.test(l));
  assert.deepEqual(maps, ['map http://cachectl-v4.invalid/ http://cachectl-v4.invalid/', 'map http://www.a.test/ http://www.a.test/', 'regex_map http://(.+)\\.b\\.test/ http://$1.b.test/']);
  assert.match(parent, /^dest_host=cachectl-v4\.invalid parent="127\.0\.0\.1:5555\|1\.0"/m);
  assert.match(parent, /^dest_host=www\.a\.test parent="10\.0\.0\.1:80\|1\.0" secondary_parent="10\.0\.0\.2:81\|1\.0" secondary_mode=2 round_robin=false go_direct=false parent_is_proxy=false$/m);
  assert.match(parent, /^dest_domain=b\.test parent="10\.0\.0\.3:80\|1\.0"/m);
  assert.throws(() => renderAts([{ name: 'a.test @plugin=x.so', sources: [src('10.0.0.1', 80)] }], 1, 1), /invalid domain name/);
  assert.throws(() => renderAts([{ name: 'a.test', sources: [src('10.0.0.1"', 80)] }], 1, 1), /invalid origin/);
});

test('directory rules: escaped per host, merged by regex and type, expired ones dropped', () => {
  assert.equal(directoryRegex('WWW.A.test', '/d.x/(1)/'), '^http://www\\.a\\.test/d\\.x/\\(1\\)/');
  assert.throws(() => directoryRegex('a.test', '/a b/'), /whitespace/);
  const now = 1000;
  const current = parseRules('^http://a/x/ 900 MISS\n^http://a/y/ 2000 STALE\ngarbage\n');
  const merged = mergeRules(current, [{ regex: '^http://a/y/', expiry: 5000, type: 'STALE' }, { regex: '^http://a/y/', expiry: 5000, type: 'MISS' }], now);
  assert.equal(formatRules(merged), '^http://a/y/ 5000 STALE\n^http://a/y/ 5000 MISS\n');
});
