// What every local engine instance needs (see each engine's launcher.ts): shipped files found from src/ or dist/src/,
// free loopback ports, and stopping a process by PID.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file shipped at the repository root (e.g. engines/nginx/nginx.conf), found from src/ or dist/src/. */
export function shippedFile(...parts: string[]): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 6; i++, dir = resolve(dir, '..')) {
    const p = join(dir, ...parts);
    if (existsSync(p)) return p;
  }
  throw new Error(`${parts.join('/')} not found`);
}

/** A free loopback port (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => res(port));
      })
      .on('error', rej);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Signals a process and waits (up to 5 s) until it is gone; quiet when it is gone already. */
export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(25);
  }
}
