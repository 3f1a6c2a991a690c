// Single store: PostgreSQL only for the shared limiter (the in-process one uses no store).
// Per-account rate limits: one algorithm (GCRA, api/rate-cell.ts) in one process and across processes.
// The algorithm is tested with explicit times; the in-process limiter and the shared one (real
// PostgreSQL) must decide a sequence alike; three real processes bursting at one account across a
// second boundary must stay within rate × window + burst. Before GCRA the shared limiter counted per
// fixed second, and a burst just before a boundary and another just after were both admitted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { admit, cellLimit, EMPTY_TAT, toMicros } from '../../src/api/rate-cell.js';
import { RateLimiter, type RateGate } from '../../src/api/rate-limit.js';
import { SharedRateLimiter } from '../../src/api/shared-rate-limit.js';
import { createStore, type Store } from '../../src/store/store.js';
import { freshDatabase } from '../support/postgres.js';

const RATE = 20;
const RATES = { create: RATE, query: 0, urlTasks: 0, quota: 0 };

/** Feeds calls at the given times (ms) to the algorithm alone; answers which were admitted. */
function run(times: number[], rate = RATE): boolean[] {
  const limit = cellLimit(rate);
  let tat = EMPTY_TAT;
  return times.map((t) => {
    const r = admit(tat, toMicros(t), limit);
    if (r.admitted) tat = r.tat;
    return r.admitted;
  });
}
const count = (xs: boolean[]) => xs.filter(Boolean).length;
const repeat = (n: number, t: number) => Array<number>(n).fill(t);

test('the algorithm: a burst of N is admitted at once, the N+1st is refused until 1/N s has passed', () => {
  const t0 = 1_700_000_000_000;
  assert.deepEqual(run([...repeat(RATE + 1, t0)]), [...repeat(RATE, 1).map(() => true), false]);
  const limit = cellLimit(RATE);
  let tat = EMPTY_TAT;
  for (let i = 0; i < RATE; i++) tat = (admit(tat, toMicros(t0), limit) as { tat: number }).tat;
  assert.deepEqual(admit(tat, toMicros(t0), limit), { admitted: false, retryAfterMs: 1000 / RATE });
  assert.equal(admit(tat, toMicros(t0 + 1000 / RATE - 1), limit).admitted, false, 'not before one call of refill');
  assert.equal(admit(tat, toMicros(t0 + 1000 / RATE), limit).admitted, true, 'one call of refill after 1/N s');
});

test('the algorithm: it refills at the rate, and after a second of rest the burst is N again, not more', () => {
  const t0 = 1_700_000_000_000;
  // Drained, then one call every ms for 5 s: N per second get through.
  const steady = [...repeat(RATE, t0), ...Array.from({ length: 5000 }, (_, i) => t0 + 1 + i)];
  assert.equal(count(run(steady)), RATE + 5 * RATE, 'the burst, then one every 1/N s');
  // Rest far longer than a second: still a burst of N, the unused time does not pile up.
  assert.equal(count(run([...repeat(RATE, t0), ...repeat(3 * RATE, t0 + 60_000)])), 2 * RATE);
});

test('the algorithm: no second burst at a second boundary (the fixed window admitted N before it and N after)', () => {
  const boundary = 1_700_000_001_000;
  const admitted = run([...repeat(RATE, boundary - 1), ...repeat(RATE, boundary + 1)]);
  assert.equal(count(admitted), RATE, 'two ms of refill is not one call');
});

test('the algorithm: rates that do not divide a second still give a burst of exactly N', () => {
  for (const rate of [3, 7, 30, 999, 1_200_000]) {
    const t0 = 1_700_000_000_123;
    assert.equal(count(run(repeat(rate + 1, t0), rate)), rate, `rate ${rate}`);
  }
});

let store: Store;
let drop: () => Promise<void>;
before(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  store = await createStore({ kind: 'postgres', url: database.url, poolSize: 2 });
});
after(async () => {
  await store?.close();
  await drop?.();
});

