// CPU time of groups of processes with their descendants (varnishd's worker child, nginx's workers),
// read from /proc, so that an engine phase can say which of server, engines, agents or the bench
// process was busy. Linux only; a group whose processes are gone counts what is left.
import fs from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime/stime of a /proc stat file (a process, or one thread under task/), or null when it is gone. */
function statCpu(file: string): { user: number; system: number } | null {
  try {
    const stat = fs.readFileSync(file, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) * TICK_MS, system: Number(rest[12]) * TICK_MS };
  } catch {
    return null;
  }
}

/** Every live process whose ancestry includes one of `roots` (the roots included). */
function withDescendants(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // Field 4 (ppid) is the second after the ")" that closes the command name.
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const set = new Set(roots);
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 32; p = parent.get(p), hops++) {
      if (set.has(p)) {
        set.add(pid);
        break;
      }
    }
  }
  return [...set];
}

/** Busy CPU milliseconds of the whole machine (all cores, /proc/stat), to tell other load from ours. */
function machineBusyMs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  return busy * TICK_MS;
}

/** A process's CPU, or with `main` only its main thread (a Node event loop: 1 core means saturated). */
function groupCpuMs(pids: number[], main = false): { total: number; system: number } {
  const ms = { total: 0, system: 0 };
  for (const pid of pids) {
    const c = statCpu(main ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`);
    if (c) {
      ms.total += c.user + c.system;
      ms.system += c.system;
    }
  }
  return ms;
}

export interface GroupCpu {
  wallMs: number;
  /**
   * CPU milliseconds per group over the phase (the bench group is this process; `other` is the rest of
   * the machine's busy time: processes not ours, e.g. other work on a shared host).
   */
  cpuMs: Record<string, number>;
  /** The same as a share of one core. */
  cores: Record<string, number>;
  /** Kernel part of cpuMs (syscalls: socket I/O, fsync), per group. */
  systemMs: Record<string, number>;
}

/** Starts counting now; the process set of each group is fixed at construction. */
export class GroupCpuMeter {
  private readonly wall0 = process.hrtime.bigint();
  private readonly bench0 = process.cpuUsage();
  private readonly groups: Array<[string, number[], boolean, { total: number; system: number }]>;
  private readonly machine0 = machineBusyMs();

  /** `mainThreads`: extra entries that count one process's main thread alone (not in `other`'s sum). */
  constructor(groups: Record<string, number[]>, mainThreads: Record<string, number> = {}) {
    this.groups = [
      ...Object.entries(groups).map(([name, roots]): [string, number[], boolean, { total: number; system: number }] => {
        const pids = withDescendants(roots);
        return [name, pids, false, groupCpuMs(pids)];
      }),
      ...Object.entries(mainThreads).map(([name, pid]): [string, number[], boolean, { total: number; system: number }] => [name, [pid], true, groupCpuMs([pid], true)]),
    ];
  }

  stop(): GroupCpu {
    const wallMs = Number(process.hrtime.bigint() - this.wall0) / 1e6;
    const b = process.cpuUsage(this.bench0);
    const cpuMs: Record<string, number> = {};
    const systemMs: Record<string, number> = {};
    let threads = 0;
    for (const [name, pids, main, start] of this.groups) {
      const end = groupCpuMs(pids, main);
      cpuMs[name] = end.total - start.total;
      systemMs[name] = end.system - start.system;
      if (main) threads += cpuMs[name];
    }
    cpuMs.bench = Math.round((b.user + b.system) / 1000);
    systemMs.bench = Math.round(b.system / 1000);
    const ours = Object.values(cpuMs).reduce((a, v) => a + v, 0) - threads;
    cpuMs.other = Math.max(0, machineBusyMs() - this.machine0 - ours);
    const cores: Record<string, number> = {};
    for (const [k, v] of Object.entries(cpuMs)) cores[k] = Math.round((v / wallMs) * 100) / 100;
    return { wallMs: Math.round(wallMs), cpuMs, cores, systemMs };
  }
}

/** Sums the CPU of several phases of the same groups (alternating blocks). */
export function addGroupCpu(a: GroupCpu | undefined, b: GroupCpu): GroupCpu {
  if (!a) return b;
  const wallMs = a.wallMs + b.wallMs;
  const cpuMs: Record<string, number> = {};
  const cores: Record<string, number> = {};
  const systemMs: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.cpuMs), ...Object.keys(b.cpuMs)])) {
    cpuMs[k] = (a.cpuMs[k] ?? 0) + (b.cpuMs[k] ?? 0);
    cores[k] = Math.round((cpuMs[k] / wallMs) * 100) / 100;
  }
  for (const k of new Set([...Object.keys(a.systemMs), ...Object.keys(b.systemMs)])) systemMs[k] = (a.systemMs[k] ?? 0) + (b.systemMs[k] ?? 0);
  return { wallMs, cpuMs, cores, systemMs };
}
