// SDK-HMAC-SHA256 signing/verification (spec §13) and password hashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import {
  SDK_ALGORITHM,
  canonicalQueryFromRaw,
  canonicalRequest,
  canonicalUri,
  computeSignature,
  rfc3986,
  sha256Hex,
  signRequest,
  stringToSign,
  type SignableRequest,
} from '../../src/signing/sdk-signature.js';
import { formatSdkDate, parseSdkDate } from '../../src/signing/sdk-date.js';
import { parseAuthorization, verifySignature } from '../../src/api/auth/verify-signature.js';
import { hashPassword, newSecret, tokenDigest, verifyPassword } from '../../src/services/password-hash.js';

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Go SDK unit-test vectors (spec §13.5)
const GO_AK = 'AccessKey';
const GO_SK = 'SecretKey';
const GO_DATE = '20060102T150405Z';

// Our CDN-shaped vectors (spec §13.5)
const AK = 'HPUAEXAMPLEAK0000001';
const SK = 'exampleSecretKey0000000000000000000000000';
const DATE = '20250101T080000Z';
const DATE_MS = Date.UTC(2025, 0, 1, 8, 0, 0);
const DOMAIN_ID = '0123456789abcdef0123456789abcdef';

/** The request as the server receives it: lower-case header names, raw path and query split at '?'. */
function received(method: string, url: string, headers: Record<string, string>, body = ''): SignableRequest {
  const q = url.indexOf('?');
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    method,
    rawPath: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    headers: lower,
    bodySha256Hex: sha256Hex(Buffer.from(body, 'utf8')),
  };
}

function parsed(authorization: string) {
  const auth = parseAuthorization(authorization);
  assert.ok(auth, `parses: ${authorization}`);
  return auth;
}

// ----------------------------------------------------------------------------------------------------
// §13.5 vectors

test('Go vector: GET /path?limit=1, only x-sdk-date signed, empty body', () => {
  const req = received('GET', '/path?limit=1', { 'X-Sdk-Date': GO_DATE, TEST_UNDERSCORE: 'ignored' });
  assert.equal(req.bodySha256Hex, EMPTY);
  const text = canonicalRequest(req, ['x-sdk-date']);
  assert.equal(text, ['GET', '/path/', 'limit=1', `x-sdk-date:${GO_DATE}\n`, 'x-sdk-date', EMPTY].join('\n'));
  assert.equal(computeSignature(GO_SK, GO_DATE, text), '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624');
  const header = `${SDK_ALGORITHM} Access=${GO_AK}, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624`;
  assert.deepEqual(verifySignature(req, parsed(header), GO_SK, Date.UTC(2006, 0, 2, 15, 4, 5)), { ok: true });
  const signed = signRequest({ method: 'GET', path: '/path', query: [['limit', '1']], headers: {}, accessKey: GO_AK, secretKey: GO_SK, now: Date.UTC(2006, 0, 2, 15, 4, 5) });
  assert.deepEqual(signed, { 'X-Sdk-Date': GO_DATE, Authorization: header });
});

test('Go vector: POST /path?key=value with a body ending in a newline', () => {
  const body = '{"Name":"test","Id":1}\n';
  const req = received('POST', '/path?key=value', { 'X-Sdk-Date': GO_DATE, TEST_UNDERSCORE: 'ignored' }, body);
  const text = canonicalRequest(req, ['x-sdk-date']);
  assert.equal(computeSignature(GO_SK, GO_DATE, text), 'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59');
  const header = `${SDK_ALGORITHM} Access=${GO_AK}, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59`;
  assert.deepEqual(verifySignature(req, parsed(header), GO_SK, Date.UTC(2006, 0, 2, 15, 4, 5)), { ok: true });
  // Without the trailing newline the signature differs.
  const noNewline = received('POST', '/path?key=value', { 'X-Sdk-Date': GO_DATE }, body.trimEnd());
  assert.notEqual(computeSignature(GO_SK, GO_DATE, canonicalRequest(noNewline, ['x-sdk-date'])), 'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59');
  assert.deepEqual(verifySignature(noNewline, parsed(header), GO_SK, Date.UTC(2006, 0, 2, 15, 4, 5)), { ok: false, reason: 'bad_signature' });
});

