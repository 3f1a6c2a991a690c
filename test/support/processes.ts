// Child processes of the built CLI, for tests that kill and restart them.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { messageOf } from '../../src/logging/log-line.js';

export const MAIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../src/cli/main.js');

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The first of `length` consecutive free ports (the built-in edges take port, port + 1, …). */
export async function freePortRun(length: number): Promise<number> {
  for (let tries = 0; ; tries++) {
    const first = await freePort();
    const held: net.Server[] = [];
    try {
      for (let p = first; p < first + length; p++) {
        const s = net.createServer();
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(p, '127.0.0.1', resolve);
        });
        held.push(s);
      }
      return first;
    } catch (err) {
      if (tries >= 20) throw err;
    } finally {
      for (const s of held) await new Promise((r) => s.close(r));
    }
  }
}

/** Starts `cachectl <args>` and resolves once a stdout line matches `ready`. */
export async function startCli(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cachectl ${args[0]} did not start: ${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`cachectl ${args[0]} exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (ready.test(messageOf(line))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/**
 * Child processes and other things a test file starts, ended in its `after`: stopped children are
 * continued first (a SIGSTOPped one would not die of SIGKILL's wait), then killed, then the cleanups
 * run last-added first.
 */
export function processScope(): { children: ChildProcess[]; cleanups: Array<() => Promise<unknown>>; end(): Promise<void> } {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  return {
    children,
    cleanups,
    async end() {
      for (const c of children) {
        if (c.signalCode === null && c.exitCode === null) c.kill('SIGCONT');
        await kill(c);
      }
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}