/** true = refused. The limiter before GCRA threw APIGW.0308 instead of answering; counted the same. */
async function refused(gate: RateGate, account: string, now: number): Promise<boolean> {
  try {
    return (await gate.take(account, 'create', now)) !== undefined;
  } catch (err) {
    if ((err as { code?: string }).code === 'APIGW.0308') return true;
    throw err;
  }
}

test('the shared limiter (PostgreSQL) decides a sequence exactly as the in-process one, with the same wait', async () => {
  const boundary = 1_700_000_002_000;
  const times = [
    ...repeat(RATE, boundary - 1),
    ...repeat(RATE, boundary + 1),
    ...Array.from({ length: 300 }, (_, i) => boundary + 2 + i * 7),
    ...repeat(2 * RATE, boundary + 10_000),
  ];
  const local = new RateLimiter(RATES);
  const shared = new SharedRateLimiter(store.db, RATES);
  const localRefused: boolean[] = [];
  const sharedRefused: boolean[] = [];
  for (const t of times) {
    localRefused.push(await refused(local, 'acct-same', t));
    sharedRefused.push(await refused(shared, 'acct-same', t));
  }
  assert.equal(localRefused.slice(0, 2 * RATE).filter((r) => !r).length, RATE, 'one burst across the boundary');
  assert.deepEqual(sharedRefused, localRefused);
  // The waits agree too (Retry-After is made from them).
  const l = await local.take('acct-same', 'create', boundary + 10_000);
  const s = await shared.take('acct-same', 'create', boundary + 10_000);
  assert.ok(l && s);
  assert.deepEqual(s, l);
  // Accounts and classes do not share a bucket.
  assert.equal(await refused(shared, 'acct-other', boundary + 10_000), false);
  assert.equal(await new RateLimiter(RATES).take('acct-same', 'query', boundary + 10_000), undefined, 'query is unlimited here');
});

const BURST_CHILD = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../support/rate-burst.js');

interface BurstProcess {
  ready: Promise<void>;
  start(fromMs: number, untilMs: number): void;
  result: Promise<{ admitted: number[]; refused: number }>;
}

function burstProcess(url: string): BurstProcess {
  const child = spawn(process.execPath, [BURST_CHILD, url, String(RATE)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (d) => (err += d));
  const result = new Promise<{ admitted: number[]; refused: number }>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`burst process exited with ${code}: ${err}`))));
  });
  return { ready: Promise.race([ready, result.then(() => undefined)]), start: (from, until) => child.stdin.end(`${from} ${until}\n`), result };
}

test('three processes bursting at one account across a second boundary stay within rate × window + burst', async () => {
  const database = await freshDatabase();
  try {
    await (await createStore({ kind: 'postgres', url: database.url, poolSize: 1 })).close();
    const processes = [0, 1, 2].map(() => burstProcess(database.url));
    await Promise.all(processes.map((p) => p.ready));
    // From 80 ms before the next second boundary (at least 200 ms away) to 500 ms after it.
    const boundary = Math.ceil((Date.now() + 280) / 1000) * 1000;
    for (const p of processes) p.start(boundary - 80, boundary + 500);
    const runs = await Promise.all(processes.map((p) => p.result));
    const admitted = runs.flatMap((r) => r.admitted).sort((a, b) => a - b);
    const attempts = admitted.length + runs.reduce((n, r) => n + r.refused, 0);
    assert.ok(runs.every((r) => r.admitted.length + r.refused > 0), 'every process took part');
    assert.ok(attempts > 4 * RATE, `the callers asked for far more than the limit (${attempts} calls)`);
    assert.ok(admitted.length >= RATE, 'the burst was admitted');
    // Every window of W ms (each starting at an admitted call) holds at most RATE × W + RATE calls.
    for (const windowMs of [50, 100, 200, 580]) {
      const bound = Math.floor((RATE * windowMs) / 1000) + RATE;
      let most = 0;
      for (let i = 0, j = 0; i < admitted.length; i++) {
        while (j < admitted.length && admitted[j] <= admitted[i] + windowMs) j++;
        most = Math.max(most, j - i);
      }
      assert.ok(most <= bound, `${most} calls admitted within ${windowMs} ms; at most ${bound} may be`);
    }
  } finally {
    await database.drop();
  }
});
