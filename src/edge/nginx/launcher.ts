// Local nginx instances for development, tests, the conformance runs and the bench: each a plain
// background process with its own prefix (config, logs, temp files, cache) on free loopback ports,
// started from the shipped engines/nginx/nginx.conf, copied unchanged (so the shipped file is the one
// tested). Used directly by tests and through src/edge/local-engines.ts.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { freePort, shippedFile, sleep } from '../local-process.js';
import { PURGE_PREFIX, renderNginx, VERSION_PATH } from './render-nginx.js';
import type { NginxEngineOptions } from './agent-engine.js';

const PURGE_MODULE = '/usr/lib/nginx/modules/ngx_http_cache_purge_module.so';
/** Started as root, nginx runs its workers as `nobody` (Debian's build sets no other user). */
const NOBODY = 65534;

export interface NginxInstance {
  name: string;
  /** Where users connect: http://127.0.0.1:<port>. */
  trafficUrl: string;
  /** The master's PID (also the process group of its workers). */
  pid: number;
  /** What `new NginxEngine(...)` takes for this instance (also what `cachectl agent nginx --config` reads). */
  engineOptions: NginxEngineOptions;
  /** The purge location on the control server (the bench's baseline). */
  rawPurge: { origin: string; method: string; pathPrefix: string };
}

/** The nginx binary; $NGINX overrides the search (also lets tests check the "not installed" skip). */
export function nginxPath(): string | undefined {
  const candidates = process.env.NGINX ? [process.env.NGINX] : ['/usr/sbin/nginx', '/usr/local/sbin/nginx'];
  return candidates.find((p) => existsSync(p));
}

/** Why a local nginx cannot run here, or undefined. */
export function missing(): string | undefined {
  if (!nginxPath()) return 'nginx not installed (scripts/install-engines.sh nginx)';
  if (!existsSync(PURGE_MODULE)) return 'the cache purge module is not installed (libnginx-mod-http-cache-purge; scripts/install-engines.sh nginx)';
  return undefined;
}

/** The shipped base config. */
export function shippedConf(): string {
  return shippedFile('engines', 'nginx', 'nginx.conf');
}

/** Starts nginx in `dir/<name>` (again on the same ports and cache when it ran there before); waits until it answers. */
export async function startNginx(dir: string, name: string, timeoutMs = 15_000): Promise<NginxInstance> {
  const bin = nginxPath();
  const why = missing();
  if (!bin || why) throw new Error(why);
  const prefix = resolve(dir, name);
  for (const d of ['logs', 'tmp', 'cache', 'cachectl']) mkdirSync(join(prefix, d), { recursive: true });
  // As root, the workers (nobody) write the cache and temp files, and must reach them.
  if (process.getuid?.() === 0) {
    for (const d of [resolve(dir), prefix]) chmodSync(d, 0o755);
    for (const d of ['tmp', 'cache']) chownSync(join(prefix, d), NOBODY, NOBODY);
  }
  const record = join(prefix, 'instance.json');
  const previous = existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as NginxInstance) : undefined;
  const conf = join(prefix, 'nginx.conf');
  copyFileSync(shippedConf(), conf);
  const options: NginxEngineOptions = previous?.engineOptions ?? {
    trafficListen: `127.0.0.1:${await freePort()}`,
    controlListen: `127.0.0.1:${await freePort()}`,
    prefix,
    conf,
    serversFile: join(prefix, 'cachectl', 'servers.conf'),
    cacheDir: join(prefix, 'cache'),
    pidFile: join(prefix, 'logs', 'nginx.pid'),
    nginxBin: bin,
  };
  // A first start serves no domain; a restart keeps the last rendered set (the agent pushes anyway).
  if (!existsSync(options.serversFile)) writeFileSync(options.serversFile, renderNginx([], 0, { traffic: options.trafficListen, control: options.controlListen }));
  const log = openSync(join(prefix, 'logs', 'stderr.log'), 'a');
  // detached: its own process group, so that a stop reaches the workers even if the master is gone.
  const child = spawn(bin, ['-p', `${prefix}/`, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const inst: NginxInstance = {
    name,
    trafficUrl: `http://${options.trafficListen}`,
    pid: child.pid!,
    engineOptions: options,
    rawPurge: { origin: `http://${options.controlListen}`, method: 'GET', pathPrefix: PURGE_PREFIX },
  };
  writeFileSync(record, JSON.stringify(inst, null, 2));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx ${name} exited with ${child.exitCode}: see ${join(prefix, 'logs', 'stderr.log')}`);
    try {
      const res = await request(`http://${options.controlListen}${VERSION_PATH}`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return inst;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopGroup(child.pid!);
      throw new Error(`nginx ${name} not ready after ${timeoutMs} ms: see ${join(prefix, 'logs', 'stderr.log')}`);
    }
    await sleep(20);
  }
}

/** True while any process of the group led by `pid` lives. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops nginx's process group: SIGQUIT (graceful: workers finish what they serve), then SIGTERM, then
 * SIGKILL, each after 5 s. The group, not the PID alone: workers outlive a master that was killed,
 * and would keep the ports. Linux does not hand out a PID still used as a group id, so signalling the
 * recorded group never reaches another program.
 */
async function stopGroup(pid: number): Promise<void> {
  for (const signal of ['SIGQUIT', 'SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(-pid, signal);
    } catch {
      return;
    }
    for (let i = 0; i < 200 && groupAlive(pid); i++) await sleep(25);
    if (!groupAlive(pid)) return;
  }
}

/** Stops the instances recorded under `dir` (all, or these names) by their recorded PID, and waits until they exit. */
export async function stopNginx(dir: string, names?: string[]): Promise<void> {
  for (const n of names ?? (existsSync(dir) ? readdirSync(dir) : [])) {
    const f = join(dir, n, 'instance.json');
    if (!existsSync(f)) continue;
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as NginxInstance;
    await stopGroup(pid);
  }
}

/** What the engine list's localProcess hands out (LocalLauncher in edge-driver.ts). */
export { startNginx as startLocal, stopNginx as stopLocal };
