// recordOutcomes on PostgreSQL: the same effect as the portable statements in task-repository.ts, in
// one statement (data-modifying CTEs), since every statement costs a round trip to the server, and
// on a busy host that round trip, not the work, is most of a purge's time.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';
import { prepared } from '../postgres/prepared-statements.js';
import { TASK_DONE_CHANNEL } from '../postgres/task-done-channel.js';
import { DAY_MS } from '../migrations.js';
import { TASK_COLUMNS, taskCountersSet, type TaskRow, type UrlOutcome, type UrlStarted } from './task-rows.js';

/**
 * Terminal outcomes, task counters, per-day task counts and per-node results, in one statement; with
 * `started`, also the waiting → refreshing/preheating marks (writeUrlStates).
 * Same rules as recordOutcomes: only URLs still in flight (and, with `owner`, still held by that
 * process) are written and counted; answers the tasks that became task_done, as they now are.
 */
export async function recordOutcomesInOneStatement(db: Kysely<Database>, outcomes: UrlOutcome[], now: number, owner?: string, started: UrlStarted[] = []): Promise<TaskRow[]> {
  if (outcomes.length === 0 && started.length === 0) return [];
  const ids = outcomes.map((o) => o.id);
  const oks = outcomes.map((o) => o.ok);
  const classes = outcomes.map((o) => (o.ok ? null : (o.failClassify ?? 'UNKNOWN_ERROR')));
  const descs = outcomes.map((o) => (o.ok ? null : (o.failDesc ?? '')));
  const results = outcomes.map((o) => o.nodeResults ?? null);
  // `l` locks the tasks to count in id order, as recordOutcomes updates them on SQLite: otherwise
  // the update takes them in whatever order its plan meets them (hash order, or where each row's
  // current version lies in the table), and two workers' batches over the same tasks deadlock.
  // `d` is the tasks that became task_done with this statement (see taskCountersSet). Count cells
  // are summed before the upsert (one row per cell) and taken in key order, as addTaskCounts does.
  // `w` announces each of them to every process's /wait (task-done-channel.ts), at commit; the final
  // select reads it so that it runs (a plain select in WITH runs only when read).
  const { rows } = await sql<TaskRow & { s: number; f: number }>`${prepared}
    with m as (
      update task_urls t set status = m.status, modify_time = ${now}
      from unnest(${started.map((s) => s.id)}::bigint[], ${started.map((s) => s.status)}::text[]) as m(id, status)
      where t.id = m.id and t.status = 'waiting'
    ),
    o as (
      select * from unnest(${ids}::bigint[], ${oks}::boolean[], ${classes}::text[], ${descs}::text[], ${results}::text[]) as o(id, ok, cls, descr, results)
    ),
    u as (
      update task_urls t set
        status = case when o.ok then 'succeed' else 'failed' end,
        fail_classify = case when o.ok then t.fail_classify else o.cls end,
        fail_desc = case when o.ok then t.fail_desc else o.descr end,
        modify_time = ${now}
      from o
      where t.id = o.id and t.status in ('waiting', 'refreshing', 'preheating') and (${owner ?? null}::text is null or t.lease_owner = ${owner ?? null})
      returning t.id, t.task_id, o.ok, o.results
    ),
    n as (
      insert into url_node_results (url_id, results)
      select id, results from u where results is not null
      on conflict (url_id) do update set results = excluded.results
    ),
    c as (
      select task_id, (count(*) filter (where ok))::int as s, (count(*) filter (where not ok))::int as f from u group by task_id
    ),
    l as materialized (
      select tasks.id from tasks join c on tasks.id = c.task_id order by tasks.id for update of tasks
    ),
    t as (
      update tasks set ${taskCountersSet('c')}
      from c join l on l.id = c.task_id where tasks.id = c.task_id
      returning ${TASK_COLUMNS}, c.s, c.f
    ),
    d as (
      select * from t where processing <= 0 and processing + s + f > 0
    ),
    k as (
      insert into task_counts (account_id, day, task_type, file_type, status, n)
      select account_id, day, task_type, file_type, status, sum(n) from (
        select account_id, (create_time / ${DAY_MS})::int as day, task_type, file_type, 'task_inprocess' as status, -1 as n from d
        union all
        select account_id, (create_time / ${DAY_MS})::int, task_type, file_type, 'task_done', 1 from d
      ) x
      group by account_id, day, task_type, file_type, status
      order by account_id, day, task_type, file_type, status
      on conflict (account_id, day, task_type, file_type, status) do update set n = task_counts.n + excluded.n
    ),
    w as materialized (
      select pg_notify(${TASK_DONE_CHANNEL}, id::text) from d
    )
    select * from d where (select count(*) from w) >= 0`.execute(db);
  return rows.map(({ s: _s, f: _f, ...task }) => task);
}
