// Section 6: CPU per process group (serve, workers, agents, edges, PostgreSQL backends) from /proc.
import fs from 'node:fs';
import pg from 'pg';
import { Pool } from 'undici';
import { msSince, now } from '../stats.js';
import { type CpuShare } from './results.js';
import { Stack } from './processes.js';

export const TICK_MS = 10;

/** utime+stime of a process, ms; null when gone. */
export function procMs(pid: number): number | null {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const r = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(r[11]) + Number(r[12])) * TICK_MS;
  } catch {
    return null;
  }
}

export function pidsByComm(comm: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function machineBusyMs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_MS;
}

/** The bench's own connections to a scratch database: named, so that the CPU count leaves them out. */
export function benchPool(url: string, stack: Stack): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'cachectl-bench' });
  stack.push(() => pool.end());
  return pool;
}

/**
 * PostgreSQL processes by pid: `postgres`, the backends of this database (cachectl's connections; other
 * databases on the server, e.g. other people's tests, are left out), and `pg shared`, the server's
 * background processes (WAL writer, checkpointer: shared by every database).
 */
export async function pgPids(pool: pg.Pool): Promise<Record<string, number[]>> {
  const r = await pool.query(
    `select pid, datname is not null as mine from pg_stat_activity
     where application_name <> 'cachectl-bench' and (datname = current_database() or datname is null)`,
  );
  const rows = r.rows as Array<{ pid: number; mine: boolean }>;
  return { postgres: rows.filter((x) => x.mine).map((x) => x.pid), 'pg shared': rows.filter((x) => !x.mine).map((x) => x.pid) };
}

/**
 * CPU over a window of: fixed process groups (our children), servers found by command name
 * (nats-server), and PostgreSQL's processes of the database behind `pool`, whose set changes as pools
 * connect: a backend present at the end and not at the start was born inside the window.
 */
export async function startMeter(groups: Record<string, number[]>, pool?: pg.Pool, comms: Record<string, string> = {}): Promise<() => Promise<CpuShare>> {
  const pids0 = pool ? await pgPids(pool) : {};
  const fixed = { ...groups, ...Object.fromEntries(Object.entries(comms).map(([k, c]) => [k, pidsByComm(c)])) };
  const read = (pids: number[]) => new Map(pids.map((p) => [p, procMs(p) ?? 0]));
  const start = Object.fromEntries(Object.entries({ ...fixed, ...pids0 }).map(([k, pids]) => [k, read(pids)]));
  const wall0 = now();
  const bench0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  return async () => {
    const wallMs = msSince(wall0);
    const ms: Record<string, number> = {};
    const pids1 = pool ? await pgPids(pool) : {};
    for (const [k, pids] of Object.entries({ ...fixed, ...pids1 })) {
      ms[k] = 0;
      for (const [p, v] of read(pids)) ms[k] += v - (start[k]?.get(p) ?? 0);
    }
    const b = process.cpuUsage(bench0);
    ms.bench = (b.user + b.system) / 1000;
    const ours = Object.values(ms).reduce((x, v) => x + v, 0);
    ms.other = Math.max(0, machineBusyMs() - machine0 - ours);
    const cores: Record<string, number> = {};
    for (const [k, v] of Object.entries(ms)) cores[k] = Math.round((v / wallMs) * 100) / 100;
    return { wallMs: Math.round(wallMs), cores };
  };
}

export function addCpu(a: CpuShare | undefined, b: CpuShare): CpuShare {
  if (!a) return b;
  const wallMs = a.wallMs + b.wallMs;
  const cores: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.cores), ...Object.keys(b.cores)])) {
    cores[k] = Math.round((((a.cores[k] ?? 0) * a.wallMs + (b.cores[k] ?? 0) * b.wallMs) / wallMs) * 100) / 100;
  }
  return { wallMs, cores };
}
export function coresText(c: CpuShare): string {
  return Object.entries(c.cores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(' / ');
}
