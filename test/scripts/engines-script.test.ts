// scripts/engines.mjs: two runs at once (two users, or one user twice) each get their own scratch
// directory, and each run's engines and directory go when it is stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { engineMissing } from '../../src/edge/local-engines.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Run {
  child: ChildProcess;
  dir: string;
  trafficUrl: string;
  exited: Promise<number | null>;
}

/** Starts one Varnish through the script and waits until it says it runs. */
function startRun(): Promise<Run> {
  const child = spawn(process.execPath, [path.join(root, 'scripts/engines.mjs'), 'start', 'varnish'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 30 s: ${out}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (!out.includes('running;')) return;
      clearTimeout(timer);
      const dir = /^scratch directory (\S+)/m.exec(out)?.[1];
      const trafficUrl = /--traffic (\S+)/.exec(out)?.[1];
      if (!dir || !trafficUrl) return reject(new Error(`unexpected output: ${out}`));
      resolve({ child, dir, trafficUrl, exited });
    });
    void exited.then((code) => reject(new Error(`exited ${code} before running: ${out}`)));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 2000 });
    await res.body.dump();
    return true;
  } catch {
    return false;
  }
}

test('two runs at once use two scratch directories, and each removes its own and stops its engine on SIGTERM', async (t) => {
  const missing = await engineMissing('varnish');
  if (missing) return t.skip(missing);
  const settled = await Promise.allSettled([startRun(), startRun()]);
  const runs = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    const [a, b] = runs;
    assert.notEqual(a.dir, b.dir);
    for (const r of runs) {
      assert.ok(fs.existsSync(path.join(r.dir, 'varnish-1')), `${r.dir} holds its node`);
      assert.ok(await answers(r.trafficUrl), `${r.trafficUrl} serves`);
    }
    // Stopping one leaves the other running, its directory and engine intact.
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.equal(fs.existsSync(a.dir), false, 'the first run removed its directory');
    assert.equal(await answers(a.trafficUrl), false, 'the first run stopped its engine');
    assert.ok(fs.existsSync(path.join(b.dir, 'varnish-1')), 'the second run kept its directory');
    assert.ok(await answers(b.trafficUrl), 'the second run still serves');
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
    assert.equal(fs.existsSync(b.dir), false);
  } finally {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGTERM');
  }
});
