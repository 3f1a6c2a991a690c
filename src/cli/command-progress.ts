// A progress bar where a client command's output belongs: stdout, or with --json (stdout is for the
// answers) a terminal's stderr, or nowhere. Ctrl-C leaves the line clean.
import { ProgressBar, type ProgressOutput, type ProgressState } from './progress-bar.js';

export interface CommandProgress {
  update(state: ProgressState): void;
  /** The last state, and the end of the line. */
  finish(state: ProgressState): void;
  /** Always, finished or not (an error, a throw): leaves the line and Ctrl-C as they were. */
  close(): void;
}

export function commandProgress(json: boolean, label: string): CommandProgress | undefined {
  const out: ProgressOutput | undefined = !json ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
  if (!out) return undefined;
  const bar = new ProgressBar(out, { label });
  let finished = false;
  const onSigint = () => {
    bar.abandon();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  return {
    update: (state) => bar.update(state),
    finish: (state) => {
      finished = true;
      bar.finish(state);
      out.write('\n');
    },
    close: () => {
      if (!finished) bar.abandon();
      process.removeListener('SIGINT', onSigint);
    },
  };
}

/** The counts of a task (or of several, summed: a URL list split into tasks is one progress). */
export const countsOf = (t: ProgressState): ProgressState => ({ total: t.total, succeed: t.succeed, failed: t.failed, processing: t.processing });

export function sumCounts(tasks: readonly ProgressState[]): ProgressState {
  const sum = { total: 0, succeed: 0, failed: 0, processing: 0 };
  for (const t of tasks) {
    sum.total += t.total;
    sum.succeed += t.succeed;
    sum.failed += t.failed;
    sum.processing += t.processing;
  }
  return sum;
}
