// Local nginx instances for development, tests, the conformance runs and the bench: each a plain
// background process with its own prefix (config, logs, temp files, cache) on free loopback ports,
// started from the shipped engines/nginx/nginx.conf. Used through src/edge/local-engines.ts.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { freePort, shippedFile, sleep, stopPid } from '../local-process.js';
import { PURGE_PREFIX, renderNginx, VERSION_PATH } from './render-nginx.js';
import type { NginxEngineOptions } from './nginx-engine.js';

const PURGE_MODULE = '/usr/lib/nginx/modules/ngx_http_cache_purge_module.so';
const NOBODY = 65534;

export interface NginxInstance {
  name: string;
  trafficUrl: string;
  pid: number;
  engineOptions: NginxEngineOptions;
  /** The purge location on the control server (the bench's baseline). */
  rawPurge: { origin: string; method: string; pathPrefix: string };
}

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

/** Starts nginx in `dir/<name>` (again on the same ports when it ran there before); waits until it answers. */
export async function startLocal(dir: string, name: string, timeoutMs = 15_000): Promise<NginxInstance> {
  const bin = nginxPath();
  const why = missing();
  if (!bin || why) throw new Error(why);
  const prefix = resolve(dir, name);
  for (const d of ['logs', 'tmp', 'cache', 'cachectl']) mkdirSync(join(prefix, d), { recursive: true });
  // As root, nginx's workers run as nobody: they write the cache and temp files, and must reach them.
  if (process.getuid?.() === 0) {
    for (const d of [resolve(dir), prefix]) chmodSync(d, 0o755);
    for (const d of ['tmp', 'cache']) chownSync(join(prefix, d), NOBODY, NOBODY);
  }
  const record = join(prefix, 'instance.json');
  const previous = existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as NginxInstance) : undefined;
  const conf = join(prefix, 'nginx.conf');
  copyFileSync(shippedFile('engines', 'nginx', 'nginx.conf'), conf);
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
      const res = await request(`http://${options.controlListen}${VERSION_PATH}`);
      await res.body.dump();
      if (res.statusCode === 200) return inst;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nginx ${name} not ready after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Stops the instances recorded under `dir` (all, or these names) by PID: SIGQUIT (graceful), then waits. */
export async function stopLocal(dir: string, names?: string[]): Promise<void> {
  const { readdirSync } = await import('node:fs');
  for (const n of names ?? (existsSync(dir) ? readdirSync(dir) : [])) {
    const f = join(dir, n, 'instance.json');
    if (!existsSync(f)) continue;
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as NginxInstance;
    // SIGQUIT: graceful, workers finish what they serve.
    await stopPid(pid, 'SIGQUIT');
  }
}
