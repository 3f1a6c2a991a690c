// A real `cachectl serve` child process on ports the test chose, and the shared black-box conformance
// suite run against it (as scripts/conformance.mjs does, but from a test): for tests that check what a
// whole conformance pass leaves behind (metrics, a restored backup, log lines). Readiness is read from
// /readyz, not from the startup lines, whose format is not the test's business.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { client, type Call } from './signed-client.js';
import { MAIN, freePort, freePortRun } from './processes.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** Where the suite is: CACHECTL_CONFORMANCE_DIR, else ../shared/conformance, relative to the repository. */
export const SUITE_DIR = path.resolve(ROOT, process.env.CACHECTL_CONFORMANCE_DIR ?? '../shared/conformance');

/**
 * The `skip` option of a test that needs the suite: false when it is there, or when CI or
 * CACHECTL_REQUIRE_SERVICES=1 require it (the test then fails on `requireSuite`), else the reason.
 */
export function suiteSkip(): string | false {
  if (fs.existsSync(SUITE_DIR)) return false;
  if (process.env.CACHECTL_REQUIRE_SERVICES === '1' || process.env.CI) return false;
  return `no conformance suite at ${SUITE_DIR} (set CACHECTL_CONFORMANCE_DIR)`;
}

export function requireSuite(): void {
  if (!fs.existsSync(SUITE_DIR)) throw new Error(`no conformance suite at ${SUITE_DIR} (set CACHECTL_CONFORMANCE_DIR)`);
}

/** credentials.json of a server's first start. */
export interface Credentials {
  account: string;
  user: string;
  password: string;
  access_key: string;
  secret_key: string;
}

export interface ServeProcess {
  child: ChildProcess;
  dataDir: string;
  api: string;
  /** The traffic URLs of the built-in edges. */
  edges: string[];
  /** GET /metrics, when started with metrics. */
  metricsUrl?: string;
  /** Everything the process wrote so far, stdout and stderr interleaved as they came. */
  output(): string;
  /** Its standard output alone (the log). */
  stdout(): string;
  /** SIGTERM (or `signal`), then the exit code (null when a signal ended it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServeOptions {
  dataDir: string;
  builtinEdges?: number;
  metrics?: boolean;
  logLevel?: string;
  /** More serve flags. */
  args?: string[];
  /** How long to wait for /readyz (default 60 s). */
  readyTimeoutMs?: number;
}

/** The environment of a child: none of the caller's cachectl settings, and not inside our test run. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(CACHECTL_|CONF_|NODE_TEST_CONTEXT$)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Starts `cachectl serve` on free loopback ports and resolves once /readyz answers 200. */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const edgeCount = options.builtinEdges ?? 2;
  const [api, edgePort, adminPort, metricsPort] = [await freePort(), await freePortRun(edgeCount), await freePortRun(edgeCount), await freePort()];
  const args = [
    MAIN,
    'serve',
    '--data-dir', options.dataDir,
    '--port', String(api),
    '--builtin-edges', String(edgeCount),
    '--edge-port', String(edgePort),
    '--edge-admin-port', String(adminPort),
    '--origin-allow', 'loopback,public',
    '--log-level', options.logLevel ?? 'warn',
    ...(options.metrics ? ['--metrics-listen', `127.0.0.1:${metricsPort}`] : []),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (d) => {
    output += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${api}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`cachectl serve exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
    const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`cachectl serve not ready within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    dataDir: options.dataDir,
    api: base,
    edges: Array.from({ length: edgeCount }, (_, i) => `http://127.0.0.1:${edgePort + i}`),
    metricsUrl: options.metrics ? `http://127.0.0.1:${metricsPort}/metrics` : undefined,
    output: () => output,
    stdout: () => stdout,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function readCredentials(dataDir: string): Credentials {
  return JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
}

/** The second account the tenancy cases need, through the admin API as `cachectl accounts add` does it. */
export async function addSecondAccount(call: Call, name = 'conformance-other'): Promise<{ access_key: string; secret_key: string }> {
  const res = await call('POST', '/cachectl/v1/accounts', { body: { name, user: 'admin' } });
  if (res.status !== 200) throw new Error(`creating account ${name}: ${res.status} ${res.text}`);
  return { access_key: res.json.access_key, secret_key: res.json.secret_key };
}

const SUITE_TIMEOUT_MS = 300_000;

export interface SuiteRun {
  code: number | null;
  output: string;
}

/** Runs the whole suite (`node --test <suite>`) against a server, with the CONF_* settings its README names. */
export async function runSuite(serve: Pick<ServeProcess, 'api' | 'edges'>, creds: Credentials, other: { access_key: string; secret_key: string }): Promise<SuiteRun> {
  // The same mapping as scripts/conformance.mjs uses.
  const { suiteEnv } = (await import(pathToFileURL(path.join(ROOT, 'scripts/conformance-env.mjs')).href)) as { suiteEnv(s: object): Record<string, string> };
  const env = childEnv(suiteEnv({ api: serve.api, accessKey: creds.access_key, secretKey: creds.secret_key, other, account: creds.account, user: creds.user, password: creds.password, edges: serve.edges }));
  return new Promise((resolve, reject) => {
    // Bounded: a hung suite is killed rather than left behind when the test gives up.
    const run = spawn(process.execPath, ['--test', SUITE_DIR], { stdio: ['ignore', 'pipe', 'pipe'], env, timeout: SUITE_TIMEOUT_MS, killSignal: 'SIGKILL' });
    let output = '';
    run.stdout.on('data', (d) => (output += d));
    run.stderr.on('data', (d) => (output += d));
    run.on('error', reject);
    run.on('close', (code) => resolve({ code, output }));
  });
}

export interface ConformancePass {
  creds: Credentials;
  other: { access_key: string; secret_key: string };
  /** The admin account's signed client. */
  call: Call;
  suite: SuiteRun;
}

/**
 * Creates the second account on a server's first start and runs the suite against it. `beforeSuite`
 * runs between the two (e.g. a first scrape).
 */
export async function conformancePass(serve: ServeProcess, beforeSuite?: (pass: Omit<ConformancePass, 'suite'>) => Promise<void>): Promise<ConformancePass> {
  const creds = readCredentials(serve.dataDir);
  const call = client(serve.api, { accessKey: creds.access_key, secretKey: creds.secret_key });
  const other = await addSecondAccount(call);
  await beforeSuite?.({ creds, other, call });
  const suite = await runSuite(serve, creds, other);
  return { creds, other, call, suite };
}

/** The last lines of a suite's output, for an assertion message. */
export const tail = (text: string, lines = 60): string => text.split('\n').slice(-lines).join('\n');
