// The rendered nginx include: what data may reach it, and the shape cachectl relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVersionAnswer, renderNginx, stampOf } from '../../src/edge/nginx/render-nginx.js';

const listen = { traffic: '127.0.0.1:8081', control: '127.0.0.1:9081' };
const src = (address: string, httpPort: number, primary = true) => ({ address, type: 'ipaddr' as const, primary, httpPort, httpsPort: 443 });

test('primaries then backup standbys; wildcards as nginx server names; the version is served', () => {
  const text = renderNginx([{ name: 'WWW.A.test', sources: [src('10.0.0.2', 81, false), src('10.0.0.1', 80)] }, { name: '*.b.test', sources: [src('::1', 8080)] }], 7, listen);
  assert.match(text, /upstream cachectl_d0 \{\n {8}server 10\.0\.0\.1:80 [^;\n]*;\n {8}server 10\.0\.0\.2:81 [^;\n]* backup;/);
  assert.match(text, /server_name www\.a\.test;/);
  assert.match(text, /server_name \*\.b\.test;/);
  assert.match(text, /server \[::1\]:8080 /);
  assert.match(text, /return 200 "7 [0-9a-f]{16}";/);
  // Another set under the same version number answers another stamp: the agent can tell the reload took.
  const other = renderNginx([{ name: 'www.c.test', sources: [src('10.0.0.3', 80)] }], 7, listen);
  assert.notEqual(stampOf(other), stampOf(text));
  assert.deepEqual(parseVersionAnswer(/return 200 "([^"]+)"/.exec(text)![1]), { version: 7, stamp: stampOf(text) });
  assert.match(text, /listen 127\.0\.0\.1:8081 default_server;/);
});

test('data that could break out of the config is refused', () => {
  const bad: Array<[string, ReturnType<typeof src>]> = [
    ['a.test; include /etc/passwd', src('10.0.0.1', 80)],
    ['a.test', src('10.0.0.1;', 80)],
    ['a.test', src('10.0.0.1', 70000)],
    ['a..test', src('10.0.0.1', 80)],
  ];
  for (const [name, s] of bad) assert.throws(() => renderNginx([{ name, sources: [s] }], 1, listen), /renderNginx: invalid/, `${name} ${s.address}:${s.httpPort}`);
  assert.throws(() => renderNginx([], 1, { ...listen, traffic: '0.0.0.0:80; x' }), /invalid listen/);
});
