// Putting a new rendered include in front of a running nginx: swap it in atomically, let `nginx -t`
// judge it (putting the old one back when refused), and signal the master to reload.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NginxPaths {
  /** nginx -p (relative paths in the config resolve against it). */
  prefix: string;
  /** nginx -c. */
  conf: string;
  /** The include cachectl renders. */
  serversFile: string;
  pidFile: string;
  nginxBin?: string;
}

/** Writes beside and renames: nginx (a reload, a restart) never reads half a file. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, text);
  await fsp.rename(tmp, file);
}

/**
 * Makes `text` the servers include if `nginx -t` accepts the whole config with it; otherwise puts the
 * previous include back and rejects with nginx's own words. nginx -t reads the include by the path the
 * main config names, so the candidate has to be in place while it is tested.
 */
export async function installServers(paths: NginxPaths, text: string, previous: string, timeoutMs: number): Promise<void> {
  await writeAtomic(paths.serversFile, text);
  try {
    await run(paths.nginxBin ?? 'nginx', ['-t', '-q', '-p', paths.prefix.replace(/\/?$/, '/'), '-c', paths.conf, '-e', 'stderr'], { timeout: timeoutMs });
  } catch (err) {
    await writeAtomic(paths.serversFile, previous);
    const said = ((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message;
    throw new Error(`nginx -t refused the rendered config: ${said.split('\n').slice(-2).join(' ')}`);
  }
}

/** The master's PID from the pid file, checked to be an nginx (a stale file may name another process). */
export function masterPid(pidFile: string): number {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    throw new Error(`nginx is not running: no pid file ${pidFile}`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no nginx pid in ${pidFile}`);
  const comm = `/proc/${pid}/comm`;
  if (existsSync('/proc/self/comm') && (!existsSync(comm) || readFileSync(comm, 'utf8').trim() !== 'nginx')) {
    throw new Error(`nginx is not running: pid ${pid} from ${pidFile} is not an nginx`);
  }
  return pid;
}

/** The last alert-level lines of the error log: why a reload did not take (e.g. a port in use). */
export function recentErrors(prefix: string, sinceMs: number): string {
  const log = join(prefix, 'logs', 'error.log');
  try {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-20);
    const since = new Date(sinceMs - 1000);
    const stamp = (l: string) => new Date(l.slice(0, 19).replace(/\//g, '-').replace(' ', 'T'));
    const bad = lines.filter((l) => /\[(emerg|alert|crit)\]/.test(l) && !(stamp(l) < since));
    return bad.length > 0 ? ` (${log}: ${bad.slice(-2).join(' ')})` : '';
  } catch {
    return '';
  }
}
