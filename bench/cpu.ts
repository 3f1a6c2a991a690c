// CPU time of the server child (/proc/<pid>/stat utime+stime) and of the benchmark process itself
// over a phase, to tell whether a phase was bound by the server's CPU, the client's, or neither
// (waiting: fsync, timers, the network).
import fs from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** User and system CPU milliseconds of a process, or null when it is gone. */
export function childCpu(pid: number): { user: number; system: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" closing the command name: state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) * TICK_MS, system: Number(rest[12]) * TICK_MS };
  } catch {
    return null;
  }
}

export interface CpuUse {
  wallMs: number;
  /** CPU time of the server process over the phase, and as a share of one core. */
  serverCpuMs: number | null;
  serverCores: number | null;
  /** Kernel share of the server's CPU time. */
  serverSystemMs: number | null;
  benchCpuMs: number;
  benchCores: number;
}

export class CpuMeter {
  private readonly wall0 = process.hrtime.bigint();
  private readonly server0: number | null;
  private readonly sys0: number | null;
  private readonly bench0 = process.cpuUsage();

  constructor(private readonly pid: number) {
    const c = childCpu(pid);
    this.server0 = c === null ? null : c.user + c.system;
    this.sys0 = c === null ? null : c.system;
  }

  stop(): CpuUse {
    const wallMs = Number(process.hrtime.bigint() - this.wall0) / 1e6;
    const c1 = childCpu(this.pid);
    const s1 = c1 === null ? null : c1.user + c1.system;
    const b = process.cpuUsage(this.bench0);
    const serverCpuMs = s1 === null || this.server0 === null ? null : s1 - this.server0;
    const benchCpuMs = (b.user + b.system) / 1000;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      wallMs: Math.round(wallMs),
      serverCpuMs,
      serverCores: serverCpuMs === null ? null : r2(serverCpuMs / wallMs),
      serverSystemMs: c1 === null || this.sys0 === null ? null : c1.system - this.sys0,
      benchCpuMs: Math.round(benchCpuMs),
      benchCores: r2(benchCpuMs / wallMs),
    };
  }
}

/**
 * fdatasync latency of a 4 KiB write in `dir` (the SQLite file's file system): context for
 * synchronous=FULL. `append` grows the file each time (a metadata change too), else overwrites.
 */
export function fsyncProbe(dir: string, count = 50, append = false): { p50Ms: number; p99Ms: number } {
  const file = `${dir}/.fsync-probe`;
  const fd = fs.openSync(file, 'w');
  const t: number[] = [];
  try {
    const buf = Buffer.alloc(4096, 1);
    for (let i = 0; i < count; i++) {
      fs.writeSync(fd, buf, 0, buf.length, (append ? i : i % 16) * 4096);
      const s = process.hrtime.bigint();
      fs.fdatasyncSync(fd);
      t.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  t.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50Ms: r(t[Math.floor(count / 2)]), p99Ms: r(t[Math.min(count - 1, Math.ceil(count * 0.99) - 1)]) };
}
