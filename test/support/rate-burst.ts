// One process of the cross-process rate-limit test: its own store and pool on the given PostgreSQL
// database, a SharedRateLimiter, and a few concurrent callers that take one `create` call after
// another for one account from `fromMs` to `untilMs`. Prints "ready" when connected, then reads
// "<fromMs> <untilMs>" from stdin, and prints the times of the admitted calls as JSON.
// Usage: node rate-burst.js <database url> <rate>
import { sql } from 'kysely';
import { createStore } from '../../src/store/store.js';
import { SharedRateLimiter } from '../../src/api/shared-rate-limit.js';

const [url, rate] = process.argv.slice(2);
const CALLERS = 4;

const store = await createStore({ kind: 'postgres', url, poolSize: CALLERS });
const limiter = new SharedRateLimiter(store.db, { create: Number(rate), query: 0, urlTasks: 0, quota: 0 });
// A warm pool, so the first calls of the burst do not wait for connections.
await Promise.all(Array.from({ length: CALLERS }, () => sql`select 1`.execute(store.db)));
process.stdout.write('ready\n');
const [fromMs, untilMs] = (await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d))))).trim().split(' ');
process.stdin.destroy();
await new Promise((r) => setTimeout(r, Math.max(0, Number(fromMs) - Date.now())));

const admitted: number[] = [];
let refused = 0;
async function caller(): Promise<void> {
  for (let now = Date.now(); now < Number(untilMs); now = Date.now()) {
    if (await isRefused(limiter, now)) refused++;
    else admitted.push(now);
  }
}

/** A refusal is answered; the limiter before GCRA threw APIGW.0308 instead, which counts the same. */
async function isRefused(gate: SharedRateLimiter, now: number): Promise<boolean> {
  try {
    return (await gate.take('burst-account', 'create', now)) !== undefined;
  } catch (err) {
    if ((err as { code?: string }).code === 'APIGW.0308') return true;
    throw err;
  }
}

await Promise.all(Array.from({ length: CALLERS }, caller));
await store.close();
process.stdout.write(JSON.stringify({ admitted, refused }) + '\n');
