// Progress of a task for `cachectl task <id> --watch`: on a terminal one line redrawn in place ('\r'),
// otherwise (a pipe, a CI log) a plain line when the counts change, at most once per interval, and a
// heartbeat line now and then.

export interface ProgressState {
  total: number;
  succeed: number;
  failed: number;
  processing: number;
}

export interface ProgressOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Shown first, e.g. "task 42". */
  label: string;
  /** Redraw in place; default: the output's isTTY. */
  tty?: boolean;
  /** Plain mode: least time between two lines with different counts. Default 1000 ms. */
  intervalMs?: number;
  /** Plain mode: a line even without change after this long. Default 10000 ms. */
  heartbeatMs?: number;
  now?: () => number;
}

/** `[#####.....]` of `width` cells inside the brackets. */
export function renderBar(done: number, total: number, width: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Whole percent, rounded down: 100% only when everything is finished. */
export function percent(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.floor((Math.min(done, total) * 100) / total);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export class ProgressBar {
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private lastText = '';
  private lastKey = '';
  private lastPrinted = -Infinity;
  private drawn = false;
  private last: ProgressState | undefined;
  private finished = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly options: ProgressOptions,
  ) {
    this.tty = options.tty ?? Boolean(out.isTTY);
    this.intervalMs = options.intervalMs ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  /** The line for a state, without '\r' or a newline. */
  line(state: ProgressState, elapsedMs: number): string {
    const done = state.succeed + state.failed;
    const counts = `${done}/${state.total}  succeed ${state.succeed}  failed ${state.failed}  processing ${state.processing}  ${seconds(elapsedMs)}`;
    if (!this.tty) return `${this.options.label}: ${percent(done, state.total)}% ${counts}`;
    const columns = Math.max(40, this.out.columns || 80) - 1;
    const head = `${this.options.label} `;
    const tail = ` ${String(percent(done, state.total)).padStart(3)}%  ${counts}`;
    const width = Math.max(10, Math.min(40, columns - head.length - tail.length - 2));
    const text = head + renderBar(done, state.total, width) + tail;
    return text.length > columns ? text.slice(0, columns) : text;
  }

  update(state: ProgressState): void {
    if (this.finished) return;
    this.last = state;
    const now = this.now();
    const text = this.line(state, now - this.started);
    if (this.tty) {
      if (text === this.lastText) return;
      this.out.write(`\r${text}\x1b[K`);
      this.lastText = text;
      this.drawn = true;
      return;
    }
    const key = `${state.total}/${state.succeed}/${state.failed}/${state.processing}`;
    const changed = key !== this.lastKey;
    const due = changed ? now - this.lastPrinted >= this.intervalMs : now - this.lastPrinted >= this.heartbeatMs;
    if (!due) return;
    this.out.write(`${text}\n`);
    this.lastKey = key;
    this.lastPrinted = now;
  }

  /** Draws the final state (if given) and ends the line; later updates are ignored. */
  finish(state?: ProgressState): void {
    if (this.finished) return;
    const final = state ?? this.last;
    if (this.tty) {
      if (final) this.update(final);
      if (this.drawn) this.out.write('\n');
    } else if (final) {
      const key = `${final.total}/${final.succeed}/${final.failed}/${final.processing}`;
      if (key !== this.lastKey) this.out.write(`${this.line(final, this.now() - this.started)}\n`);
    }
    this.finished = true;
  }

  /** Ends a half-drawn terminal line, e.g. on Ctrl-C, so the shell prompt starts on its own line. */
  abandon(): void {
    if (this.tty && this.drawn && !this.finished) this.out.write('\n');
    this.finished = true;
  }
}
