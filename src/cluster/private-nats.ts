// A NATS server with JetStream of our own, in a scratch directory on a free loopback port, for the
// local cluster when none is running.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, sleep, stopPid } from '../edge/local-process.js';

export const NATS_SERVER = '/usr/sbin/nats-server';

export async function startPrivateNats(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  if (!fs.existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} not found (Debian package nats-server)`);
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'js')], {
    stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'nats.log'), 'a')],
  });
  for (let i = 0; i < 200 && !(await reachable('127.0.0.1', port)); i++) await sleep(50);
  return { url: `nats://127.0.0.1:${port}`, stop: () => stopPid(child.pid!) };
}

/** Whether something accepts TCP connections there. */
export function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('connect', () => done(true)).on('error', () => done(false));
  });
}
