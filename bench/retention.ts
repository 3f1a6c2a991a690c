// Section 9: intake while the task history's retention prunes (issue 15). One server on a data dir
// holding 1,000,000 finished tasks (one URL each) created 16 to 45 days ago, started with
// --history-retention-days 15 it prunes them from its start, in paced batches, in the background. Four
// rounds on that data dir, each a server start with signed 1-URL creates at concurrency 32 in 1-second
// blocks: history kept (0), pruning (15), kept, pruning. The ratio of the blocks' median rates is the
// row; the pruning's progress is read from the history's total. `node dist/bench/retention-main.js` runs it alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DAY_MS } from '../src/store/migrations.js';
import { SignedClient } from './client.js';
import { addOnlineDomain } from './domain.js';
import { info, row, type Row } from './report.js';
import { startServerChild } from './server-process.js';
import { msSince, now, runBounded, summarize } from './stats.js';

const DOMAIN = 'bench-retention.example.com';
const CONCURRENCY = 32;
const BLOCK_MS = 1000;

export interface RetentionConfig {
  oldTasks: number;
  /** Blocks of creates per round. */
  blocks: number;
}

export function retentionConfig(quick: boolean): RetentionConfig {
  const n = process.env.BENCH_RETENTION_TASKS;
  return { oldTasks: n && /^\d+$/.test(n) ? Number(n) : quick ? 100_000 : 1_000_000, blocks: quick ? 5 : 15 };
}

export interface RetentionResult {
  oldTasks: number;
  loadMs: number;
  /** Calls per second of each block while pruning, and with the history kept. */
  during: number[];
  kept: number[];
  /** Median rate while pruning / median rate with the history kept. */
  ratio: number;
  /** Old tasks pruned during the measured rounds, and their rate. */
  pruned: number;
  prunedPerSec: number;
  errors: number;
}

/** `count` finished 1-URL tasks with their URL rows, created 16 to 45 days ago, and their task_counts. */
function loadOldTasks(dbFile: string, accountId: string, count: number): void {
  const db = new BetterSqlite3(dbFile);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const task = db.prepare(`insert into tasks (account_id, task_type, file_type, mode, status, total, processing, succeed, failed, create_time) values (?, 'refresh', 'file', 'all', 'task_done', 1, 0, 1, 0, ?)`);
    const url = db.prepare(`insert into task_urls (task_id, account_id, url, host, target, status, task_type, file_type, mode, create_time, modify_time) values (?, ?, ?, ?, ?, 'succeed', 'REFRESH', 'file', 'all', ?, ?)`);
    const end = Date.now() - 16 * DAY_MS;
    const step = (29 * DAY_MS) / count;
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const t = Math.floor(end - 29 * DAY_MS + i * step);
        const id = task.run(accountId, t).lastInsertRowid;
        url.run(id, accountId, `http://${DOMAIN}/old/${i}.js`, DOMAIN, `/old/${i}.js`, t, t);
      }
      db.prepare('delete from task_counts').run();
      db.prepare(
        `insert into task_counts (account_id, day, task_type, file_type, status, n)
         select account_id, create_time / ${DAY_MS}, task_type, file_type, status, count(*) from tasks group by 1, 2, 3, 4, 5`,
      ).run();
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export async function runRetentionSection(cfg: RetentionConfig, log: (line: string) => void): Promise<RetentionResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bench-retention-'));
  const dataDir = path.join(tmp, 'data');
  try {
    // First start: the account, its quotas and the domain; then the old history, loaded while stopped.
    const setup = await startServerChild({ dataDir, edges: 1 });
    const creds = setup.credentials;
    const key = { accessKey: creds.access_key, secretKey: creds.secret_key };
    const c0 = new SignedClient(setup.api, key, 1);
    await c0.ok('PUT', `/cachectl/v1/accounts/${encodeURIComponent(creds.account)}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
    await addOnlineDomain(c0, DOMAIN, 9);
    await c0.close();
    await setup.stop();
    log(`9. retention: loading ${cfg.oldTasks.toLocaleString('en-US')} finished 1-URL tasks created 16 to 45 days ago`);
    const t0 = now();
    loadOldTasks(path.join(dataDir, 'cachectl.db'), creds.account_id, cfg.oldTasks);
    const loadMs = Math.round(msSince(t0));

    const during: number[] = [];
    const kept: number[] = [];
    let errors = 0;
    let next = 0;
    let pruned = 0;
    let pruningMs = 0;
    // Alternating rounds on the same data dir: kept (--history-retention-days 0, the bench servers'
    // default), pruning (15: the pass starts with the server), kept, pruning.
    for (const [round, days] of [0, 15, 0, 15].entries()) {
      const server = await startServerChild({ dataDir, edges: 1, extraArgs: ['--history-retention-days', String(days)] });
      const started = now();
      const client = new SignedClient(server.api, key, CONCURRENCY);
      const oldLeft = async () => {
        const h = await client.ok('GET', '/v1.0/cdn/historytasks', { query: [['end_date', String(Date.now() - 15 * DAY_MS)], ['page_size', '1'], ['page_number', '1']] });
        return Number(h.total);
      };
      const block = async (): Promise<number> => {
        let done = 0;
        const t = now();
        await runBounded(1e9, CONCURRENCY, t + BigInt(BLOCK_MS) * 1_000_000n, async () => {
          const r = await client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${DOMAIN}/new/${next++}.js`] } } });
          if (r.status === 200) done++;
          else errors++;
        });
        return Math.round(done / (msSince(t) / 1000));
      };
      try {
        const before = await oldLeft();
        // Warm-up, untimed: every connection opened.
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => client.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { type: 'file', urls: [`http://${DOMAIN}/warm/${round}/${i}.js`] } } })));
        const rates: number[] = [];
        for (let b = 0; b < cfg.blocks; b++) rates.push(await block());
        const left = await oldLeft();
        if (days > 0) {
          pruned += before - left;
          pruningMs += msSince(started);
          if (left === 0) log('   every old task pruned before the round ended: load more (BENCH_RETENTION_TASKS)');
        }
        (days > 0 ? during : kept).push(...rates);
        log(`   round ${round + 1} (${days > 0 ? 'pruning' : 'kept'}): median ${summarize(rates).p50} calls/s; old tasks ${before.toLocaleString('en-US')} → ${left.toLocaleString('en-US')}`);
      } finally {
        await client.close().catch(() => undefined);
        await server.stop();
      }
    }
    const ratio = Math.round((summarize(during).p50 / summarize(kept).p50) * 100) / 100;
    log(`   median ${summarize(during).p50} calls/s while pruning, ${summarize(kept).p50} with the history kept: ratio ${ratio}`);
    return { oldTasks: cfg.oldTasks, loadMs, during, kept, ratio, pruned, prunedPerSec: Math.round(pruned / (pruningMs / 1000)), errors };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function retentionRows(r: RetentionResult): Row[] {
  return [
    row('9. retention', `1-URL creates while ${(r.oldTasks / 1e6).toFixed(2)}M old tasks are pruned / kept`, r.ratio, '', { op: '>=', limit: 0.8 }),
    info('9. retention', '  median calls/s pruning / kept', `${summarize(r.during).p50} / ${summarize(r.kept).p50} (${r.during.length} + ${r.kept.length} blocks of ${BLOCK_MS} ms, alternating rounds)`),
    info('9. retention', '  pruned meanwhile / errors', `${r.pruned.toLocaleString('en-US')} tasks, ${r.prunedPerSec}/s / ${r.errors}`),
  ];
}
