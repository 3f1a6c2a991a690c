// Attack: one signed request replayed with another body (issue 11.1). X-Sdk-Content-Sha256 once stood in
// for the body's hash, so the admin's signed "mint a key for acme" could be re-sent as "mint a key for
// admin" within the 15-minute window.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { sha256Hex, signRequest } from '../../src/signing/sdk-signature.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let ts: TestServer;
before(async () => {
  ts = await startTestServer();
  const created = await ts.call('POST', '/cachectl/v1/accounts', { body: { name: 'acme' } });
  assert.equal(created.status, 200, created.text);
});
after(async () => ts?.close());

/** Sends `body` under the headers signed for `signedBody`, optionally claiming a content hash. */
async function send(signedBody: string, body: string, extra: Record<string, string> = {}) {
  const b = ts.server.bootstrap!;
  const host = new URL(ts.server.url).host;
  const headers: Record<string, string> = { 'content-type': 'application/json', host, ...extra };
  Object.assign(headers, signRequest({ method: 'POST', path: '/cachectl/v1/keys', headers, body: signedBody, accessKey: b.accessKey, secretKey: b.secretKey }));
  const res = await request(new URL('/cachectl/v1/keys', ts.server.url), { method: 'POST', headers, body });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}

const adminKeys = async () => (await ts.call('GET', '/cachectl/v1/keys', { query: [['account', 'admin']] })).json.keys.length as number;

test('a signed body cannot be swapped by claiming its hash in X-Sdk-Content-Sha256', async () => {
  const original = JSON.stringify({ account: 'acme' });
  const swapped = JSON.stringify({ account: 'admin' });
  const before = await adminKeys();
  // The header is signed with the original's hash, so the signature matches; the body does not.
  const res = await send(original, swapped, { 'X-Sdk-Content-Sha256': sha256Hex(original) });
  assert.equal(res.status, 401);
  assert.equal(res.json.error_code, 'APIGW.0301');
  assert.match(res.json.error_msg, /not the hash of the body/);
  // Not signed as a header either: the attacker adds it after the fact.
  const unsignedHeader = await send(original, swapped);
  assert.equal(unsignedHeader.status, 401);
  assert.equal(await adminKeys(), before, 'no admin key was minted');
});

test('UNSIGNED-PAYLOAD is refused for a request with a body, and the honest request still works', async () => {
  const body = JSON.stringify({ account: 'acme' });
  const unsigned = await send(body, body, { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' });
  assert.equal(unsigned.status, 401);
  assert.match(unsigned.json.error_msg, /UNSIGNED-PAYLOAD/);
  // The true hash in the header is fine (it is what the body hashes to).
  const truthful = await send(body, body, { 'X-Sdk-Content-Sha256': sha256Hex(body) });
  assert.equal(truthful.status, 200, JSON.stringify(truthful.json));
  // At most 2 keys per user: acme's user has its first and this one.
  assert.equal((await ts.call('DELETE', `/cachectl/v1/keys/${truthful.json.access_key}`)).status, 200);
  const plain = await send(body, body);
  assert.equal(plain.status, 200, JSON.stringify(plain.json));
});

test('UNSIGNED-PAYLOAD on a request without a body is accepted, as the SDKs may send it', async () => {
  const b = ts.server.bootstrap!;
  const host = new URL(ts.server.url).host;
  const headers: Record<string, string> = { host, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' };
  Object.assign(headers, signRequest({ method: 'GET', path: '/v1.0/cdn/quota', headers, accessKey: b.accessKey, secretKey: b.secretKey }));
  const res = await request(new URL('/v1.0/cdn/quota', ts.server.url), { headers });
  assert.equal(res.statusCode, 200, await res.body.text());
});
