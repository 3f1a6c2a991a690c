// Section 7: memory under stalled uploads (issue 11.3). A server with default settings gets 100
// connections that each announce an 8 MiB body, send all but its last byte and stall: (a) without
// credentials, (b) naming an unknown access key, (c) naming the server's real access key with a
// well-formed signature that cannot be checked until the body is complete (the worst case: the key is
// known, so the headers pass). The server's VmRSS is sampled while the connections hold, then they
// close. 127.0.0.1 only; each case is bounded by HOLD_MS.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { formatSdkDate } from '../src/signing/sdk-date.js';
import { info, row, type Row } from './report.js';
import { readProcMemory } from './rss.js';
import { startServerChild } from './server-process.js';

const CONNECTIONS = 100;
const ANNOUNCED = 8 * 1024 * 1024;
const HOLD_MS = 6_000;

export interface StalledCase {
  name: string;
  baselineMb: number;
  peakRssMb: number;
  /** Answers by status ("none": no answer while the connection held). */
  answers: Record<string, number>;
}

export interface StalledUploadsResult {
  cases: StalledCase[];
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** The status of the first response on a socket, or null. */
function firstStatus(socket: net.Socket): Promise<number | null> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(null));
  });
}

async function stall(pid: number, port: number, name: string, extraHeaders: string): Promise<StalledCase> {
  const body = Buffer.alloc(ANNOUNCED - 1, 0x20);
  const baselineMb = mb(readProcMemory(pid)?.vmRssKb ?? 0);
  let peakKb = 0;
  const sample = () => (peakKb = Math.max(peakKb, readProcMemory(pid)?.vmRssKb ?? 0));
  const timer = setInterval(sample, 100);
  const sockets: net.Socket[] = [];
  const statuses: Array<Promise<number | null>> = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = net.connect(port, '127.0.0.1');
      sockets.push(socket);
      statuses.push(Promise.race([firstStatus(socket), new Promise<null>((r) => setTimeout(() => r(null), HOLD_MS).unref())]));
      socket.write(`POST /v1.0/cdn/content/refresh-tasks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n${extraHeaders}Content-Length: ${ANNOUNCED}\r\n\r\n`);
      socket.write(body);
    }
    await new Promise((r) => setTimeout(r, HOLD_MS));
    sample();
    const answers: Record<string, number> = {};
    for (const s of await Promise.all(statuses)) answers[s ?? 'none'] = (answers[s ?? 'none'] ?? 0) + 1;
    return { name, baselineMb, peakRssMb: mb(peakKb), answers };
  } finally {
    clearInterval(timer);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function runStalledUploadsSection(log: (line: string) => void): Promise<StalledUploadsResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bench-stall-'));
  const server = await startServerChild({ dataDir: path.join(tmp, 'data'), edges: 0 });
  try {
    const port = Number(new URL(server.api).port);
    const signed = (ak: string) =>
      `X-Sdk-Date: ${formatSdkDate(Date.now())}\r\nAuthorization: SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=content-type;host;x-sdk-date, Signature=${'0'.repeat(64)}\r\n`;
    const cases: StalledCase[] = [];
    for (const [name, headers] of [
      ['no credentials', ''],
      ['unknown access key', signed('BENCHUNKNOWNKEY0000001')],
      ['real access key, signature pending', signed(server.credentials.access_key)],
    ] as const) {
      log(`7. stalled uploads: ${CONNECTIONS} x ${ANNOUNCED - 1} of ${ANNOUNCED} bytes, ${name}`);
      const c = await stall(server.pid, port, name, headers);
      log(`   RSS ${c.baselineMb} → peak ${c.peakRssMb} MB; answers ${JSON.stringify(c.answers)}`);
      cases.push(c);
    }
    return { cases };
  } finally {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function stalledUploadRows(result: StalledUploadsResult): Row[] {
  return result.cases.flatMap((c) => [
    row('7. stalled uploads', `peak RSS, 100 x 8 MiB: ${c.name}`, c.peakRssMb, 'MB', { op: '<=', limit: 300 }, 1),
    info('7. stalled uploads', `  answers (${c.name})`, Object.entries(c.answers).map(([s, n]) => `${n} x ${s}`).join(', ')),
  ]);
}
