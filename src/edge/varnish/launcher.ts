// Install, start and stop local varnishd instances as plain background processes on loopback ports
// (no systemd, no standard ports), each with its own state folder. Used by scripts/engines.mjs and tests.
import { spawn, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync, readFileSync, existsSync, openSync, copyFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { VarnishAdmin } from './varnish-admin.js';
import type { LocalInstance } from '../edge-driver.js';
import { freePort, shippedFile, sleep, stopPid } from '../local-process.js';


export interface VarnishInstance {
  name: string;
  trafficUrl: string;
  adminAddress: string;
  secretFile: string;
  pid: number;
}

/** The shipped base VCL (no domains: every host answers 404). */
export function baseVclPath(): string {
  return shippedFile('engines', 'varnish', 'base.vcl');
}

/** The varnishd binary; $VARNISHD overrides the search (also lets tests check the "not installed" skip). */
export function varnishdPath(): string | undefined {
  const candidates = process.env.VARNISHD ? [process.env.VARNISHD] : ['/usr/sbin/varnishd', '/usr/local/sbin/varnishd'];
  for (const p of candidates) if (existsSync(p)) return p;
  return undefined;
}

/** apt-get install varnish, varnish-modules and gcc (VCL is compiled to C), only when missing. */
export function installVarnish(): void {
  const missing = ['varnish', 'varnish-modules', 'gcc'].filter((p) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f=${Status}', p], { stdio: 'pipe' }).toString().includes('install ok installed');
    } catch {
      return true;    // dpkg-query fails for packages it has never heard of
    }
  });
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
}

async function httpAnswers(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(port, '127.0.0.1', () => { c.destroy(); res(true); }).on('error', () => res(false));
  });
}

/** Starts one varnishd in `dir/<name>` (again, on the same ports, when it ran there before) and waits until the CLI answers ping and the HTTP port accepts. */
export async function startVarnish(dir: string, name: string, timeoutMs = 30_000): Promise<VarnishInstance> {
  const bin = varnishdPath();
  if (!bin) throw new Error('varnishd not installed: run node scripts/engines.mjs install varnish');
  const home = resolve(dir, name);
  mkdirSync(home, { recursive: true });
  // As root, varnishd drops to its jail users (varnish/vcache), which must be able to read the VCL.
  for (const d of [resolve(dir), home]) chmodSync(d, 0o755);
  const secretFile = join(home, 'secret');
  // A restart in the same folder keeps the ports and the secret, so the registered node works again.
  const previous = existsSync(join(home, 'instance.json')) ? (JSON.parse(readFileSync(join(home, 'instance.json'), 'utf8')) as VarnishInstance) : undefined;
  if (!previous || !existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  const vcl = join(home, 'base.vcl');
  copyFileSync(baseVclPath(), vcl);
  const portOf = (url: string) => Number(/:(\d+)$/.exec(url)![1]);
  const [http, admin] = previous ? [portOf(previous.trafficUrl), portOf(previous.adminAddress)] : [await freePort(), await freePort()];
  const log = openSync(join(home, 'varnishd.log'), 'a');
  // -F: stay in the foreground so the PID we record is varnishd's; -n: private state (VSM, compiled VCL).
  const child = spawn(bin, ['-F', '-a', `127.0.0.1:${http}`, '-T', `127.0.0.1:${admin}`, '-S', secretFile,
    '-f', vcl, '-s', 'malloc,512m', '-n', join(home, 'state')], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const inst: VarnishInstance = { name, trafficUrl: `http://127.0.0.1:${http}`, adminAddress: `127.0.0.1:${admin}`, secretFile, pid: child.pid! };
  writeFileSync(join(home, 'instance.json'), JSON.stringify(inst));
  const cli = new VarnishAdmin(inst.adminAddress, readFileSync(secretFile, 'utf8'), 1000);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`varnishd ${name} exited: see ${join(home, 'varnishd.log')}`);
      try { await cli.command('ping'); if (await httpAnswers(http)) return inst; } catch { await cli.close(); }
      if (Date.now() > deadline) throw new Error(`varnishd ${name} not ready after ${timeoutMs} ms`);
      await sleep(100);
    }
  } finally { await cli.close(); }
}

/** Stops every instance recorded under `dir` by its PID (SIGTERM), and waits for it to exit. */
export async function stopVarnish(dir: string, names?: string[]): Promise<void> {
  const { readdirSync } = await import('node:fs');
  for (const n of names ?? (existsSync(dir) ? readdirSync(dir) : [])) {
    const f = join(dir, n, 'instance.json');
    if (!existsSync(f)) continue;
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as VarnishInstance;
    await stopPid(pid);
  }
}

/** Why varnishd cannot run here, or undefined when it can. */
export function missing(): string | undefined {
  return varnishdPath() ? undefined : 'varnishd not installed (scripts/install-engines.sh varnish)';
}

/** A local instance as the engine list's launchers describe it: varnishd's admin CLI is the control endpoint. */
export async function startLocal(dir: string, name: string): Promise<LocalInstance> {
  const inst = await startVarnish(dir, name);
  return { trafficUrl: inst.trafficUrl, pid: inst.pid, rawPurge: { origin: inst.trafficUrl, method: 'PURGE', pathPrefix: '' }, control: { url: inst.adminAddress, secret: readFileSync(inst.secretFile, 'utf8'), secretFile: inst.secretFile } };
}

export const stopLocal = stopVarnish;
