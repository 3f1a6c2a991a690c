// Attack (issue 11.3): 100 connections each announce an 8 MiB body, send all of it but the last byte,
// and stall. The body was read before authentication, so anyone could make the server buffer 800 MB.
// Now an anonymous or unknown-key request is answered 401 from its headers and its body is discarded;
// a request naming a real key reserves its length from a bounded body budget or is refused 429.
// The server runs as its own process, so that its resident memory can be read from /proc.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { formatSdkDate } from '../../src/signing/sdk-date.js';
import { freePort, kill, startCli } from '../support/processes.js';
import { connect, readAnswer, type RawAnswer } from '../support/raw-http.js';

const AK = 'STALLTESTAK00000000001';
const SK = 'stall-test-secret-key-0000000000000000001';
const ANNOUNCED = 8 * 1024 * 1024;
const SENT = Buffer.alloc(ANNOUNCED - 1, 0x20);
const CONNECTIONS = 100;
const MB = 1024 * 1024;

let child: ChildProcess;
let port: number;
let dataDir: string;
before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-stall-'));
  port = await freePort();
  // A 16 MiB body budget: two full bodies at once, whoever sends them; a 3 s body timeout cuts those.
  // One address and one key may hold all of it here, so that the whole budget's bound is what is
  // measured (by default each holds only a share: body-shares.test.ts).
  child = await startCli(['serve', '--data-dir', dataDir, '--port', String(port), '--builtin-edges', '0', '--sqlite-sync', 'NORMAL', '--log-level', 'warn'], /cachectl API listening on/, {
    CACHECTL_BOOTSTRAP_AK: AK,
    CACHECTL_BOOTSTRAP_SK: SK,
    CACHECTL_BODY_BUDGET: String(16 * MB),
    CACHECTL_BODY_BUDGET_PER_ADDRESS: String(16 * MB),
    CACHECTL_BODY_BUDGET_PER_KEY: String(16 * MB),
    CACHECTL_BODY_TIMEOUT_MS: '3000',
    CACHECTL_HEADER_TIMEOUT_MS: '3000',
  });
});
after(async () => {
  if (child) await kill(child);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function rssBytes(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/**
 * Opens the connections, sends each one's headers and all but the last body byte, and stalls; returns
 * each connection's answer (null: none before it closed or 15 s passed) and the highest server RSS
 * sampled meanwhile, over the RSS before.
 */
async function stalledUploads(headers: (i: number) => string): Promise<{ answers: Array<RawAnswer | null>; growthMb: number }> {
  const baseline = rssBytes();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes())), 100);
  const sockets: net.Socket[] = [];
  try {
    const answers = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, i) => {
        const socket = await connect(port);
        sockets.push(socket);
        const answer = readAnswer(socket);
        socket.write(`POST /v1.0/cdn/content/refresh-tasks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n${headers(i)}Content-Length: ${ANNOUNCED}\r\n\r\n`);
        socket.write(SENT);
        return answer;
      }),
    );
    // The stalled state itself, a moment longer.
    await new Promise((r) => setTimeout(r, 1000));
    peak = Math.max(peak, rssBytes());
    return { answers, growthMb: (peak - baseline) / MB };
  } finally {
    clearInterval(sampler);
    for (const s of sockets) s.destroy();
  }
}

test('100 stalled 8 MiB uploads without credentials or with an unknown key: all refused 401 from the headers, memory stays flat', async (t) => {
  const { answers, growthMb } = await stalledUploads((i) =>
    i % 2 === 0 ? '' : `X-Sdk-Date: ${formatSdkDate(Date.now())}\r\nAuthorization: SDK-HMAC-SHA256 Access=UNKNOWNKEY${i}, SignedHeaders=content-type;host;x-sdk-date, Signature=${'0'.repeat(64)}\r\n`,
  );
  t.diagnostic(`server RSS growth ${growthMb.toFixed(1)} MB`);
  const statuses = answers.map((a) => a?.status ?? 'none');
  assert.deepEqual(statuses, Array(CONNECTIONS).fill(401), `answers: ${statuses.join(',')}`);
  for (const a of answers) assert.equal(a!.json?.error_code, 'APIGW.0301');
  assert.ok(growthMb < 100, `server RSS grew by ${growthMb.toFixed(0)} MB (100 bodies would be 800)`);
});

test('100 stalled 8 MiB uploads naming a real key (signature not yet checkable): beyond the body budget refused 429, the rest cut 408, memory bounded', async (t) => {
  const { answers, growthMb } = await stalledUploads(
    () => `X-Sdk-Date: ${formatSdkDate(Date.now())}\r\nAuthorization: SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=content-type;host;x-sdk-date, Signature=${'0'.repeat(64)}\r\n`,
  );
  t.diagnostic(`server RSS growth ${growthMb.toFixed(1)} MB`);
  const statuses = answers.map((a) => a?.status ?? 'none');
  const throttled = answers.filter((a) => a?.status === 429);
  assert.ok(throttled.length >= CONNECTIONS - 2, `only the budget's two bodies are read; got ${statuses.join(',')}`);
  for (const a of throttled) assert.equal(a!.json?.error_code, 'APIGW.0308');
  for (const a of answers.filter((x) => x?.status !== 429)) assert.equal(a?.status, 408, `a body read but never finished is cut at the body timeout; got ${statuses.join(',')}`);
  assert.ok(growthMb < 100, `server RSS grew by ${growthMb.toFixed(0)} MB (100 bodies would be 800)`);
});

test('the server still answers once the connections are gone', async () => {
  const socket = await connect(port);
  const answer = readAnswer(socket);
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await answer)?.status, 200);
  socket.destroy();
});