test('Go vector: canonical query string', () => {
  const expected = 'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29';
  const test = '一 (&=?!#%.*)';
  // Go-style wire: url.Values.Encode() with '+' → '%20', keys sorted.
  const goWire = 'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29';
  assert.equal(canonicalQueryFromRaw(goWire), expected);
  // Node querystring-style wire: insertion order, !*'() unescaped, '+' for space, repeated values shuffled.
  const nodeWire = `limit=1&enable=true&test=${encodeURIComponent(test).replace(/%20/g, '+')}&path=${encodeURIComponent('/tmp/123')}&multi=3&multi=1&multi=2`;
  assert.equal(canonicalQueryFromRaw(nodeWire), expected);
  assert.equal(rfc3986(test), '%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29');
  assert.equal(rfc3986('AZaz09-_.~'), 'AZaz09-_.~');
  // The client side builds the same string from parameters.
  const params: Array<[string, string]> = [['limit', '1'], ['enable', 'true'], ['test', test], ['path', '/tmp/123'], ['multi', '2'], ['multi', '3'], ['multi', '1']];
  const headers = signRequest({ method: 'GET', path: '/p', query: params, headers: {}, accessKey: 'a', secretKey: 's', now: 0 });
  const req = received('GET', `/p?${expected}`, { 'x-sdk-date': headers['X-Sdk-Date'] });
  assert.equal(
    parsed(headers.Authorization).signature,
    computeSignature('s', headers['X-Sdk-Date'], ['GET', '/p/', expected, `x-sdk-date:${headers['X-Sdk-Date']}\n`, 'x-sdk-date', EMPTY].join('\n')),
  );
  assert.deepEqual(verifySignature(req, parsed(headers.Authorization), 's', 0), { ok: true });
});

test('CDN-shaped Go-style vector: exact canonical request lines and signature', () => {
  const body = '{"refresh_task":{"type":"file","urls":["https://www.example.com/a.png"]}}\n';
  const req = received(
    'POST',
    '/v1.0/cdn/content/refresh-tasks?enterprise_project_id=0',
    { 'User-Agent': 'huaweicloud-usdk-go/3.0', 'X-Domain-Id': DOMAIN_ID, 'X-Sdk-Date': DATE, 'Content-Type': 'application/json', Host: 'cdn.myhuaweicloud.com' },
    body,
  );
  const auth = parsed(`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=user-agent;x-domain-id;x-sdk-date, Signature=1e46a05dea10a016276f6f3f870a41772b90afd2c89553784775d45a1fe08dc9`);
  const text = canonicalRequest(req, auth.signedHeaders);
  assert.deepEqual(text.split('\n'), [
    'POST',
    '/v1.0/cdn/content/refresh-tasks/',
    'enterprise_project_id=0',
    'user-agent:huaweicloud-usdk-go/3.0',
    `x-domain-id:${DOMAIN_ID}`,
    `x-sdk-date:${DATE}`,
    '',
    'user-agent;x-domain-id;x-sdk-date',
    'bebcd45b420dcde2f8f1f8ba26e31c05f00c17a616d0736d5f9561c929bad5f2',
  ]);
  assert.equal(stringToSign(DATE, text), `SDK-HMAC-SHA256\n${DATE}\n${sha256Hex(text)}`);
  assert.equal(computeSignature(SK, DATE, text), '1e46a05dea10a016276f6f3f870a41772b90afd2c89553784775d45a1fe08dc9');
  assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: true });
});

