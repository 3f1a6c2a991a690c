// Local Apache Traffic Server instances for development, tests, the conformance runs and the bench: each
// a self-contained runroot in dir/<name> (config, logs, state, a 256 MB persistent cache) built from the
// shipped engines/ats/ files, on a free loopback port. As root it runs under traffic_manager, which alone
// makes `traffic_ctl config reload` work (rules at once, domain sets within 5 s); traffic_manager refuses
// to run unprivileged and drops traffic_server to nobody. Otherwise a standalone traffic_server: rules
// then take up to 60 s (the plugin's timer) and a domain change needs a restart.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { freePort, shippedFile, sleep } from '../local-process.js';
import type { AtsEngineOptions } from './agent-engine.js';

const NOBODY = 65534;
/** Shipped files, @ROOT@, @PORTS@ and @BIN@ filled in per instance. */
const SHIPPED = ['records.config', 'ip_allow.yaml', 'storage.config', 'plugin.config', 'logging.yaml', 'prefetch.config'];
/** Files ATS expects to exist; empty here. */
const EMPTY = ['cache.config', 'hosting.config', 'volume.config', 'splitdns.config', 'socks.config', 'ssl_multicert.config', 'parent.config', 'regex_revalidate.config'];

export interface AtsInstance {
  name: string;
  trafficUrl: string;
  /** traffic_manager's PID, or traffic_server's when it runs alone. */
  pid: number;
  /** true: under traffic_manager (reloads at once). */
  manager: boolean;
  /** What `new AtsEngine(...)` (and `cachectl agent ats --config`) takes. */
  engineOptions: AtsEngineOptions;
  /** How to purge one URL on ATS itself (the bench's baseline). */
  rawPurge: { origin: string; method: string; pathPrefix: string };
}

export interface StartAtsOptions {
  /** Default: true as root (traffic_manager runs only as root), false otherwise. */
  manager?: boolean;
  timeoutMs?: number;
}

/** The traffic_server binary; $TRAFFIC_SERVER overrides the search (also lets tests check the "not installed" skip). */
export function trafficServerPath(): string | undefined {
  const candidates = process.env.TRAFFIC_SERVER ? [process.env.TRAFFIC_SERVER] : ['/usr/bin/traffic_server', '/usr/local/bin/traffic_server'];
  return candidates.find((p) => existsSync(p));
}

const binDir = (server: string) => resolve(server, '..');
const isRoot = () => process.getuid?.() === 0;

/** Why a full ATS node (with reloads) cannot run here, or undefined when it can. */
export function missing(): string | undefined {
  const server = trafficServerPath();
  if (!server || !existsSync(join(binDir(server), 'traffic_manager'))) return 'Apache Traffic Server not installed (scripts/install-engines.sh ats)';
  if (!isRoot()) return 'ATS needs traffic_manager for immediate reloads, and traffic_manager runs only as root';
  return undefined;
}

function runrootYaml(root: string, bin: string): string {
  return [
    `prefix: ${root}`, 'exec_prefix: /usr', `bindir: ${bin}`, 'sbindir: /usr/sbin', `sysconfdir: ${root}/etc`, `datadir: ${root}/var`,
    'includedir: /usr/include', 'libdir: /usr/lib/trafficserver', 'libexecdir: /usr/lib/trafficserver/modules', `localstatedir: ${root}/var`,
    `runtimedir: ${root}/run`, `logdir: ${root}/log`, `cachedir: ${root}/cache`, '',
  ].join('\n');
}

/** True when `pid` is alive and is ATS run on this runroot (a recorded PID may have been reused since). */
function isAts(pid: number, runroot: string): boolean {
  if (!(pid > 0)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /traffic_(manager|server)/.test(cmdline) && cmdline.includes(`--run-root=${runroot}`);
  } catch {
    return false;
  }
}

/**
 * Starts ATS in `dir/<name>` and waits until it answers HTTP (wait_for_cache: the cache is up by then).
 * Started again in the same folder it keeps its port, cache, rendered domains and rules.
 */
