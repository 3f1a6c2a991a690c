// Bodies are JSON (issue 11.8): a compressed body or one in another media type is refused with 415
// APIGW.0201 from its headers and creates nothing; what the official SDKs send is accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { exchange } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ 'builtin-edges': '0' });
});
after(async () => ts?.close());

const accountNames = async () => (await ts.call('GET', '/cachectl/v1/accounts')).json.accounts.map((a: any) => a.name) as string[];

async function refused(headers: Record<string, string>, body: string | Buffer, name: string, pattern: RegExp) {
  const res = await ts.call('POST', '/cachectl/v1/accounts', { headers, body });
  assert.equal(res.status, 415, res.text);
  assert.equal(res.json.error_code, 'APIGW.0201');
  assert.match(res.json.error_msg, pattern);
  assert.equal(res.json.request_id, res.headers['x-request-id']);
  assert.ok(!(await accountNames()).includes(name), `${name} was not created`);
}

test('a body in another media type is refused, though its text is JSON', async () => {
  await refused({ 'content-type': 'text/plain' }, JSON.stringify({ name: 'plain-text' }), 'plain-text', /Content-Type 'text\/plain'/);
  await refused({ 'content-type': 'application/x-www-form-urlencoded' }, JSON.stringify({ name: 'form' }), 'form', /application\/json/);
  await refused({ 'content-type': 'application/json; charset=utf-16' }, JSON.stringify({ name: 'utf16' }), 'utf16', /charset/);
});

test('a compressed body is refused: Content-Encoding other than identity', async () => {
  await refused({ 'content-encoding': 'gzip' }, zlib.gzipSync(JSON.stringify({ name: 'zipped' })), 'zipped', /Content-Encoding 'gzip'/);
  await refused({ 'content-encoding': 'gzip' }, JSON.stringify({ name: 'claims-gzip' }), 'claims-gzip', /Content-Encoding/);
});

test('a body without Content-Type is refused; a request without a body needs none', async () => {
  const bare = await exchange(Number(new URL(ts.server.url).port), 'POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
  assert.equal(bare?.status, 415, bare?.body);
  assert.equal(bare.json.error_code, 'APIGW.0201');
  const health = await exchange(Number(new URL(ts.server.url).port), 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(health?.status, 200, health?.body);
});

test('what the SDKs send is accepted: application/json with a UTF-8 charset in any spelling, identity encoding', async () => {
  const spellings: Array<Record<string, string>> = [
    { 'content-type': 'application/json;charset=UTF-8' },
    { 'content-type': 'application/json;charset=utf8' },
    { 'content-type': 'Application/JSON; charset="utf-8"' },
    { 'content-type': 'application/json', 'content-encoding': 'identity' },
  ];
  for (const [i, headers] of spellings.entries()) {
    const res = await ts.call('POST', '/cachectl/v1/accounts', { headers, body: { name: `sdk-${i}` } });
    assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.text}`);
  }
});