test('Python-style GET vector (content-type, host, x-domain-id, x-sdk-date signed)', () => {
  const req = received('GET', '/v1.0/cdn/historytasks?page_size=10&page_number=1&status=task_done', {
    'Content-Type': 'application/json',
    Host: 'cdn.myhuaweicloud.com',
    'X-Domain-Id': DOMAIN_ID,
    'X-Sdk-Date': DATE,
    'User-Agent': 'huaweicloud-usdk-python/3.0',
  });
  const auth = parsed(`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=content-type;host;x-domain-id;x-sdk-date, Signature=301b110911280b2f5a203a0bb7f8a32aa87d7b317988865f16a69d6bcc2858c9`);
  assert.equal(computeSignature(SK, DATE, canonicalRequest(req, auth.signedHeaders)), '301b110911280b2f5a203a0bb7f8a32aa87d7b317988865f16a69d6bcc2858c9');
  assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: true });
  // Python sends the canonical query itself; the same request with the Node wire order verifies too.
  const reordered = { ...req, rawQuery: 'status=task_done&page_number=1&page_size=10' };
  assert.deepEqual(verifySignature(reordered, auth, SK, DATE_MS), { ok: true });
});

// ----------------------------------------------------------------------------------------------------
// Round trips

const NODE_HEADERS = { 'Content-Type': 'application/json', host: '127.0.0.1:8080', 'X-Domain-Id': DOMAIN_ID };

/** Signs Node-SDK style and returns what the server receives. */
function nodeStyle(opts: { method?: string; path?: string; query?: Array<[string, string]>; wireQuery?: string; body?: string; now?: number; signedHeaders?: string[]; headers?: Record<string, string> } = {}) {
  const method = opts.method ?? 'GET';
  const path = opts.path ?? '/v1.0/cdn/historytasks';
  const query = opts.query ?? [];
  const headers = opts.headers ?? NODE_HEADERS;
  const added = signRequest({ method, path, query, headers, body: opts.body, accessKey: AK, secretKey: SK, now: opts.now ?? DATE_MS, signedHeaders: opts.signedHeaders });
  const wire = opts.wireQuery ?? query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const req = received(method, wire ? `${path}?${wire}` : path, { ...headers, ...added, 'User-Agent': 'huaweicloud-usdk-nodejs/3.0', Accept: 'application/json' }, opts.body ?? '');
  return { req, auth: parsed(added.Authorization), added };
}

test('signRequest → verifySignature round trip, Node-style signed headers', () => {
  const { req, auth, added } = nodeStyle({ query: [['page_size', '10'], ['page_number', '1']] });
  assert.match(added.Authorization, /^SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, SignedHeaders=content-type;host;x-domain-id;x-sdk-date, Signature=[0-9a-f]{64}$/);
  assert.equal(added['X-Sdk-Date'], DATE);
  assert.deepEqual(auth.signedHeaders, ['content-type', 'host', 'x-domain-id', 'x-sdk-date']);
  assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: true });
  const post = nodeStyle({ method: 'POST', path: '/v1.0/cdn/content/refresh-tasks', body: JSON.stringify({ refresh_task: { urls: ['http://a.example.com/a'] } }) });
  assert.deepEqual(verifySignature(post.req, post.auth, SK, DATE_MS), { ok: true });
  assert.deepEqual(verifySignature(post.req, post.auth, SK + 'x', DATE_MS), { ok: false, reason: 'bad_signature' });
});

