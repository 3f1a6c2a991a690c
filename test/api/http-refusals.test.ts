// Refusals below the routes (issue 11.8): Node's parser and Fastify's router answer in the gateway shape
// with X-Request-Id like every other error; and (issue 11.3) a request trickled past the configured time
// is answered 408 and its connection closed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closed, connect, exchange, readAnswer, type RawAnswer } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let ts: TestServer;
let port: number;
before(async () => {
  ts = await startTestServer({ 'builtin-edges': '0', 'body-timeout-ms': '1000', 'header-timeout-ms': '1000' });
  port = Number(new URL(ts.server.url).port);
});
after(async () => ts?.close());

function assertGateway(answer: RawAnswer | null, status: number): void {
  assert.ok(answer, 'an HTTP answer before the connection closed');
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.match(answer.headers['x-request-id'] ?? '', /^[0-9a-f]{32}$/);
  assert.equal(answer.json?.error_code, 'APIGW.0201', answer.body);
  assert.equal(typeof answer.json.error_msg, 'string');
  assert.ok(answer.json.error_msg.length > 0);
  assert.equal(answer.json.request_id, answer.headers['x-request-id']);
}

const tokenPost = 'POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

test('headers over the size limit: 431 in the gateway shape', async () => {
  assertGateway(await exchange(port, `GET /v1.0/cdn/quota HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431);
});

test('a bad percent-escape in the path: 400 in the gateway shape', async () => {
  assertGateway(await exchange(port, 'GET /v1.0/cdn/historytasks/%zz/detail HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
});

test('Content-Length together with Transfer-Encoding: 400 in the gateway shape', async () => {
  assertGateway(await exchange(port, `${tokenPost}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`), 400);
});

test('a bad chunk size: 400 in the gateway shape', async () => {
  assertGateway(await exchange(port, `${tokenPost}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`), 400);
});

/** Sends `head`, then a chunk every 200 ms: the server must answer 408 in the gateway shape and close. */
async function trickleUntil408(head: string, chunk: (n: number) => string): Promise<void> {
  const socket = await connect(port);
  const answer = readAnswer(socket);
  socket.write(head);
  let n = 0;
  const trickle = setInterval(() => socket.writable && socket.write(chunk(n++)), 200);
  try {
    assertGateway(await answer, 408);
    await closed(socket);
  } finally {
    clearInterval(trickle);
    socket.destroy();
  }
}

test('a body trickled past --body-timeout-ms: 408 in the gateway shape, then the connection is closed', async () => {
  await trickleUntil408(`${tokenPost}Content-Length: 200\r\n\r\n{`, () => ' ');
});

test('headers trickled past --header-timeout-ms: 408 in the gateway shape, then the connection is closed', async () => {
  await trickleUntil408('GET /healthz HTTP/1.1\r\nHost: x\r\n', (n) => `X-${n}: y\r\n`);
});

test('the IAM login (no credentials) takes small bodies: 20 KB announced is refused 413 before it is read', async () => {
  const answer = await exchange(port, `${tokenPost}Content-Length: 20000\r\n\r\n{"auth":`);
  assert.equal(answer?.status, 413, answer?.body);
  assert.equal(answer.json.error_code, 'APIGW.0201');
  assert.equal(answer.json.request_id, answer.headers['x-request-id']);
});

test('bodies in flight share one budget: beyond it new bodies are refused 429 before they are read', async () => {
  // A 64 KiB budget: four stalled 16,000-byte login bodies fill it, the fifth is refused.
  const small = await startTestServer({ 'builtin-edges': '0', 'body-limit': '65536', 'body-budget': '65536' });
  const smallPort = Number(new URL(small.server.url).port);
  const sockets = [];
  try {
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const socket = await connect(smallPort);
      sockets.push(socket);
      const answer = readAnswer(socket, i < 4 ? 500 : 15_000);
      socket.write(`${tokenPost}Content-Length: 16000\r\n\r\n{"auth":`);
      answers.push(await answer);
    }
    assert.deepEqual(answers.slice(0, 4), [null, null, null, null], 'the first four are being read');
    assert.equal(answers[4]?.status, 429, answers[4]?.body);
    assert.equal(answers[4].json.error_code, 'APIGW.0308');
    // A connection that goes gives its share back.
    sockets[0].destroy();
    await closed(sockets[0]);
    await new Promise((r) => setTimeout(r, 100));
    const res = await exchange(smallPort, `${tokenPost}Content-Length: 2\r\n\r\n{}`);
    assert.equal(res?.status, 400, res?.body);
  } finally {
    for (const s of sockets) s.destroy();
    await small.close();
  }
});
