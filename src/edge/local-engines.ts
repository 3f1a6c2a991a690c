// Local cache engine nodes for development, tests, the conformance runs and the bench: starts a Varnish,
// nginx or ATS instance on loopback ports (see each engine's *-process.ts) and, for nginx and ATS, the
// `cachectl agent` beside it, and describes the result as a node for the registry.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { DriverName } from './edge-driver.js';
import { startVarnish, stopVarnish, varnishdPath } from './varnish/varnish-process.js';
import { freePort, sleep, stopPid } from './local-process.js';

export const ENGINE_NAMES = ['varnish', 'nginx', 'ats'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** A running engine node, as `POST /cachectl/v1/nodes` takes it, plus how to stop it. */
export interface LocalNode {
  name: string;
  driver: DriverName;
  trafficUrl: string;
  controlUrl: string;
  secret: string;
  /** Processes to stop, engine first. */
  pids: number[];
  /** How to purge one URL on the engine itself, without cachectl (the bench's baseline). */
  rawPurge: { origin: string; method: string; pathPrefix: string };
  stop(): Promise<void>;
  /** The engine alone (the agent stays): to test a node that dies. */
  stopEngine(): Promise<void>;
  /** Starts the engine again after stopEngine, on the same ports and state. */
  restartEngine(): Promise<void>;
}

/** "varnish:2,nginx:1" → ['varnish', 'varnish', 'nginx']. */
export function parseFleet(spec: string): EngineName[] {
  const out: EngineName[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [engine, count = '1'] = part.split(':');
    if (!(ENGINE_NAMES as readonly string[]).includes(engine) || !/^\d+$/.test(count)) throw new Error(`fleet '${spec}': expected engine[:count],… with engines ${ENGINE_NAMES.join(', ')}`);
    for (let i = 0; i < Number(count); i++) out.push(engine as EngineName);
  }
  return out;
}

/** Why the engine cannot run here, or undefined when it can. */
export async function engineMissing(engine: EngineName): Promise<string | undefined> {
  if (engine === 'varnish') return varnishdPath() ? undefined : 'varnishd not installed (scripts/install-engines.sh varnish)';
  try {
    return (await processModule(engine)).missing();
  } catch (err) {
    return `the ${engine} driver could not be loaded: ${(err as Error).message}`;
  }
}

/** Each engine's process module: start/stop instances in a folder, and what is missing to run one. */
interface ProcessModule {
  missing(): string | undefined;
  startLocal(dir: string, name: string): Promise<{ trafficUrl: string; pid: number; engineOptions: unknown; rawPurge: LocalNode['rawPurge'] }>;
  stopLocal(dir: string, names?: string[]): Promise<void>;
}

async function processModule(engine: 'nginx' | 'ats'): Promise<ProcessModule> {
  return (engine === 'nginx' ? await import('./nginx/nginx-process.js') : await import('./ats/ats-process.js')) as ProcessModule;
}

/** The compiled CLI (dist/src/cli/main.js) beside this module. */
function cliPath(): string {
  return resolve(fileURLToPath(new URL('.', import.meta.url)), '../cli/main.js');
}

/** Starts `cachectl agent <engine>` for an engine's options; resolves with its control URL and PID. */
async function startAgent(engine: 'nginx' | 'ats', home: string, options: unknown, secret: string): Promise<{ url: string; pid: number }> {
  const config = join(home, 'agent-engine.json');
  const secretFile = join(home, 'agent-secret');
  writeFileSync(config, JSON.stringify(options, null, 2));
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const port = await freePort();
  // Output to a file: the agent outlives whoever started it (a script that exits, a test).
  const log = openSync(join(home, 'agent.log'), 'a');
  const child = spawn(process.execPath, [cliPath(), 'agent', engine, '--config', config, '--listen', `127.0.0.1:${port}`, '--secret-file', secretFile], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent ${engine} exited with ${child.exitCode}: see ${join(home, 'agent.log')}`);
    try {
      const res = await request(`${url}/health`, { headers: { authorization: `Bearer ${secret}` } });
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`agent ${engine} did not answer within 15 s: see ${join(home, 'agent.log')}`);
    await sleep(25);
  }
  return { url, pid: child.pid! };
}

export async function startLocalNode(engine: EngineName, dir: string, name: string): Promise<LocalNode> {
  const secret = randomBytes(24).toString('hex');
  if (engine === 'varnish') {
    let inst = await startVarnish(dir, name);
    const node: LocalNode = {
      name,
      driver: 'varnish',
      trafficUrl: inst.trafficUrl,
      controlUrl: inst.adminAddress,
      secret: readFileSync(inst.secretFile, 'utf8'),
      pids: [inst.pid],
      rawPurge: { origin: inst.trafficUrl, method: 'PURGE', pathPrefix: '' },
      stop: () => stopVarnish(dir, [name]),
      stopEngine: () => stopVarnish(dir, [name]),
      restartEngine: async () => {
        inst = await startVarnish(dir, name);
        node.pids = [inst.pid];
      },
    };
    return node;
  }
  const home = join(dir, name);
  const proc = await processModule(engine);
  const inst = await proc.startLocal(dir, name);
  const agent = await startAgent(engine, home, inst.engineOptions, secret);
  const node: LocalNode = {
    name,
    driver: engine,
    trafficUrl: inst.trafficUrl,
    controlUrl: agent.url,
    secret,
    pids: [inst.pid, agent.pid],
    rawPurge: inst.rawPurge,
    stop: async () => {
      await stopPid(agent.pid);
      await proc.stopLocal(dir, [name]);
    },
    stopEngine: () => proc.stopLocal(dir, [name]),
    restartEngine: async () => {
      const again = await proc.startLocal(dir, name);
      node.pids = [again.pid, agent.pid];
    },
  };
  return node;
}