test('the official Node SDK signer (huaweicloud-sdk-core AKSKSigner) is accepted', () => {
  const body = { refresh_task: { type: 'file', urls: ['https://www.example.com/a b.png'] } };
  const queryParams = { enterprise_project_id: 'all', tags: ['b', 'a'] };
  const credential = { getAk: () => AK, getSk: () => SK } as unknown as Parameters<typeof AKSKSigner.sign>[1];
  const all = AKSKSigner.sign(
    { endpoint: 'http://127.0.0.1:8080/v1.0/cdn/content/refresh-tasks', method: 'POST', queryParams, headers: { 'Content-Type': 'application/json', 'X-Domain-Id': DOMAIN_ID }, data: body },
    credential,
  ) as Record<string, string>;
  assert.match(all.Authorization, /SignedHeaders=content-type;host;x-domain-id;x-sdk-date,/);
  // Wire query as Node's querystring writes it: insertion order, arrays as repeated keys.
  const req = received('POST', '/v1.0/cdn/content/refresh-tasks?enterprise_project_id=all&tags=b&tags=a', all, JSON.stringify(body));
  const now = parseSdkDate(all['X-Sdk-Date']);
  assert.ok(now !== null);
  assert.deepEqual(verifySignature(req, parsed(all.Authorization), SK, now), { ok: true });
  assert.deepEqual(verifySignature({ ...req, rawQuery: 'enterprise_project_id=all&tags=b' }, parsed(all.Authorization), SK, now), { ok: false, reason: 'bad_signature' });
});

test('the wire query is re-canonicalised: other order, + for space, bare key, malformed escapes', () => {
  const query: Array<[string, string]> = [['page_size', '10'], ['name', 'a b'], ['flag', ''], ['page_number', '1'], ['star', "*!'()"]];
  const ok = { ok: true };
  for (const wireQuery of [
    'page_size=10&name=a%20b&flag=&page_number=1&star=%2A%21%27%28%29',
    "star=*!'()&page_number=1&flag&name=a+b&page_size=10", // Node querystring / Go (bare key) / '+' for space
    'flag&&name=a+b&page_number=1&page_size=10&star=%2a%21%27%28%29&', // empty parts, lower-case hex
  ]) {
    const { req, auth } = nodeStyle({ query, wireQuery });
    assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), ok, wireQuery);
  }
  assert.equal(canonicalQueryFromRaw('b=2&a=1&a=0&c'), 'a=0&a=1&b=2&c=');
  assert.equal(canonicalQueryFromRaw('x=%zz&y=%4&z=100%'), 'x=%25zz&y=%254&z=100%25');
  assert.equal(canonicalQueryFromRaw('w=a%20b%zz%41'), 'w=a%20b%25zzA');
  assert.equal(canonicalQueryFromRaw('k=a=b'), 'k=a%3Db');
  assert.equal(canonicalQueryFromRaw(''), '');
  // Sorted by decoded key bytes: 'a b' (0x20) < 'a-b' (0x2d) < 'a:b' (0x3a) < 'a_b' (0x5f).
  assert.equal(canonicalQueryFromRaw('a_b=4&a%3Ab=3&a-b=2&a+b=1'), 'a%20b=1&a-b=2&a%3Ab=3&a_b=4');
});

test('canonical URI: trailing slash, per-segment decode and re-encode', () => {
  assert.equal(canonicalUri('/v1.0/cdn/historytasks'), '/v1.0/cdn/historytasks/');
  assert.equal(canonicalUri('/v1.0/cdn/historytasks/'), '/v1.0/cdn/historytasks/');
  assert.equal(canonicalUri(''), '/');
  assert.equal(canonicalUri('/'), '/');
  assert.equal(canonicalUri('/a%20b/c+d/%e4%b8%80/x%2Fy/100%'), '/a%20b/c%2Bd/%E4%B8%80/x%2Fy/100%25/');
  assert.equal(canonicalUri("/it's(1)"), '/it%27s%281%29/');
  const { req, auth } = nodeStyle({ path: '/v1.0/cdn/historytasks/a b' });
  assert.deepEqual(verifySignature({ ...req, rawPath: '/v1.0/cdn/historytasks/a%20b' }, auth, SK, DATE_MS), { ok: true });
});

