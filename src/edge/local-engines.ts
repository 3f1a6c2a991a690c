// Local cache engine nodes for development, tests, the conformance runs and the bench: starts an instance
// of an engine with a launcher (EngineModule.localProcess) on loopback ports and, for an engine that needs
// an agent, the `cachectl agent` beside it, and describes the result as a node for the registry.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { DriverName, LocalLauncher } from './edge-driver.js';
import { ENGINES, engineOf } from './engines.js';
import { freePort, sleep, stopPid } from './local-process.js';

/** The engines that can run locally (those with a launcher); the built-in edge runs as `cachectl edge`. */
export const ENGINE_NAMES: readonly string[] = ENGINES.filter((e) => e.localProcess && !e.capabilities.testOnly).map((e) => e.name);
export type EngineName = string;

/** A running engine node, as `POST /cachectl/v1/nodes` takes it, plus how to stop it. */
export interface LocalNode {
  name: string;
  driver: DriverName;
  trafficUrl: string;
  controlUrl: string;
  secret: string;
  /** The file holding the secret (for `cachectl nodes add --secret-file`). */
  secretFile: string;
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

/** "varnish:2,nginx:1" → varnish, varnish, nginx. */
export function parseFleet(spec: string): EngineName[] {
  const out: EngineName[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [engine, count = '1'] = part.split(':');
    if (!ENGINE_NAMES.includes(engine) || !/^\d+$/.test(count)) throw new Error(`fleet '${spec}': expected engine[:count],… with engines ${ENGINE_NAMES.join(', ')}`);
    for (let i = 0; i < Number(count); i++) out.push(engine);
  }
  return out;
}

/** Why the engine cannot run here, or undefined when it can. */
export async function engineMissing(engine: EngineName): Promise<string | undefined> {
  try {
    return (await launcherOf(engine)).missing();
  } catch (err) {
    return `the ${engine} driver could not be loaded: ${(err as Error).message}`;
  }
}

function launcherOf(engine: EngineName): Promise<LocalLauncher> {
  const local = engineOf(engine)?.localProcess;
  if (!local) throw new Error(`${engine}: no local launcher (engines: ${ENGINE_NAMES.join(', ')})`);
  return local();
}

/** The compiled CLI (dist/src/cli/main.js) beside this module. */
function cliPath(): string {
  return resolve(fileURLToPath(new URL('.', import.meta.url)), '../cli/main.js');
}

/** Starts `cachectl agent <engine>` for an engine's options; resolves with its control URL and PID. */
async function startAgent(engine: EngineName, home: string, options: unknown, secret: string): Promise<{ url: string; pid: number; secret: string; secretFile: string }> {
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
  return { url, pid: child.pid!, secret, secretFile };
}

export async function startLocalNode(engine: EngineName, dir: string, name: string): Promise<LocalNode> {
  const proc = await launcherOf(engine);
  const inst = await proc.startLocal(dir, name);
  // An engine with its own control endpoint is driven there; the others through an agent beside them.
  const agent = inst.control ? undefined : await startAgent(engine, join(dir, name), inst.engineOptions, randomBytes(24).toString('hex'));
  const control = inst.control ?? agent!;
  const node: LocalNode = {
    name,
    driver: engine,
    trafficUrl: inst.trafficUrl,
    controlUrl: control.url,
    secret: control.secret,
    secretFile: control.secretFile,
    pids: agent ? [inst.pid, agent.pid] : [inst.pid],
    rawPurge: inst.rawPurge,
    stop: async () => {
      if (agent) await stopPid(agent.pid);
      await proc.stopLocal(dir, [name]);
    },
    stopEngine: () => proc.stopLocal(dir, [name]),
    restartEngine: async () => {
      const again = await proc.startLocal(dir, name);
      node.pids = agent ? [again.pid, agent.pid] : [again.pid];
    },
  };
  return node;
}
