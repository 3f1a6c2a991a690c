// Section 10: what the log costs a signed create call (issue 15: a request line and a task's accepted
// and done lines at info). Two servers side by side, each with one built-in edge and SQLite
// synchronous=NORMAL (as section 8: a flush per call would bury a small difference): one at --log-level
// warn (no line for these calls), one at info in JSON (three lines a call: request, task accepted, task
// done), its stdout a pipe read by this process as a journal would read it. The same 1-URL refresh
// create goes to each, one call at a time, alternately. Beside it, the logger alone in this process:
// microseconds per request line written to a stream that drops it. `node dist/bench/logging-main.js`
// runs it alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logging/logger.js';
import { SignedClient } from './client.js';
import { addOnlineDomain } from './domain.js';
import { info, row, type Row } from './report.js';
import { startServerChild, type ServerChild } from './server-process.js';
import type { Summary } from './stats.js';
import { comparePaired, pairedConfig, type PairedConfig } from './paired-calls.js';

const DOMAIN = 'bench-logs.example.com';

export type LoggingConfig = PairedConfig;

export function loggingConfig(quick: boolean): LoggingConfig {
  return pairedConfig('BENCH_LOG_CALLS', quick);
}

export interface LoggingResult {
  quiet: Summary;
  logged: Summary;
  addedP50Ms: number;
  pairedP50Ms: number;
  /** Microseconds to format and write one request line, in this process. */
  lineUs: number;
  errors: number;
}

/** One request line as the API writes it, to a stream that drops it: the logger's own cost. */
function lineUs(): number {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const logger = createLogger({ level: 'info', destination: sink }).child({ request_id: '0123456789abcdef0123456789abcdef' });
  const fields = { method: 'POST', route: '/v1.0/cdn/content/refresh-tasks', status: 200, ms: 1.23, ip: '127.0.0.1', account: 'acme', user: 'ci', access_key: 'ABCDEFGHIJKLMNOPQRST' };
  const rounds = 100_000;
  for (let i = 0; i < 10_000; i++) logger.info(fields, 'request');
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) logger.info(fields, 'request');
  return Math.round((Number(process.hrtime.bigint() - start) / 1e3 / rounds) * 100) / 100;
}

async function prepared(tmp: string, name: string, level: string): Promise<{ server: ServerChild; client: SignedClient }> {
  const server = await startServerChild({ dataDir: path.join(tmp, name), edges: 1, extraArgs: ['--sqlite-sync', 'NORMAL', '--log-level', level] });
  const creds = server.credentials;
  const client = new SignedClient(server.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, 1);
  await client.ok('PUT', `/cachectl/v1/accounts/${encodeURIComponent(creds.account)}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
  await addOnlineDomain(client, DOMAIN, 9);
  return { server, client };
}

export async function runLoggingSection(cfg: LoggingConfig, log: (line: string) => void): Promise<LoggingResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bench-logs-'));
  const started: Array<{ server: ServerChild; client: SignedClient }> = [];
  try {
    const quiet = await prepared(tmp, 'quiet', 'warn');
    started.push(quiet);
    const logged = await prepared(tmp, 'logged', 'info');
    started.push(logged);
    log(`10. logging: ${cfg.calls} + ${cfg.calls} signed 1-URL creates, one at a time, alternately to a server at --log-level warn and one at info (JSON, 3 lines a call)`);
    const paired = await comparePaired(cfg, quiet.client, logged.client, (side, i) => `http://${DOMAIN}/logs/${side}/${i}.js`);
    const { base: q, other: l, errors } = paired;
    const result: LoggingResult = { quiet: q, logged: l, addedP50Ms: paired.addedP50Ms, pairedP50Ms: paired.pairedP50Ms, lineUs: lineUs(), errors };
    log(`    warn p50 ${q.p50} ms, info p50 ${l.p50} ms: ${result.addedP50Ms >= 0 ? '+' : ''}${result.addedP50Ms} ms (paired ${result.pairedP50Ms} ms); one request line ${result.lineUs} µs in-process; errors ${errors}`);
    return result;
  } finally {
    for (const s of started) {
      await s.client.close();
      await s.server.stop();
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function loggingRows(r: LoggingResult): Row[] {
  const s = '10. logging';
  return [
    row(s, `signed 1-URL create p50, --log-level warn (${r.quiet.n} calls)`, r.quiet.p50, 'ms'),
    row(s, `same call p50, --log-level info, JSON (${r.logged.n} calls)`, r.logged.p50, 'ms'),
    row(s, 'logging added p50 (info − warn)', r.addedP50Ms, 'ms', undefined, 3),
    info(s, '  p99 warn / info', `${r.quiet.p99.toFixed(2)} / ${r.logged.p99.toFixed(2)} ms`),
    info(s, '  median of per-pair differences', `${r.pairedP50Ms.toFixed(3)} ms`),
    info(s, '  one request line, in-process', `${r.lineUs} µs`),
    info(s, '  errors', String(r.errors)),
  ];
}
