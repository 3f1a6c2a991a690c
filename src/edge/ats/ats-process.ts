// Local Apache Traffic Server instances for development, tests, the conformance runs and the bench: each
// a self-contained runroot (config, logs, state, a 256 MB cache) built from the shipped engines/ats/
// files, on free loopback ports, under traffic_manager: only it makes `traffic_ctl config reload` (new
// remap rules, regex_revalidate rules at once) possible, and it runs only as root (it drops ATS to nobody).
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { freePort, shippedFile, sleep, stopPid } from '../local-process.js';
import { renderAts } from './render-ats.js';
import type { AtsEngineOptions } from './ats-engine.js';

const NOBODY = 65534;
const SHIPPED = ['records.config', 'ip_allow.yaml', 'storage.config', 'plugin.config', 'logging.yaml'];
// Files ATS expects to exist, empty here.
const EMPTY = ['cache.config', 'hosting.config', 'volume.config', 'splitdns.config', 'socks.config', 'ssl_multicert.config', 'regex_revalidate.config'];

export interface AtsInstance {
  name: string;
  trafficUrl: string;
  /** traffic_manager's PID (it starts and restarts traffic_server). */
  pid: number;
  engineOptions: AtsEngineOptions;
  rawPurge: { origin: string; method: string; pathPrefix: string };
}

export function missing(): string | undefined {
  if (!existsSync('/usr/bin/traffic_manager') || !existsSync('/usr/bin/traffic_server')) return 'Apache Traffic Server not installed (scripts/install-engines.sh ats)';
  if (process.getuid?.() !== 0) return 'ATS needs traffic_manager for immediate reloads, and traffic_manager runs only as root';
  return undefined;
}

/** Starts ATS in `dir/<name>` (again on the same ports and cache when it ran there before); waits until it answers. */
export async function startLocal(dir: string, name: string, timeoutMs = 60_000): Promise<AtsInstance> {
  const why = missing();
  if (why) throw new Error(why);
  const root = resolve(dir, name);
  const record = join(root, 'instance.json');
  const previous = existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as AtsInstance) : undefined;
  for (const d of ['etc', 'var', 'run', 'log', 'cache']) mkdirSync(join(root, d), { recursive: true });
  for (const d of [resolve(dir), root]) chmodSync(d, 0o755);
  // traffic_manager drops traffic_server to nobody, which writes state, logs and the cache.
  for (const d of ['var', 'run', 'log', 'cache']) chownSync(join(root, d), NOBODY, NOBODY);
  const port = previous ? Number(/:(\d+)$/.exec(previous.engineOptions.trafficListen)![1]) : await freePort();
  const runroot = join(root, 'runroot.yaml');
  writeFileSync(
    runroot,
    [
      `prefix: ${root}`, 'exec_prefix: /usr', 'bindir: /usr/bin', 'sbindir: /usr/sbin', `sysconfdir: ${root}/etc`, `datadir: ${root}/var`,
      'includedir: /usr/include', 'libdir: /usr/lib/trafficserver', 'libexecdir: /usr/lib/trafficserver/modules', `localstatedir: ${root}/var`,
      `runtimedir: ${root}/run`, `logdir: ${root}/log`, `cachedir: ${root}/cache`, '',
    ].join('\n'),
  );
  const fill = (text: string) => text.replaceAll('@ROOT@', root).replaceAll('@PORTS@', `${port}:ip-in=127.0.0.1`);
  for (const f of SHIPPED) writeFileSync(join(root, 'etc', f), fill(readFileSync(shippedFile('engines', 'ats', f), 'utf8')));
  for (const f of EMPTY) if (!existsSync(join(root, 'etc', f))) writeFileSync(join(root, 'etc', f), '');
  writeFileSync(join(root, 'etc', 'sni.yaml'), 'sni: []\n');
  writeFileSync(join(root, 'etc', 'strategies.yaml'), 'strategies: []\n');
  // A first start serves no domain; a restart keeps the last rendered set (the agent pushes anyway).
  if (!existsSync(join(root, 'etc', 'remap.config'))) {
    // No probe origin yet: the agent renders the probe's parent on its first push.
    const { remap, parent } = renderAts([], 0, 1);
    writeFileSync(join(root, 'etc', 'remap.config'), remap);
    writeFileSync(join(root, 'etc', 'parent.config'), parent);
  }
  const options: AtsEngineOptions = {
    trafficListen: `127.0.0.1:${port}`,
    runroot,
    etcDir: join(root, 'etc'),
    stateFile: join(root, 'var', 'regex_revalidate.state'),
  };
  const log = openSync(join(root, 'log', 'manager.stderr'), 'a');
  const child = spawn('/usr/bin/traffic_manager', [`--run-root=${runroot}`], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, PROXY_CONFIG_ADMIN_USER_ID: 'nobody' },
  });
  child.unref();
  const inst: AtsInstance = { name, trafficUrl: `http://${options.trafficListen}`, pid: child.pid!, engineOptions: options, rawPurge: { origin: `http://${options.trafficListen}`, method: 'PURGE', pathPrefix: '' } };
  writeFileSync(record, JSON.stringify(inst, null, 2));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`traffic_manager ${name} exited with ${child.exitCode}: see ${join(root, 'log')}`);
    try {
      const res = await request(`${inst.trafficUrl}/`, { headers: { host: 'cachectl-start.invalid' } });
      await res.body.dump();
      // Any answer (a 404 for this unknown host) means traffic_server is up.
      if (res.statusCode > 0) return inst;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`ATS ${name} not ready after ${timeoutMs} ms: see ${join(root, 'log')}`);
    await sleep(50);
  }
}

/** Stops the instances recorded under `dir` (all, or these names): traffic_manager, then its traffic_server. */
export async function stopLocal(dir: string, names?: string[]): Promise<void> {
  for (const n of names ?? (existsSync(dir) ? readdirSync(dir) : [])) {
    const f = join(dir, n, 'instance.json');
    if (!existsSync(f)) continue;
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as AtsInstance;
    const lock = join(dir, n, 'run', 'server.lock');
    const server = existsSync(lock) ? Number(readFileSync(lock, 'utf8').replace(/\D/g, '')) : 0;
    await stopPid(pid);
    if (server > 0) await stopPid(server);
  }
}
