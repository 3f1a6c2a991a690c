// Memory of a child process from /proc/<pid>/status: VmRSS sampled every 100 ms, and VmHWM (the
// kernel's peak resident set) read just before the process is stopped.
import fs from 'node:fs';

export interface ProcMemory {
  vmRssKb: number;
  vmHwmKb: number;
  rssAnonKb: number;
  rssFileKb: number;
}

export function readProcMemory(pid: number): ProcMemory | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { vmRssKb: kb('VmRSS'), vmHwmKb: kb('VmHWM'), rssAnonKb: kb('RssAnon'), rssFileKb: kb('RssFile') };
}

export interface RssReport {
  /** VmHWM at the end of the run, MB. */
  peakHwmMb: number;
  /** Highest sampled VmRSS, MB, and the split of that sample. */
  peakSampledRssMb: number;
  peakSampledAnonMb: number;
  peakSampledFileMb: number;
  samples: number;
  /** Sampled VmRSS at each phase mark, MB. */
  marks: Record<string, number>;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

export class RssSampler {
  private timer: NodeJS.Timeout;
  private peak: ProcMemory | null = null;
  private last: ProcMemory | null = null;
  private count = 0;
  private readonly marks: Record<string, number> = {};

  constructor(private readonly pid: number, intervalMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): ProcMemory | null {
    const m = readProcMemory(this.pid);
    if (m === null) return null;
    this.count++;
    this.last = m;
    if (this.peak === null || m.vmRssKb > this.peak.vmRssKb) this.peak = m;
    return m;
  }

  /** Records the current VmRSS under a label (e.g. "after intake"). */
  mark(label: string): void {
    const m = this.sample();
    if (m) this.marks[label] = mb(m.vmRssKb);
  }

  /** Takes a final reading (call while the process is still alive) and stops sampling. */
  finish(): RssReport {
    clearInterval(this.timer);
    this.sample();
    const last = this.last;
    const peak = this.peak;
    return {
      peakHwmMb: mb(Math.max(last?.vmHwmKb ?? 0, peak?.vmHwmKb ?? 0)),
      peakSampledRssMb: mb(peak?.vmRssKb ?? 0),
      peakSampledAnonMb: mb(peak?.rssAnonKb ?? 0),
      peakSampledFileMb: mb(peak?.rssFileKb ?? 0),
      samples: this.count,
      marks: this.marks,
    };
  }
}
