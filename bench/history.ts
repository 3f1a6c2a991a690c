// Section 3: ShowHistoryTasks over a large history. The history is written straight into the
// server's SQLite file while the server is stopped (one transaction, one prepared statement), then
// the server is restarted and queried with one filter and one sort per call.
import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { SignedClient } from './client.js';
import { msSince, now, summarize, type Summary } from './stats.js';

const DAY_MS = 86_400_000;

/** Deterministic PRNG (mulberry32), so every run loads the same mix. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BulkLoadResult {
  inserted: number;
  insertMs: number;
  countsMs: number;
  checkpointMs: number;
  tasksInTable: number;
  dbBytes: number;
  mix: Record<string, number>;
}

/**
 * Inserts `count` finished-looking tasks for `accountId`, create_time ascending over the last 30 days
 * (ids grow with time, as they do in service), then recomputes the per-day task_counts the server keeps
 * next to the tasks (what the store's rebuildTaskCounts does after a bulk load): without it the
 * history's `total` would not include the loaded rows.
 */
export function bulkLoadTasks(dbFile: string, accountId: string, count: number, log: (line: string) => void): BulkLoadResult {
  const db = new BetterSqlite3(dbFile);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288'); // 512 MB page cache for the load (bench process only)
    db.pragma('temp_store = MEMORY');
    const insert = db.prepare(
      `insert into tasks (account_id, task_type, file_type, mode, status, total, processing, succeed, failed, create_time)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const rnd = prng(20240601);
    const end = Date.now() - 60_000;
    const start = end - 30 * DAY_MS;
    const step = (end - start) / count;
    const mix: Record<string, number> = {};
    const bump = (k: string) => (mix[k] = (mix[k] ?? 0) + 1);
    const logUniform = (max: number) => Math.min(max, Math.max(1, Math.floor(Math.exp(rnd() * Math.log(max + 1)))));

    const t0 = now();
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const preheat = rnd() < 0.2;
        const taskType = preheat ? 'preheating' : 'refresh';
        const fileType = !preheat && rnd() < 0.15 ? 'directory' : 'file';
        const mode = !preheat && rnd() < 0.05 ? 'detect_modify_refresh' : 'all';
        const total = logUniform(fileType === 'directory' ? 100 : 1000);
        // The newest 1% hold the few tasks still in process.
        const inProcess = i >= count * 0.99 && rnd() < 0.3;
        let failed = rnd() < 0.9 ? 0 : Math.floor(rnd() * (total + 1));
        let processing = 0;
        if (inProcess) {
          processing = 1 + Math.floor(rnd() * total);
          failed = Math.min(failed, total - processing);
        }
        const succeed = total - processing - failed;
        const status = inProcess ? 'task_inprocess' : 'task_done';
        const createTime = Math.floor(start + i * step + rnd() * step);
        insert.run(accountId, taskType, fileType, mode, status, total, processing, succeed, failed, createTime);
        bump(`${taskType}/${fileType}/${status}`);
      }
    })();
    const insertMs = msSince(t0);
    log(`  loaded ${count} tasks in ${(insertMs / 1000).toFixed(1)} s; rebuilding the per-day task counts`);

    const t1 = now();
    db.transaction(() => {
      db.prepare('delete from task_counts').run();
      db.prepare(
        `insert into task_counts (account_id, day, task_type, file_type, status, n)
         select account_id, create_time / ${DAY_MS}, task_type, file_type, status, count(*)
         from tasks group by account_id, create_time / ${DAY_MS}, task_type, file_type, status`,
      ).run();
    })();
    const countsMs = msSince(t1);
    const t2 = now();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const checkpointMs = msSince(t2);
    const tasksInTable = (db.prepare('select count(*) as n from tasks').get() as { n: number }).n;
    return {
      inserted: count,
      insertMs: Math.round(insertMs),
      countsMs: Math.round(countsMs),
      checkpointMs: Math.round(checkpointMs),
      tasksInTable,
      dbBytes: fs.statSync(dbFile).size,
      mix,
    };
  } finally {
    db.close();
  }
}

interface Combo {
  name: string;
  query: (nowMs: number) => Array<[string, string]>;
  /** Checks one returned row against the filter. */
  matches: (row: any, nowMs: number) => boolean;
  order?: { field: string; type: 'asc' | 'desc' };
}

const ord = (field: string, type: 'asc' | 'desc'): Array<[string, string]> => [
  ['order_field', field],
  ['order_type', type],
];

export const COMBOS: Combo[] = [
  { name: 'task_type=refresh, total asc', query: () => [['task_type', 'refresh'], ...ord('total', 'asc')], matches: (r) => r.task_type === 'refresh', order: { field: 'total', type: 'asc' } },
  { name: 'status=task_done, create_time desc', query: () => [['status', 'task_done'], ...ord('create_time', 'desc')], matches: (r) => r.status === 'task_done', order: { field: 'create_time', type: 'desc' } },
  { name: 'file_type=directory, failed desc', query: () => [['file_type', 'directory'], ...ord('failed', 'desc')], matches: (r) => r.file_type === 'directory', order: { field: 'failed', type: 'desc' } },
  {
    name: 'last 24 h, default order',
    query: (t) => [['start_date', String(t - DAY_MS)], ['end_date', String(t)]],
    matches: (r, t) => r.create_time >= t - DAY_MS && r.create_time <= t,
    order: { field: 'create_time', type: 'desc' },
  },
  { name: 'task_type=preheating, succeed desc', query: () => [['task_type', 'preheating'], ...ord('succeed', 'desc')], matches: (r) => r.task_type === 'preheating', order: { field: 'succeed', type: 'desc' } },
  { name: 'file_type=file, create_time asc', query: () => [['file_type', 'file'], ...ord('create_time', 'asc')], matches: (r) => r.file_type === 'file', order: { field: 'create_time', type: 'asc' } },
  { name: 'status=task_inprocess, processing desc', query: () => [['status', 'task_inprocess'], ...ord('processing', 'desc')], matches: (r) => r.status === 'task_inprocess', order: { field: 'processing', type: 'desc' } },
];

export interface ComboResult {
  name: string;
  latency: Summary;
  /** The first call of the combo after the restart (not in `latency`). */
  firstCallMs: number;
  total: number;
  badRows: number;
}

export interface HistoryQueryResult {
  calls: number;
  errors: number;
  overall: Summary;
  combos: ComboResult[];
  deepPage: { combo: string; pageNumber: number; latency: Summary; firstCallMs: number; rows: number };
  elapsedMs: number;
}

function checkOrder(rows: any[], order: Combo['order']): boolean {
  if (!order) return true;
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1][order.field];
    const b = rows[i][order.field];
    if (order.type === 'asc' ? a > b : a < b) return false;
  }
  return true;
}

export async function benchHistory(o: {
  client: SignedClient;
  calls: number;
  deepCalls: number;
  boundMs: number;
  log: (line: string) => void;
}): Promise<HistoryQueryResult> {
  const started = now();
  const deadline = started + BigInt(o.boundMs) * 1_000_000n;
  const nowMs = Date.now();
  const per: number[][] = COMBOS.map(() => []);
  const first: number[] = [];
  const totals: number[] = [];
  const bad: number[] = COMBOS.map(() => 0);
  let errors = 0;

  const one = async (c: number, page: number): Promise<{ ms: number; json: any } | null> => {
    const combo = COMBOS[c];
    const query: Array<[string, string]> = [['page_size', '30'], ['page_number', String(page)], ...combo.query(nowMs)];
    const t0 = now();
    const r = await o.client.call('GET', '/v1.0/cdn/historytasks', { query });
    const ms = msSince(t0);
    if (r.status !== 200) {
      errors++;
      if (errors <= 3) o.log(`  historytasks error (${combo.name}): ${r.status} ${r.text.slice(0, 200)}`);
      return null;
    }
    return { ms, json: r.json };
  };

  // First call of each combo after the restart: reported apart, as the cold figure.
  for (let c = 0; c < COMBOS.length; c++) {
    const r = await one(c, 1);
    first.push(r ? Math.round(r.ms * 1000) / 1000 : NaN);
    totals.push(r ? r.json.total : -1);
  }
  let calls = 0;
  for (let i = 0; i < o.calls; i++) {
    if (now() > deadline) {
      o.log(`  historytasks: time bound reached after ${i} calls`);
      break;
    }
    const c = i % COMBOS.length;
    const r = await one(c, 1);
    calls++;
    if (!r) continue;
    per[c].push(r.ms);
    const rows = r.json.tasks as any[];
    const expected = Math.min(30, totals[c]);
    if (rows.length !== expected || !rows.every((row) => COMBOS[c].matches(row, nowMs)) || !checkOrder(rows, COMBOS[c].order)) bad[c]++;
    if ((i + 1) % 100 === 0) o.log(`  historytasks: ${i + 1}/${o.calls} calls, p99 so far ${summarize(per.flat()).p99.toFixed(2)} ms`);
  }

  const deep: number[] = [];
  const deepFirst = await one(0, 100);
  let deepRows = deepFirst ? (deepFirst.json.tasks as any[]).length : 0;
  for (let i = 0; i < o.deepCalls && now() <= deadline; i++) {
    const r = await one(0, 100);
    if (r) {
      deep.push(r.ms);
      deepRows = (r.json.tasks as any[]).length;
    }
  }

  return {
    calls,
    errors,
    overall: summarize(per.flat()),
    combos: COMBOS.map((c, i) => ({ name: c.name, latency: summarize(per[i]), firstCallMs: first[i], total: totals[i], badRows: bad[i] })),
    deepPage: { combo: COMBOS[0].name, pageNumber: 100, latency: summarize(deep), firstCallMs: deepFirst ? Math.round(deepFirst.ms * 1000) / 1000 : NaN, rows: deepRows },
    elapsedMs: Math.round(msSince(started)),
  };
}
