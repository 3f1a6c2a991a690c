// `node dist/bench/second-start.js`: the time from `npm start` to "listening" when dist/ is current
// (issue target: at most 3 s on the reference machine), beside a start of the built server alone. The
// first `npm start` builds if needed and creates the data directory; then BENCH_STARTS more are timed.
// Reported, not asserted. Each start runs in its own process group, ended by its id.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STARTS = Number(process.env.BENCH_STARTS ?? 3);

/** Runs the command until a line says "listening"; resolves with the milliseconds it took. */
async function timeToListening(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${stderr}`)));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if (/cachectl API listening on/.test(line)) resolve(performance.now() - started);
      });
    });
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-start-'));
try {
  const serveArgs = ['--data-dir', dataDir, '--port', '0', '--builtin-edges', '0'];
  const npmStart = () => timeToListening('npm', ['start', '--silent', '--', ...serveArgs]);
  const first = await npmStart();
  const npm: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    npm.push(await npmStart());
    direct.push(await timeToListening(process.execPath, [path.join(root, 'dist/src/cli/main.js'), 'serve', ...serveArgs]));
  }
  const ms = (xs: number[]) => xs.map((x) => `${Math.round(x)}`).join(', ');
  console.log(`first npm start (builds when dist/ is stale):  ${Math.round(first)} ms`);
  console.log(`npm start, dist/ current (target <= 3000 ms):  ${ms(npm)} ms`);
  console.log(`node dist/src/cli/main.js serve alone:          ${ms(direct)} ms`);
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
