// A PostgreSQL server of our own, in a scratch directory on a free loopback port, for the local
// cluster when none is running and for tests that restart the database (never the machine's own).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, sleep, stopPid } from '../edge/local-process.js';

export interface PrivatePostgres {
  url: string;
  pid(): number;
  /** Stops the server (fast shutdown: open connections are cut) and starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The directory of initdb/postgres from Debian's packages, or undefined. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? path.join(base, versions[0], 'bin') : undefined;
}

// PostgreSQL refuses to run as root: as root, run it as the packages' postgres user.
const asRoot = process.getuid?.() === 0;
const wrap = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

/** Starts one in a new directory of its own under the system's temporary directory (removed by stop()). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (Debian package postgresql)');
  // Its own directory: the postgres user must reach it, which a private scratch directory may not allow.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-postgres-'));
  const data = path.join(dir, 'data');
  if (asRoot) spawnSync('chown', ['-R', 'postgres', dir]);
  const [initCmd, initArgs] = wrap(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const start = async () => {
    const [cmd, args] = wrap(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200']);
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'postgres.log'), 'a')] });
    for (let i = 0; i < 200; i++) {
      const c = new pg.Client({ connectionString: url });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        await sleep(50);
      }
    }
    throw new Error(`the private PostgreSQL did not start; see ${path.join(dir, 'postgres.log')}`);
  };
  // The postmaster itself, by the PID it records: runuser does not pass signals on.
  const halt = async () => {
    const pidFile = path.join(data, 'postmaster.pid');
    const postmaster = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
    if (Number.isSafeInteger(postmaster) && postmaster > 0) await stopPid(postmaster, 'SIGINT');
    if (child?.pid !== undefined) await stopPid(child.pid, 'SIGTERM');
    child = undefined;
  };
  await start();
  return {
    url,
    pid: () => child?.pid ?? 0,
    restart: async (downMs = 0) => {
      await halt();
      await sleep(downMs);
      await start();
    },
    stop: async () => {
      await halt();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
