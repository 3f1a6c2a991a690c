// Part 3 of the scale-out section: a large task history written straight into a cachectl PostgreSQL
// database while no cachectl process runs, the mix of bench/history.ts's SQLite loader in SQL:
// 20 % preheating, 15 % of refreshes directories, 5 % detect_modify_refresh, log-uniform sizes, 10 %
// with failures, the few in-process tasks among the newest 1 %, create_time spread over 30 days.
import { sql, type Kysely } from 'kysely';
import { DAY_MS, rebuildTaskCounts } from '../src/store/migrations.js';
import { openPostgres } from '../src/store/postgres/open-postgres.js';
import { msSince, now } from './stats.js';

export interface PgLoadResult {
  accountId: string;
  inserted: number;
  insertMs: number;
  /** Rebuilding the history indexes dropped for the load. */
  indexMs: number;
  countsMs: number;
  analyzeMs: number;
  tasksInTable: number;
  tableMb: number;
  mix: Record<string, number>;
}

/** Inserts `count` tasks for the account named `account`; ids grow with create_time as in service. */
export async function bulkLoadPgTasks(databaseUrl: string, account: string, count: number, log: (line: string) => void): Promise<PgLoadResult> {
  const { db } = openPostgres({ url: databaseUrl, poolSize: 2 });
  try {
    const acc = await sql<{ id: string }>`select id from accounts where name = ${account}`.execute(db);
    if (acc.rows.length !== 1) throw new Error(`no account '${account}' in the database`);
    const accountId = acc.rows[0].id;
    const end = Date.now() - 60_000;
    const start = end - 30 * DAY_MS;
    const step = (end - start) / count;

    // One connection: the session settings and the seed must hold for the statements after them.
    const timings = await db.connection().execute(async (c: Kysely<any>) => {
      await sql`set synchronous_commit = off`.execute(c);
      await sql`set maintenance_work_mem = '256MB'`.execute(c);
      await sql`select setseed(0.20240601)`.execute(c); // the same mix every run
      // Building the five history indexes once after the load is several times faster than
      // growing them row by row; their definitions come from the catalogue, not from here.
      const indexes = await sql<{ indexname: string; indexdef: string }>`
        select indexname, indexdef from pg_indexes
        where schemaname = current_schema() and tablename = 'tasks'
          and indexname not in (select conname from pg_constraint where conrelid = 'tasks'::regclass)`.execute(c);
      for (const i of indexes.rows) await sql`drop index ${sql.id(i.indexname)}`.execute(c);

      const t0 = now();
      await sql`
        insert into tasks (account_id, task_type, file_type, mode, status, total, processing, succeed, failed, create_time)
        select ${accountId}::text, task_type, file_type, mode, status, total, processing, total - processing - failed, failed, create_time
        from (
          select *, case when in_process then least(failed0, total - processing) else failed0 end as failed
          from (
            select *,
              case when in_process then 'task_inprocess' else 'task_done' end as status,
              case when in_process then 1 + floor(r_proc * total)::int else 0 end as processing,
              case when r_fail < 0.9 then 0 else floor(r_failed * (total + 1))::int end as failed0
            from (
              select g, r_proc, r_fail, r_failed,
                case when preheat then 'preheating' else 'refresh' end as task_type,
                case when not preheat and r_dir < 0.15 then 'directory' else 'file' end as file_type,
                case when not preheat and r_mode < 0.05 then 'detect_modify_refresh' else 'all' end as mode,
                least(mx, greatest(1, floor(exp(r_total * ln(mx + 1)))::int)) as total,
                g >= ${count}::int * 0.99 and r_inproc < 0.3 as in_process,
                floor(${start}::float8 + g * ${step}::float8 + r_time * ${step}::float8)::bigint as create_time
              from (
                select g, preheat, r_dir, r_mode, r_total, r_inproc, r_proc, r_fail, r_failed, r_time,
                  case when not preheat and r_dir < 0.15 then 100 else 1000 end as mx
                from (
                  select g, random() < 0.2 as preheat, random() as r_dir, random() as r_mode, random() as r_total,
                    random() as r_inproc, random() as r_proc, random() as r_fail, random() as r_failed, random() as r_time
                  from generate_series(0, ${count - 1}::int) as g
                ) r0
              ) r1
            ) r2
          ) r3
        ) r4
        order by g`.execute(c);
      const insertMs = msSince(t0);
      log(`  inserted ${count.toLocaleString('en-US')} tasks in ${(insertMs / 1000).toFixed(1)} s; building ${indexes.rows.length} indexes`);
      const t1 = now();
      for (const i of indexes.rows) await sql.raw(i.indexdef).execute(c);
      return { insertMs, indexMs: msSince(t1) };
    });

    const t2 = now();
    await rebuildTaskCounts(db);
    const countsMs = msSince(t2);
    const t3 = now();
    await sql`vacuum analyze tasks`.execute(db);
    await sql`vacuum analyze task_counts`.execute(db);
    const analyzeMs = msSince(t3);
    const n = await sql<{ n: number }>`select count(*)::int as n from tasks`.execute(db);
    const size = await sql<{ b: string }>`select pg_total_relation_size('tasks')::text as b`.execute(db);
    const mixRows = await sql<{ k: string; n: number }>`
      select task_type || '/' || file_type || '/' || status as k, count(*)::int as n from tasks group by 1 order by 1`.execute(db);
    return {
      accountId,
      inserted: count,
      insertMs: Math.round(timings.insertMs),
      indexMs: Math.round(timings.indexMs),
      countsMs: Math.round(countsMs),
      analyzeMs: Math.round(analyzeMs),
      tasksInTable: n.rows[0].n,
      tableMb: Math.round(Number(size.rows[0].b) / 1024 / 1024),
      mix: Object.fromEntries(mixRows.rows.map((r) => [r.k, r.n])),
    };
  } finally {
    await db.destroy();
  }
}
