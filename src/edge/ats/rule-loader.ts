// Adds regex_revalidate rules and waits until the plugin has loaded them. Requests that arrive while a
// load runs are coalesced into the next one (one file write and one reload for all of them).
//
// Loading: write the file (atomically, with an mtime later than any before: the plugin re-reads it only
// when its mtime second is newer than at its last load), then `traffic_ctl config reload` (traffic_manager
// tells the plugin at once; without traffic_manager the plugin's own 60 s timer picks the file up). Done
// when the plugin's --state-file lists each new rule with our expiry and type: it rewrites that file on
// every load, with the epoch it gave each rule.
import { promises as fsp } from 'node:fs';
import { allLoaded, formatRules, mergeRules, parseRules, parseState, type Rule } from './revalidate-rules.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RuleLoaderOptions {
  rulesFile: string;
  stateFile: string;
  /** Asks ATS to reload (traffic_ctl), or nothing when the plugin's timer must do it. */
  reload: () => Promise<void>;
  timeoutMs: number;
}

interface Waiter {
  rules: Rule[];
  resolve: (epoch: number) => void;
  reject: (e: Error) => void;
}

export class RuleLoader {
  private queue: Waiter[] = [];
  private running?: Promise<void>;
  private lastMtime = 0;
  /** The newest epoch the plugin gave a rule we loaded (0: none yet). */
  lastEpoch = 0;

  constructor(private readonly opts: RuleLoaderOptions) {}

  /** Resolves with the epoch (s) the plugin gave these rules, once they are live. */
  add(rules: Rule[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rules, resolve, reject });
      this.kick();
    });
  }

  /** True while rules are queued or loading. */
  get busy(): boolean {
    return this.running !== undefined || this.queue.length > 0;
  }

  /** Resolves when nothing is queued or loading (failures included). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async count(): Promise<number> {
    return parseRules(await fsp.readFile(this.opts.rulesFile, 'utf8').catch(() => '')).length;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      const epoch = await this.load(batch.flatMap((w) => w.rules));
      for (const w of batch) w.resolve(epoch);
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
    }
  }

  private async load(added: Rule[]): Promise<number> {
    const { rulesFile, stateFile } = this.opts;
    const now = Math.floor(Date.now() / 1000);
    const current = parseRules(await fsp.readFile(rulesFile, 'utf8').catch(() => ''));
    const { rules, confirm } = mergeRules(current, added, now);
    // A later mtime second than the plugin has seen: ours, and the file's (another process, a restart).
    const fileMtime = await fsp.stat(rulesFile).then((s) => Math.floor(s.mtimeMs / 1000), () => 0);
    this.lastMtime = Math.max(now, fileMtime + 1, this.lastMtime + 1);
    // mtime set before the rename: the plugin's timer never sees the new text with an old mtime.
    const tmp = `${rulesFile}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, formatRules(rules));
    await fsp.utimes(tmp, this.lastMtime, this.lastMtime);
    await fsp.rename(tmp, rulesFile);
    await this.opts.reload();
    const deadline = Date.now() + this.opts.timeoutMs;
    for (;;) {
      const state = parseState(await fsp.readFile(stateFile, 'utf8').catch(() => ''));
      if (allLoaded(state, confirm)) {
        const ours = new Set(confirm.map((r) => r.regex));
        const epoch = Math.max(0, ...state.filter((r) => ours.has(r.regex)).map((r) => r.epoch));
        this.lastEpoch = Math.max(this.lastEpoch, epoch);
        return epoch;
      }
      if (Date.now() > deadline) throw new Error(`regex_revalidate did not load the new rules within ${this.opts.timeoutMs} ms (see ATS's log/diags.log)`);
      await sleep(10);
    }
  }
}
