// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, optionally only for
// samples inside a time window. Profile timestamps are CLOCK_MONOTONIC microseconds on Linux, the
// same clock as process.hrtime.bigint(), so a window measured in the benchmark selects one phase.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

export interface ProfileSummary {
  file: string;
  /** The span of the window(s) the samples were taken from. */
  window: { fromUs: number; toUs: number } | null;
  windowMatched: boolean;
  sampledMs: number;
  top: HotFunction[];
  /** Self time by where the code lives (package, node internals, cachectl source, GC, idle). */
  byArea: Array<{ area: string; selfMs: number; selfPct: number }>;
  /**
   * Each sample charged to the innermost cachectl function on its stack (after an await, the resumed
   * async function): which of cachectl's own code paths the library time (Kysely, SQLite) is spent for.
   */
  byCachectlFrame: Array<{ name: string; where: string; ms: number; pct: number }>;
}

function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'program (native, outside JS)';
  if (url === '') return `native: ${name || '(anonymous)'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)/.exec(url);
  if (src) return `cachectl ${src[1]}`;
  return url;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
}

export function latestProfile(dir: string): string | null {
  if (!fs.existsSync(dir)) return null;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  files.sort((a, b) => fs.statSync(path.join(dir, b)).mtimeMs - fs.statSync(path.join(dir, a)).mtimeMs);
  return path.join(dir, files[0]);
}

export function summarizeProfile(file: string, windowOrList?: { fromUs: number; toUs: number } | Array<{ fromUs: number; toUs: number }>, topN = 20): ProfileSummary {
  const list = windowOrList === undefined ? [] : Array.isArray(windowOrList) ? windowOrList : [windowOrList];
  const window = list.length === 0 ? undefined : { fromUs: Math.min(...list.map((w) => w.fromUs)), toUs: Math.max(...list.map((w) => w.toUs)) };
  const inside = (t: number) => list.some((w) => t >= w.fromUs && t <= w.toUs);
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isOurs = (n: ProfileNode) => n.callFrame.url.includes('/dist/src/');
  const owner = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = owner.get(id);
    if (cached !== undefined) return cached;
    let cur: number | undefined = id;
    let key = '(no cachectl frame)';
    while (cur !== undefined) {
      const n = byId.get(cur);
      if (n && isOurs(n)) {
        key = `${n.callFrame.functionName || '(anonymous)'}@${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
        break;
      }
      cur = parent.get(cur);
    }
    owner.set(id, key);
    return key;
  };
  // Only trust the window if it overlaps the profile's own span.
  const windowMatched = window !== undefined && window.fromUs < p.endTime && window.toUs > p.startTime;
  const self = new Map<number, number>();
  let t = p.startTime;
  let sampled = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (windowMatched && !inside(t)) continue;
    // A sample's weight: the gap to the next sample (the usual convention), else this delta.
    const w = p.timeDeltas[i + 1] ?? dt;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + w);
    sampled += w;
  }
  const byFunc = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const e = byFunc.get(key) ?? { name, where, us: 0 };
    e.us += us;
    byFunc.set(key, e);
    const area = areaOf(cf.url, cf.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const byOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const k = ownerOf(id);
    byOwner.set(k, (byOwner.get(k) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / Math.max(1, sampled)) * 1000) / 10;
  return {
    file,
    window: window ?? null,
    windowMatched,
    sampledMs: Math.round(sampled / 1000),
    top: [...byFunc.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.us / 1000), selfPct: pct(e.us) })),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), selfPct: pct(us) })),
    byCachectlFrame: [...byOwner.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([k, us]) => {
        const at = k.indexOf('@');
        return { name: at < 0 ? k : k.slice(0, at), where: at < 0 ? '' : k.slice(at + 1), ms: Math.round(us / 1000), pct: pct(us) };
      }),
  };
}
