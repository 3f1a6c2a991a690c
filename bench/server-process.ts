// The server under test as a child process (`node dist/src/cli/main.js serve`), so that its memory can
// be read from /proc and the benchmark's own work does not run on its event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../src/logging/log-line.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/** Every child started and not yet stopped: killed if the benchmark exits early. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A free port p whose neighbour p+1 is free too (the server gives edge i the port p+i). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await tryListen(0);
    if (p === null || p >= 65535) continue;
    if ((await tryListen(p + 1)) !== null) return p;
  }
  throw new Error('no pair of adjacent free ports found');
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await tryListen(0);
    if (p !== null) return p;
  }
  throw new Error('no free port');
}

export interface EdgeUrls {
  name: string;
  trafficUrl: string;
  controlUrl: string;
  /** The bearer secret of its control port (the server keeps it in edge-secret in the data directory). */
  secret: string;
}

export interface Credentials {
  api: string;
  account: string;
  account_id: string;
  access_key: string;
  secret_key: string;
}

export interface ServerChild {
  pid: number;
  api: string;
  edges: EdgeUrls[];
  credentials: Credentials;
  /** Milliseconds from spawn to the edge lines on stdout. */
  startupMs: number;
  /** process.hrtime.bigint() just before spawn (to line up a --cpu-prof profile with phases). */
  spawnedAt: bigint;
  /** Tail of the child's stderr and stdout (never the bootstrap secrets). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process has exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: string | null }>;
}

export interface StartOptions {
  dataDir: string;
  edges?: number;
  /** Directory for `node --cpu-prof` output; no profiling when unset. */
  cpuProfDir?: string;
  extraArgs?: string[];
  /** More flags for the child's `node` (e.g. --trace-gc); its stdout tail is in output(). */
  nodeArgs?: string[];
  /** Appends the child's stdout and stderr here (lines with secrets left out). */
  logFile?: string;
  timeoutMs?: number;
}

const SECRET_LINE = /password|secret key|access key/i;

export async function startServerChild(options: StartOptions): Promise<ServerChild> {
  const edgeCount = options.edges ?? 2;
  const port = await freePort();
  const edgePort = await freePortPair();
  const adminPort = await freePortPair();
  const nodeArgs = [...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []), ...(options.nodeArgs ?? [])];
  const args = [
    ...nodeArgs,
    MAIN,
    'serve',
    '--data-dir', options.dataDir,
    '--port', String(port),
    '--edge-port', String(edgePort),
    '--edge-admin-port', String(adminPort),
    '--builtin-edges', String(edgeCount),
    '--log-level', 'warn',
    // The bench's origins run on this machine.
    '--origin-allow', 'loopback,public',
    // The bench loads old history (bench/history.ts) and measures with it: kept unless a row asks otherwise.
    '--history-retention-days', '0',
    ...(options.extraArgs ?? []),
  ];
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  live.add(child);
  let tail = '';
  let logFd = options.logFile ? fs.openSync(options.logFile, 'a') : null;
  const keep = (text: string) => {
    tail = (tail + text).slice(-8192);
    if (logFd !== null) fs.writeSync(logFd, text);
  };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => keep(d));
  child.once('close', () => {
    if (logFd !== null) fs.closeSync(logFd);
    logFd = null;
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );

  let api = '';
  const edges: EdgeUrls[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in ${options.timeoutMs ?? 60_000} ms`)), options.timeoutMs ?? 60_000);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited during start (code ${code}, signal ${signal})`));
      });
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!SECRET_LINE.test(line)) keep(`${(Number(process.hrtime.bigint() - spawnedAt) / 1e9).toFixed(2)} ${line}\n`);
        const msg = messageOf(line);
        const a = /^cachectl API listening on (\S+)/.exec(msg);
        if (a) api = a[1];
        // Without built-in edges the API line is the last one to wait for (the credentials file is written by then).
        if (a && edgeCount === 0) {
          clearTimeout(timer);
          resolve();
        }
        const e = /^edge (\S+): traffic (\S+), control (\S+)$/.exec(msg);
        if (e) {
          edges.push({ name: e[1], trafficUrl: e[2], controlUrl: e[3], secret: '' });
          if (edges.length === edgeCount) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    });
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server output ---\n${tail}`);
  }
  const startupMs = Number(process.hrtime.bigint() - spawnedAt) / 1e6;
  const credentials = JSON.parse(fs.readFileSync(path.join(options.dataDir, 'credentials.json'), 'utf8')) as Credentials;
  if (edges.length > 0) {
    const secret = fs.readFileSync(path.join(options.dataDir, 'edge-secret'), 'utf8').trim();
    for (const e of edges) e.secret = secret;
  }

  let stopping: Promise<{ code: number | null; signal: string | null }> | null = null;
  return {
    pid: child.pid!,
    api: api || `http://127.0.0.1:${port}`,
    edges,
    credentials,
    startupMs,
    spawnedAt,
    output: () => tail,
    stop(graceMs = 15_000) {
      return (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        process.kill(child.pid!, 'SIGTERM');
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
        }, graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      })());
    },
  };
}
