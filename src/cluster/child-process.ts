// cachectl's own commands as child processes (serve, agent, edge), started the way an operator
// would, with their output in a log file; resolved once they say they are ready.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopPid } from '../edge/local-process.js';
import { openPrivateAppend } from '../private-files.js';
import { messageOf } from '../logging/log-line.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface CachectlChild {
  pid(): number;
  /** The line that said it was ready (the last start). */
  readyLine(): string;
  /** Starts it (again, after a kill) with the same arguments. */
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `cachectl <args>` with `env` added to this process's environment; stdout and stderr are appended to
 * `logFile`; ready when the message of a stdout line (log-line.ts) passes `ready`. Not started until start(). `nodeArgs` go to node
 * itself (the benchmark's --cpu-prof).
 */
export function cachectlChild(args: string[], env: Record<string, string>, logFile: string, ready: (line: string) => boolean, what: string, nodeArgs: string[] = []): CachectlChild {
  let child: ChildProcess | undefined;
  let line = '';
  return {
    pid: () => child?.pid ?? 0,
    readyLine: () => line,
    start: async () => {
      // 0600: a child's log is its own output, which is nobody else's business.
      const log = openPrivateAppend(logFile);
      const c = spawn(process.execPath, [...nodeArgs, MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', log] });
      fs.closeSync(log);
      child = c;
      line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s; see ${logFile}`)), 60_000);
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`${what} exited with ${code}; see ${logFile}`));
        };
        c.once('exit', onExit);
        readline.createInterface({ input: c.stdout! }).on('line', (l) => {
          fs.appendFileSync(logFile, `${l}\n`);
          if (!ready(messageOf(l))) return;
          clearTimeout(timer);
          c.off('exit', onExit);
          resolve(l);
        });
      });
    },
    kill: async (signal = 'SIGTERM') => {
      const pid = child?.pid;
      child = undefined;
      if (pid !== undefined) await stopPid(pid, signal);
    },
  };
}
