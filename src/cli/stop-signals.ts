// SIGTERM and SIGINT for the long-running commands (serve, edge, agent): the first one stops gracefully
// and exits 0, or exits 1 after timeoutMs with a line saying what was left (a service manager's stop
// timeout should be a little longer); a second one exits at once, 128 + the signal's number.
import os from 'node:os';
import { exitAfterFlush, type Logger } from '../logging/logger.js';
import { startupLog } from './process-logger.js';

export interface StopOptions {
  /** The command, for the log lines. */
  name: string;
  logger: Logger;
  timeoutMs: number;
  stop(): Promise<void>;
  /** What the stop is waiting for now, said when it runs out of time. */
  waitingFor?(): string | undefined;
}

/** How long edge and agent take to stop gracefully (serve has --shutdown-timeout-ms, default the same). */
// Longer than the outcome writer's 10 s drain bound (engine/outcome-writer.ts), so that a stop during a store
// outage still says how many outcomes it could not write before the timeout.
export const DEFAULT_STOP_TIMEOUT_MS = 20_000;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
// A second signal: the log's last lines get this long to go out, no more.
const AT_ONCE_MS = 200;

export function exitOnStopSignals(options: StopOptions): void {
  // Called once the command has started: its start-up lines go out now, not with the next chunk of the log.
  options.logger.flush();
  let stopping = false;
  // The first exit decided wins: a stop that finishes while the timeout's exit flushes the log must not turn 1 into 0.
  let exiting = false;
  const exit = (code: number, waitMs?: number) => {
    if (exiting) return;
    exiting = true;
    exitAfterFlush(options.logger, code, waitMs);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.logger.error({ signal, left: options.waitingFor?.() }, `${options.name}: ${signal} again, exiting at once${left(options)}`);
      exit(128 + os.constants.signals[signal], AT_ONCE_MS);
      return;
    }
    stopping = true;
    startupLog(options.logger).info({ signal, timeout_ms: options.timeoutMs }, `${options.name}: ${signal}, stopping (at most ${options.timeoutMs} ms; a second signal exits at once)`);
    const timer = setTimeout(() => {
      options.logger.error({ left: options.waitingFor?.() }, `${options.name}: not stopped within ${options.timeoutMs} ms${left(options)}`);
      exit(1);
    }, options.timeoutMs);
    options.stop().then(
      () => {
        clearTimeout(timer);
        startupLog(options.logger).info(`${options.name}: stopped`);
        exit(0);
      },
      (err: unknown) => {
        options.logger.error({ error: err instanceof Error ? err.message : String(err) }, `${options.name}: stopping failed`);
        exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function left(options: StopOptions): string {
  const what = options.waitingFor?.();
  return what ? `; left: ${what}` : '';
}