test('X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD only without a body; any other value must be the body hash', () => {
  const unsigned = { ...NODE_HEADERS, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' };
  const get = nodeStyle({ method: 'GET', headers: unsigned });
  assert.deepEqual(verifySignature(get.req, get.auth, SK, DATE_MS), { ok: true });
  assert.ok(canonicalRequest(get.req, get.auth.signedHeaders, 'UNSIGNED-PAYLOAD').endsWith('\nUNSIGNED-PAYLOAD'));
  const post = nodeStyle({ method: 'POST', headers: unsigned, body: 'signed body' });
  assert.deepEqual(verifySignature(post.req, post.auth, SK, DATE_MS), { ok: false, reason: 'unsigned_body' });
  // A claimed hash is no stand-in for the body: the one received is hashed (issue 11.1).
  const claimed = { ...NODE_HEADERS, 'X-Sdk-Content-Sha256': sha256Hex('signed body') };
  const swap = nodeStyle({ method: 'POST', headers: claimed, body: 'signed body' });
  assert.deepEqual(verifySignature(swap.req, swap.auth, SK, DATE_MS), { ok: true });
  assert.deepEqual(verifySignature({ ...swap.req, bodySha256Hex: sha256Hex('other body') }, swap.auth, SK, DATE_MS), { ok: false, reason: 'hash_mismatch' });
});

test('header values: arrays joined with ",", trimmed; a signed header that is absent is "name:"', () => {
  const base = received('GET', '/p', { 'x-sdk-date': DATE, 'x-multi': '  a ' });
  assert.ok(canonicalRequest(base, ['x-multi', 'x-sdk-date']).includes('\nx-multi:a\nx-sdk-date:'));
  const arr: SignableRequest = { ...base, headers: { ...base.headers, 'x-multi': ['a', 'b'] } };
  assert.ok(canonicalRequest(arr, ['x-multi', 'x-sdk-date']).includes('\nx-multi:a,b\n'));
  assert.ok(canonicalRequest(base, ['x-absent', 'x-sdk-date']).includes('\nx-absent:\nx-sdk-date:'));
  // Signed with a value, received without it: refused.
  const { req, auth } = nodeStyle();
  const { 'x-domain-id': _dropped, ...rest } = req.headers;
  assert.deepEqual(verifySignature({ ...req, headers: rest }, auth, SK, DATE_MS), { ok: false, reason: 'bad_signature' });
});

// ----------------------------------------------------------------------------------------------------
// Refusals

test('tampering fails with bad_signature: body, query, a signed header, one signature char', () => {
  const { req, auth } = nodeStyle({
    method: 'POST',
    path: '/v1.0/cdn/content/refresh-tasks',
    query: [['page_size', '10'], ['page_number', '1']],
    body: '{"refresh_task":{"urls":["http://a.example.com/a"]}}',
  });
  assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: true });
  const bad = { ok: false, reason: 'bad_signature' };
  assert.deepEqual(verifySignature({ ...req, bodySha256Hex: sha256Hex('{"refresh_task":{"urls":["http://evil.example.com/"]}}') }, auth, SK, DATE_MS), bad);
  assert.deepEqual(verifySignature({ ...req, rawQuery: 'page_size=20&page_number=1' }, auth, SK, DATE_MS), bad);
  assert.deepEqual(verifySignature({ ...req, rawQuery: 'page_size=10' }, auth, SK, DATE_MS), bad);
  assert.deepEqual(verifySignature({ ...req, rawPath: '/v1.0/cdn/content/preheating-tasks' }, auth, SK, DATE_MS), bad);
  assert.deepEqual(verifySignature({ ...req, method: 'PUT' }, auth, SK, DATE_MS), bad);
  assert.deepEqual(verifySignature({ ...req, headers: { ...req.headers, 'x-domain-id': '00000000000000000000000000000000' } }, auth, SK, DATE_MS), bad);
  assert.deepEqual(verifySignature({ ...req, headers: { ...req.headers, host: 'evil.example.com' } }, auth, SK, DATE_MS), bad);
  // Unsigned headers may change.
  assert.deepEqual(verifySignature({ ...req, headers: { ...req.headers, 'user-agent': 'other' } }, auth, SK, DATE_MS), { ok: true });
  // One character of the signature changed, as the conformance suite does.
  const last = auth.signature.at(-1) === '0' ? '1' : '0';
  assert.deepEqual(verifySignature(req, { ...auth, signature: auth.signature.slice(0, -1) + last }, SK, DATE_MS), bad);
  // Dropping a name from SignedHeaders changes the canonical request too.
  assert.deepEqual(verifySignature(req, { ...auth, signedHeaders: auth.signedHeaders.filter((h) => h !== 'x-domain-id') }, SK, DATE_MS), bad);
});

