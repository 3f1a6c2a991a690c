// Section 6: the processes a part starts (serve, agent, an edge host), stopped in reverse order.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { cachectlChild, type CachectlChild } from '../../src/cluster/child-process.js';
import { createScratchDatabase } from '../../src/cluster/scratch-database.js';
import { removeBus } from '../../src/edge/nats/edge-bus.js';
import { freePort, stopPid } from '../../src/edge/local-process.js';
import { AGENT_HOST, EDGE_HOST } from './results.js';

/** Everything started, stopped in reverse order; SIGKILLed if the bench exits first. */
export class Stack {
  private readonly stops: Array<() => Promise<void>> = [];
  push(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }
  async unwind(): Promise<void> {
    for (const s of this.stops.splice(0).reverse()) await s().catch(() => undefined);
  }
}
export const livePids = new Set<number>();
process.on('exit', () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
export const track = (stack: Stack, pid: () => number, stop: () => Promise<void>) => {
  const p = pid();
  livePids.add(p);
  stack.push(async () => {
    await stop();
    livePids.delete(p);
  });
};

export interface Env {
  dir: string;
  /** BENCH_CPU_PROF=1: every child runs under --cpu-prof, its profiles (one per thread) in a folder named for it, here. */
  cpuProfDir?: string;
  key: { accessKey: string; secretKey: string };
  originPort: number;
  log: (line: string) => void;
}

const profiled = new Map<string, number>();
/** Node's flags for a child named `what` (a second child of the same name gets a folder of its own). */
function nodeArgs(env: Env, what: string): string[] {
  if (!env.cpuProfDir) return [];
  const n = (profiled.get(what) ?? 0) + 1;
  profiled.set(what, n);
  // Node's own file names: a fixed name would let a worker thread's profile overwrite the main one.
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(env.cpuProfDir, `${what.replace(/\W+/g, '-')}-${n}`)}`];
}

export interface Serve {
  url: string;
  pid: number;
}

/** `cachectl serve` on the database; role worker has no API (url ''). */
export async function startServe(env: Env, stack: Stack, name: string, databaseUrl: string, extra: Record<string, string> = {}): Promise<Serve> {
  const port = await freePort();
  const worker = extra.CACHECTL_ROLE === 'worker';
  const child: CachectlChild = cachectlChild(
    ['serve'],
    {
      CACHECTL_DATABASE_URL: databaseUrl,
      CACHECTL_HOST: '127.0.0.1',
      CACHECTL_PORT: String(port),
      CACHECTL_DATA_DIR: path.join(env.dir, name),
      CACHECTL_BUILTIN_EDGES: '0',
      CACHECTL_BOOTSTRAP_AK: env.key.accessKey,
      CACHECTL_BOOTSTRAP_SK: env.key.secretKey,
      CACHECTL_LOG_LEVEL: 'warn',
      CACHECTL_HISTORY_RETENTION_DAYS: '0',
      // The bench's origins run on this machine.
      CACHECTL_ORIGIN_ALLOW: 'loopback,public',
      ...extra,
    },
    path.join(env.dir, `${name}.log`),
    (l) => l.startsWith(worker ? 'cachectl worker running' : 'cachectl API listening on'),
    name,
    nodeArgs(env, name),
  );
  try {
    await within(20_000, child.start(), `${name} did not start in 20 s; see ${path.join(env.dir, `${name}.log`)}`);
  } finally {
    if (child.pid()) track(stack, child.pid, () => child.kill());
  }
  return { url: worker ? '' : `http://127.0.0.1:${port}`, pid: child.pid() };
}

export async function startAgent(env: Env, stack: Stack, natsUrl: string, prefix: string, pop: string): Promise<number> {
  const child = cachectlChild(['agent', '--nats', natsUrl, '--pop', pop, '--prefix', prefix, '--state-dir', path.join(env.dir, 'agent-state')], {}, path.join(env.dir, `agent-${pop}.log`), (l) => l.startsWith(`agent ${pop}: on`), `agent ${pop}`, nodeArgs(env, `agent-${pop}`));
  try {
    await within(20_000, child.start(), `agent ${pop} did not start in 20 s; see ${path.join(env.dir, `agent-${pop}.log`)}`);
  } finally {
    if (child.pid()) track(stack, child.pid, () => child.kill());
  }
  return child.pid();
}

/** A start takes a second or two: a hung one should not cost cachectlChild's 60 s. */
export async function within<T>(ms: number, p: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Edge {
  name: string;
  trafficUrl: string;
  controlUrl: string;
  /** The bearer secret of its control port. */
  secret: string;
  pop?: string;
}

/** A bench host script as a child: resolves with its pid and the JSON line it prints once ready. */
async function startHost<T>(env: Env, stack: Stack, script: string, args: string[], what: string): Promise<{ pid: number; ready: T }> {
  const log = fs.openSync(path.join(env.dir, `${what}.log`), 'a');
  const child = spawn(process.execPath, [...nodeArgs(env, what), script, ...args], { stdio: ['ignore', 'pipe', log] });
  fs.closeSync(log);
  track(stack, () => child.pid!, () => stopPid(child.pid!));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 30 s; see ${path.join(env.dir, `${what}.log`)}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}; see ${path.join(env.dir, `${what}.log`)}`)));
    readline.createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  return { pid: child.pid!, ready: JSON.parse(line) as T };
}

/** bench/edge-host.ts as a child: `count` built-in edges, `perPop` to a PoP. */
export async function startEdgeHost(env: Env, stack: Stack, count: number, perPop = 0): Promise<{ pid: number; edges: Edge[] }> {
  const { pid, ready } = await startHost<{ edges: Edge[] }>(env, stack, EDGE_HOST, [String(count), String(perPop)], 'edge-host');
  return { pid, edges: ready.edges };
}

/** bench/agent-host.ts as a child: the PoPs' agents in one process. */
export async function startAgentHost(env: Env, stack: Stack, natsUrl: string, prefix: string, pops: string[]): Promise<number> {
  return (await startHost(env, stack, AGENT_HOST, [natsUrl, prefix, path.join(env.dir, 'agent-state'), ...pops], 'agent-host')).pid;
}

/** A serve on a scratch database with a NATS prefix of its own; both go when the stack unwinds. */
export async function startBusServe(env: Env, stack: Stack, cfg: { postgresUrl: string; natsUrl: string }, name: string): Promise<{ serve: Serve; prefix: string; db: { url: string } }> {
  const db = await createScratchDatabase(cfg.postgresUrl);
  stack.push(db.drop);
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  stack.push(() => removeBus(cfg.natsUrl, prefix));
  const serve = await startServe(env, stack, name, db.url, { CACHECTL_NATS_URL: cfg.natsUrl, CACHECTL_NATS_PREFIX: prefix });
  return { serve, prefix, db };
}
