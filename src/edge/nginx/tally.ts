// The results of one batch while the engine builds them: some targets fail on their own (a bad
// target, nginx not answering), the others add up counts of files from several steps (the purge
// location, then a walk of the cache) and end as `<word> n`.
import type { EdgeResult } from '../edge-driver.js';
import type { RuleOutcome } from './cache-scan.js';

export type Failure = Extract<EdgeResult, { ok: false }>;

/** A failure of the node (not of the origin); retryable unless trying again cannot help. */
export const inner = (message: string, retryable = true): Failure => ({ ok: false, classify: 'INNER_ERROR', retryable, message });

export class Tally {
  readonly failures: Array<Failure | undefined>;
  readonly counts: number[];

  constructor(size: number) {
    this.failures = new Array<Failure | undefined>(size).fill(undefined);
    this.counts = new Array<number>(size).fill(0);
  }

  /** The first failure of a target stands; later steps do not overwrite it. */
  fail(at: number, f: Failure): void {
    this.failures[at] ??= f;
  }

  /** Adds what a walk did for a target; `what` names the step in a failure. */
  add(at: number, outcome: RuleOutcome, what: string): void {
    if (outcome.error !== undefined) this.fail(at, inner(`${what}: ${outcome.error}`, !outcome.permanent));
    else this.counts[at] += outcome.count;
  }

  results(word: string): EdgeResult[] {
    return this.failures.map((f, at) => f ?? { ok: true, detail: `${word} ${this.counts[at]}` });
  }
}