test('clock skew: ±20 min refused, ±14 min accepted', () => {
  const minute = 60_000;
  for (const offset of [-20, 20, -16, 16]) {
    const { req, auth } = nodeStyle({ now: DATE_MS + offset * minute });
    assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: false, reason: 'clock_skew' }, `${offset} min`);
  }
  for (const offset of [-14, 14, 0]) {
    const { req, auth } = nodeStyle({ now: DATE_MS + offset * minute });
    assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: true }, `${offset} min`);
  }
  const { req, auth } = nodeStyle({ now: DATE_MS + 2 * minute });
  assert.deepEqual(verifySignature(req, auth, SK, DATE_MS, minute), { ok: false, reason: 'clock_skew' }, 'maxSkewMs is honoured');
});

test('a missing X-Sdk-Date is refused with missing_date', () => {
  const { req, auth } = nodeStyle();
  const { 'x-sdk-date': _date, ...rest } = req.headers;
  assert.deepEqual(verifySignature({ ...req, headers: rest }, auth, SK, DATE_MS), { ok: false, reason: 'missing_date' });
});

test('an X-Sdk-Date not named in SignedHeaders is refused with date_not_signed', () => {
  const { req, auth } = nodeStyle({ signedHeaders: ['content-type', 'host', 'x-domain-id'] });
  assert.equal(auth.signedHeaders.includes('x-sdk-date'), false);
  assert.ok(req.headers['x-sdk-date'], 'the date header is still sent');
  assert.deepEqual(verifySignature(req, auth, SK, DATE_MS), { ok: false, reason: 'date_not_signed' });
});

test('an unparsable X-Sdk-Date or signature is malformed', () => {
  const { req, auth } = nodeStyle();
  assert.deepEqual(verifySignature({ ...req, headers: { ...req.headers, 'x-sdk-date': '2025-01-01T08:00:00Z' } }, auth, SK, DATE_MS), { ok: false, reason: 'malformed' });
  assert.deepEqual(verifySignature(req, { ...auth, signature: auth.signature.slice(1) }, SK, DATE_MS), { ok: false, reason: 'malformed' });
  assert.deepEqual(verifySignature(req, { ...auth, signature: auth.signature.slice(1) + 'g' }, SK, DATE_MS), { ok: false, reason: 'malformed' });
});