export async function startAts(dir: string, name: string, options: StartAtsOptions = {}): Promise<AtsInstance> {
  const server = trafficServerPath();
  if (!server) throw new Error('Apache Traffic Server not installed (scripts/install-engines.sh ats)');
  const manager = options.manager ?? isRoot();
  if (manager && !isRoot()) throw new Error('traffic_manager runs only as root');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const root = resolve(dir, name);
  const record = join(root, 'instance.json');
  const runroot = join(root, 'runroot.yaml');
  const previous = existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as AtsInstance) : undefined;
  if (previous && isAts(previous.pid, runroot)) throw new Error(`ATS ${name} already runs (pid ${previous.pid}): stopAts first`);
  // A traffic_server left over from a killed traffic_manager would hold the port.
  await stopProcess(serverPid(dir, name), runroot);
  for (const d of ['etc', 'var', 'run', 'log', 'cache']) mkdirSync(join(root, d), { recursive: true });
  for (const d of [resolve(dir), root]) chmodSync(d, 0o755);
  // Under traffic_manager, traffic_server runs as nobody and writes state, logs and the cache.
  if (manager) for (const d of ['var', 'run', 'log', 'cache']) chownSync(join(root, d), NOBODY, NOBODY);
  const port = previous ? Number(/:(\d+)$/.exec(previous.engineOptions.trafficListen)![1]) : await freePort();
  writeFileSync(runroot, runrootYaml(root, binDir(server)));
  const fill = (text: string) => text.replaceAll('@ROOT@', root).replaceAll('@PORTS@', `${port}:ip-in=127.0.0.1`).replaceAll('@BIN@', binDir(server));
  for (const f of SHIPPED) writeFileSync(join(root, 'etc', f), fill(readFileSync(shippedFile('engines', 'ats', f), 'utf8')));
  for (const f of EMPTY) if (!existsSync(join(root, 'etc', f))) writeFileSync(join(root, 'etc', f), '');
  writeFileSync(join(root, 'etc', 'sni.yaml'), 'sni: []\n');
  writeFileSync(join(root, 'etc', 'strategies.yaml'), 'strategies: []\n');
  // No domain yet (every Host gets 404, the version probe too); a restart keeps the last rendered set.
  if (!existsSync(join(root, 'etc', 'remap.config'))) writeFileSync(join(root, 'etc', 'remap.config'), '# No domains yet: cachectl renders this file (src/edge/ats/render-ats.ts).\n');
  const engineOptions: AtsEngineOptions = {
    trafficListen: `127.0.0.1:${port}`,
    runroot,
    etcDir: join(root, 'etc'),
    stateFile: join(root, 'var', 'regex_revalidate.state'),
    manager,
  };
  const log = openSync(join(root, 'log', manager ? 'manager.stderr' : 'server.stderr'), 'a');
  const bin = manager ? join(binDir(server), 'traffic_manager') : server;
  const child = spawn(bin, [`--run-root=${runroot}`], {
    detached: true,
    stdio: ['ignore', log, log],
    // traffic_manager starts traffic_server as this user (records.config's admin.user_id is #-1: "do not switch").
    env: manager ? { ...process.env, PROXY_CONFIG_ADMIN_USER_ID: 'nobody' } : process.env,
  });
  child.unref();
  closeSync(log); // the child has its own copy
  const trafficUrl = `http://${engineOptions.trafficListen}`;
  const inst: AtsInstance = { name, trafficUrl, pid: child.pid!, manager, engineOptions, rawPurge: { origin: trafficUrl, method: 'PURGE', pathPrefix: '' } };
  writeFileSync(record, JSON.stringify(inst, null, 2));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${manager ? 'traffic_manager' : 'traffic_server'} ${name} exited with ${child.exitCode}: see ${join(root, 'log')}`);
    try {
      const res = await request(`${trafficUrl}/`, { headers: { host: 'cachectl-start.invalid' }, headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      return inst; // any answer (404 for this unknown host): traffic_server proxies
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopAts(dir, [name]);
      throw new Error(`ATS ${name} not ready after ${timeoutMs} ms: see ${join(root, 'log')}`);
    }
    await sleep(50);
  }
}

/** Signals `pid` (when it is still this runroot's ATS), waits up to `ms` for it to exit, then kills it. */
async function stopProcess(pid: number, runroot: string, ms = 10_000): Promise<void> {
  if (!isAts(pid, runroot)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + ms;
  while (isAts(pid, runroot)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await sleep(25);
  }
}

/** traffic_server's PID as it recorded it (under traffic_manager it is the manager's child). */
export function serverPid(dir: string, name: string): number {
  const lock = join(dir, name, 'run', 'server.lock');
  return existsSync(lock) ? Number(readFileSync(lock, 'utf8').replace(/\D/g, '')) : 0;
}

/** Stops the instances recorded under `dir` (all, or these names) by PID: traffic_manager, then its traffic_server. */
export async function stopAts(dir: string, names?: string[]): Promise<void> {
  for (const n of names ?? (existsSync(dir) ? readdirSync(dir) : [])) {
    const f = join(dir, n, 'instance.json');
    if (!existsSync(f)) continue;
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as AtsInstance;
    const runroot = join(resolve(dir, n), 'runroot.yaml');
    // Read before the manager goes: it may restart its child while stopping.
    const child = serverPid(dir, n);
    await stopProcess(pid, runroot);
    if (child !== pid) await stopProcess(child, runroot);
  }
}

// What the engine list's localProcess hands out (LocalLauncher in edge-driver.ts).
export const startLocal = (dir: string, name: string) => startAts(dir, name);
export const stopLocal = stopAts;
