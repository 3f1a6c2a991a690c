// Refresh and prefetch URLs that name no key a client can request (invalid UTF-8, lone surrogates,
// port 0) are refused with CDN.0001 and create nothing. Real server, real SQLite file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import type { ApiResponse } from '../support/signed-client.js';

let s: TestServer;
let origin: TestOrigin;
const host = 'www.url-check.test';

before(async () => {
  s = await startTestServer({ 'builtin-edges': '1' });
  origin = await startOrigin();
  await addDomain(s.call, host, origin.port);
});
after(async () => {
  await s?.close();
  await origin?.close();
});

function assertBadParameter(res: ApiResponse, what: string): void {
  assert.equal(res.status, 400, `${what}: ${res.text}`);
  assert.equal(res.json.error_code, 'CDN.0001', `${what}: ${res.text}`);
  assert.equal(res.json.error.error_code, 'CDN.0001', `${what}: ${res.text}`);
}

/** A refresh (or prefetch) body with the URL's bytes spliced in raw, as a client may send them. */
function rawBody(kind: 'refresh' | 'preheating', urlBytes: Buffer, zh = false): Buffer {
  const field = kind === 'refresh' ? 'refresh_task' : 'preheating_task';
  const [head, tail] = JSON.stringify({ [field]: { urls: ['@URL@'], ...(zh && { zh_url_encode: true }) } }).split('@URL@');
  return Buffer.concat([Buffer.from(head), urlBytes, Buffer.from(tail)]);
}

const path = (kind: 'refresh' | 'preheating') => (kind === 'refresh' ? '/v1.0/cdn/content/refresh-tasks' : '/v1.0/cdn/content/preheating-tasks');

const historyTotal = async () => (await s.call('GET', '/v1.0/cdn/historytasks', { query: [['page_size', '100'], ['page_number', '1']] })).json.total;

test('invalid UTF-8, lone surrogates and port 0 are refused with CDN.0001, and nothing is created', async () => {
  const invalid: Array<[string, Buffer]> = [
    ['a raw 0xFF byte', Buffer.concat([Buffer.from(`http://${host}/a`), Buffer.from([0xff]), Buffer.from('b')])],
    ['a truncated two-byte sequence', Buffer.concat([Buffer.from(`http://${host}/`), Buffer.from([0xc3])])],
    ['an encoded surrogate (CESU-8)', Buffer.concat([Buffer.from(`http://${host}/`), Buffer.from([0xed, 0xa0, 0x80])])],
    ['a JSON lone high surrogate', Buffer.from(`http://${host}/x\\ud800`)],
    ['a JSON lone low surrogate', Buffer.from(`http://${host}/\\udc00y`)],
    ['port 0', Buffer.from(`http://${host}:0/x`)],
    ['port 00000', Buffer.from(`https://${host}:00000/x`)],
  ];
  for (const kind of ['refresh', 'preheating'] as const) {
    for (const zh of [false, true]) {
      for (const [what, bytes] of invalid) {
        assertBadParameter(await s.call('POST', path(kind), { body: rawBody(kind, bytes, zh) }), `${kind}, zh_url_encode ${zh}, ${what}`);
      }
    }
  }
  // The same URLs as directories.
  assertBadParameter(await s.call('POST', path('refresh'), { body: { refresh_task: { type: 'directory', urls: [`http://${host}:0/dir/`] } } }), 'directory, port 0');
  assertBadParameter(await s.call('POST', path('refresh'), { body: { refresh_task: { type: 'directory', urls: [`http://${host}/\ud800/`] } } }), 'directory, lone surrogate');
  // One bad URL among good ones refuses the whole task.
  assertBadParameter(await s.call('POST', path('refresh'), { body: { refresh_task: { urls: [`http://${host}/ok`, `http://${host}:0/x`] } } }), 'mixed');
  assert.equal(await historyTotal(), 0, 'no task was created');

  // What stays accepted: a real port, a valid pair of surrogates, non-ASCII with zh_url_encode, percent-escapes as sent.
  const fine = await s.call('POST', path('refresh'), {
    body: { refresh_task: { urls: [`http://${host}:8080/a`, `http://${host}/😀`, `http://${host}/中文`, `http://${host}/%FF%C4%E3`], zh_url_encode: true } },
  });
  assert.equal(fine.status, 200, fine.text);
  assert.equal(await historyTotal(), 1);
});

test('invalid UTF-8 is refused as such before the body is read as JSON; a genuine U+FFFD in a URL is a character like any other', async () => {
  const before = await historyTotal();
  const bad = await s.call('POST', path('refresh'), { body: rawBody('refresh', Buffer.concat([Buffer.from(`http://${host}/a`), Buffer.from([0xff])])) });
  assertBadParameter(bad, 'a raw 0xFF byte');
  assert.match(bad.json.error_msg, /request body is not valid UTF-8/);
  const lone = await s.call('POST', path('refresh'), { body: rawBody('refresh', Buffer.from(`http://${host}/x\\ud800`)) });
  assertBadParameter(lone, 'a JSON lone surrogate');
  assert.match(lone.json.error_msg, /lone surrogate/);
  assert.equal(await historyTotal(), before, 'nothing was created');

  // U+FFFD sent as its UTF-8 bytes and as a JSON escape: accepted, and zh_url_encode encodes it.
  for (const bytes of [Buffer.concat([Buffer.from(`http://${host}/r`), Buffer.from([0xef, 0xbf, 0xbd])]), Buffer.from(`http://${host}/r\\ufffd`)]) {
    const res = await s.call('POST', path('refresh'), { body: rawBody('refresh', bytes, true) });
    assert.equal(res.status, 200, res.text);
  }
  const plain = await s.call('POST', path('preheating'), { body: { preheating_task: { urls: [`http://${host}/p\ufffd`] } } });
  assert.equal(plain.status, 200, plain.text);
  assert.equal(await historyTotal(), before + 3);
});