test('parseAuthorization: well-formed variants and malformed headers', () => {
  const sig = 'a'.repeat(64);
  const want = { accessKey: 'AK', signedHeaders: ['host', 'x-sdk-date'], signature: sig };
  assert.deepEqual(parseAuthorization(`SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=${sig}`), want);
  assert.deepEqual(parseAuthorization(`SDK-HMAC-SHA256 Access=AK,SignedHeaders=host;x-sdk-date,Signature=${sig}`), want);
  assert.deepEqual(parseAuthorization(`SDK-HMAC-SHA256  Access=AK,  SignedHeaders=host;x-sdk-date,\tSignature=${sig} `), want);
  assert.deepEqual(parseAuthorization(`SDK-HMAC-SHA256 Access=AK, SignedHeaders=Host;X-Sdk-Date, Signature=${sig}`), want);
  for (const bad of [
    '',
    'SDK-HMAC-SHA256',
    `SDK-HMAC-SHA256Access=AK, SignedHeaders=host;x-sdk-date, Signature=${sig}`,
    `SDK-HMAC-SM3 Access=AK, SignedHeaders=host;x-sdk-date, Signature=${sig}`,
    `Bearer ${sig}`,
    `SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature=${sig}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature=${sig}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;;x-sdk-date, Signature=${sig}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;, Signature=${sig}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=${sig.slice(1)}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=${sig}0`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=${'A'.repeat(64)}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=${sig}, Extra=1`,
    `SDK-HMAC-SHA256 SignedHeaders=host;x-sdk-date, Access=AK, Signature=${sig}`,
    `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date`,
  ]) {
    assert.equal(parseAuthorization(bad), null, JSON.stringify(bad));
  }
});

test('parseSdkDate / formatSdkDate', () => {
  assert.equal(parseSdkDate('20250101T080000Z'), DATE_MS);
  assert.equal(parseSdkDate('20060102T150405Z'), Date.UTC(2006, 0, 2, 15, 4, 5));
  assert.equal(parseSdkDate('20240229T235959Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
  assert.equal(formatSdkDate(DATE_MS), DATE);
  assert.equal(formatSdkDate(Date.UTC(2006, 0, 2, 15, 4, 5, 999)), '20060102T150405Z');
  for (const bad of ['', '20250101T080000', '20250101 080000Z', '2025-01-01T08:00:00Z', '202X0101T080000Z', '20251301T080000Z', '20250230T080000Z', '20250101T240000Z', '20250101T086000Z', '20250101T080060Z', '20250101T080000z', '20250101T080000ZZ']) {
    assert.equal(parseSdkDate(bad), null, bad);
  }
});

// ----------------------------------------------------------------------------------------------------
// Passwords and secrets

test('hashPassword / verifyPassword: round trip, wrong password, malformed stored values', async () => {
  const stored = await hashPassword('correct horse battery staple');
  assert.match(stored, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
  assert.equal(await verifyPassword('correct horse battery staple', stored), true);
  assert.equal(await verifyPassword('correct horse battery stapl', stored), false);
  assert.equal(await verifyPassword('', stored), false);
  const again = await hashPassword('correct horse battery staple');
  assert.notEqual(again, stored, 'a fresh salt each time');
  assert.equal(await verifyPassword('correct horse battery staple', again), true);
  const parts = stored.split('$');
  const flipped = Buffer.from(parts[5], 'base64');
  flipped[0] ^= 1;
  for (const bad of [
    '',
    'plain',
    stored.replace(/^scrypt/, 'bcrypt'),
    [...parts.slice(0, 5), flipped.toString('base64')].join('$'),
    ['scrypt', '16383', ...parts.slice(2)].join('$'),
    ['scrypt', String(1 << 30), ...parts.slice(2)].join('$'),
    ['scrypt', '16384', '8', '1', parts[4]].join('$'),
    [...parts.slice(0, 5), '!!!'].join('$'),
    stored + '$x',
  ]) {
    assert.equal(await verifyPassword('correct horse battery staple', bad), false, bad);
  }
  const unicode = await hashPassword('pässwörd 一');
  assert.equal(await verifyPassword('pässwörd 一', unicode), true);
  assert.equal(await verifyPassword('passwörd 一', unicode), false);
});

test('newSecret and tokenDigest', () => {
  const a = newSecret(30);
  assert.match(a, /^[A-Za-z0-9_-]{40}$/);
  assert.notEqual(newSecret(30), a);
  assert.equal(Buffer.from(newSecret(17), 'base64url').length, 17);
  assert.throws(() => newSecret(0), RangeError);
  assert.equal(tokenDigest(''), EMPTY);
  assert.equal(tokenDigest('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
