// Section 6c: ShowHistoryTasks over 1,000,000 tasks on PostgreSQL.
import { createScratchDatabase } from '../../src/cluster/scratch-database.js';
import { SignedClient } from '../client.js';
import { benchHistory } from '../history.js';
import { bulkLoadPgTasks } from '../pg-history.js';
import { msSince, now } from '../stats.js';
import { ACCOUNT, type PgHistoryResult, type ScaleOutConfig } from './results.js';
import { type Env, Stack, startServe } from './processes.js';
import { benchPool, coresText, startMeter } from './cpu-groups.js';

export async function runHistory(env: Env, cfg: ScaleOutConfig): Promise<PgHistoryResult> {
  const stack = new Stack();
  try {
    const db = await createScratchDatabase(cfg.postgresUrl);
    stack.push(db.drop);
    // A first start migrates the database and creates the account; the load needs no server up.
    const first = new Stack();
    try {
      await startServe(env, first, 'c-serve-1', db.url);
    } finally {
      await first.unwind();
    }
    env.log(`6c. loading ${cfg.historyTasks.toLocaleString('en-US')} tasks into PostgreSQL`);
    const load = await bulkLoadPgTasks(db.url, ACCOUNT, cfg.historyTasks, env.log);
    env.log(`   ${load.tasksInTable.toLocaleString('en-US')} tasks (${load.tableMb} MB with indexes): insert ${load.insertMs} ms, indexes ${load.indexMs} ms, counts ${load.countsMs} ms, analyze ${load.analyzeMs} ms`);
    const t0 = now();
    const serve = await startServe(env, stack, 'c-serve-2', db.url);
    const restartMs = Math.round(msSince(t0));
    const client = new SignedClient(serve.url, env.key, 2);
    stack.push(() => client.close());
    const meter = await startMeter({ serve: [serve.pid] }, benchPool(db.url, stack));
    const history = await benchHistory({ client, calls: cfg.historyCalls, deepCalls: cfg.deepCalls, boundMs: 90_000, log: env.log });
    const cpu = await meter();
    env.log(`   p50 ${history.overall.p50} ms p99 ${history.overall.p99} ms over ${history.calls} calls; cores ${coresText(cpu)}`);
    return { load, restartMs, history, cpu };
  } finally {
    await stack.unwind();
  }
}
