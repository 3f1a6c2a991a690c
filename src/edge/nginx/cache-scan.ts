// Walks of nginx's cache directory for the operations nginx cannot do by itself: every key under a
// directory, and every Vary variant of one key (variants live in files named after the variant, so only
// their KEY line finds them). A walk reads the head of every cached file, whatever the number of rules,
// so calls that arrive while a walk runs are merged into the next one: at most one walk at a time.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CacheLayoutError, cacheFiles, markStale, readHead, removeFile } from './cache-files.js';

export type ScanAction = 'remove' | 'stale';

export interface ScanRule {
  /** A key prefix (directory operations), or a whole key when `exact` (the variants of one URL). */
  key: string;
  exact?: boolean;
  action: ScanAction;
  /** A file to leave alone (the copy a prefetch has just stored). */
  except?: string;
}

export interface RuleOutcome {
  /** Files that matched the rule and were removed or marked stale. */
  count: number;
  /** Why some matching files could not be changed (the first failure). */
  error?: string;
  /** The failure will not go away by itself (a cache file layout this code does not know). */
  permanent?: boolean;
}

export interface ScanStats {
  files: number;
  ms: number;
}

interface Job {
  rules: ScanRule[];
  resolve: (outcomes: RuleOutcome[]) => void;
  reject: (err: unknown) => void;
}

/** Keys are "<scheme><host><path>": rules are looked up by the part before the first '/'. */
const bucketOf = (key: string) => {
  const i = key.indexOf('/');
  return i < 0 ? key : key.slice(0, i);
};

export class CacheScanner {
  private queue: Job[] = [];
  private running = false;
  /** Size and duration of the last walk, for health details and the report of a slow cache. */
  lastScan: ScanStats | undefined;

  /** @param sliceMs how long the walk may hold the event loop before it lets other work run. */
  constructor(
    private readonly cacheDir: string,
    private readonly sliceMs = 5,
  ) {}

  /** Applies the rules in one walk (shared with the calls queued meanwhile); one outcome per rule. */
  run(rules: ScanRule[]): Promise<RuleOutcome[]> {
    if (rules.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ rules, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        // Calls made in the same turn (concurrent batches of the engine) join this walk.
        await yieldToLoop();
        const jobs = this.queue.splice(0);
        try {
          const outcomes = await this.walk(jobs.flatMap((j) => j.rules));
          let at = 0;
          for (const j of jobs) {
            j.resolve(outcomes.slice(at, at + j.rules.length));
            at += j.rules.length;
          }
        } catch (err) {
          for (const j of jobs) j.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async walk(rules: ScanRule[]): Promise<RuleOutcome[]> {
    const outcomes: RuleOutcome[] = rules.map(() => ({ count: 0 }));
    const byBucket = new Map<string, number[]>();
    rules.forEach((r, i) => {
      const b = bucketOf(r.key);
      const list = byBucket.get(b);
      if (list) list.push(i);
      else byBucket.set(b, [i]);
    });
    const started = performance.now();
    let slice = started;
    let files = 0;
    for (const file of cacheFiles(this.cacheDir)) {
      files++;
      const head = readHead(file);
      const candidates = head?.key != null ? byBucket.get(bucketOf(head.key)) : undefined;
      if (head?.key != null && candidates) this.apply(file, head.key, candidates, rules, outcomes);
      if (performance.now() - slice > this.sliceMs) {
        await yieldToLoop();
        slice = performance.now();
      }
    }
    this.lastScan = { files, ms: Math.round(performance.now() - started) };
    return outcomes;
  }

  /** Removal wins over marking stale when rules of both kinds match one file. */
  private apply(file: string, key: string, candidates: number[], rules: ScanRule[], outcomes: RuleOutcome[]): void {
    const matched = candidates.filter((i) => {
      const r = rules[i];
      return r.except !== file && (r.exact ? key === r.key : key.startsWith(r.key));
    });
    if (matched.length === 0) return;
    const action: ScanAction = matched.some((i) => rules[i].action === 'remove') ? 'remove' : 'stale';
    try {
      const done = action === 'remove' ? removeFile(file) : markStale(file);
      if (done) for (const i of matched) outcomes[i].count++;
    } catch (err) {
      for (const i of matched) {
        outcomes[i].error ??= (err as Error).message;
        if (err instanceof CacheLayoutError) outcomes[i].permanent = true;
      }
    }
  }
}
