// insertTasks on PostgreSQL: tasks, their URLs, the task counts and the quota use in one statement (data-modifying
// CTEs over arrays), where the portable version needs three or more; every statement is a round
// trip to the server, and the intake's round trips are most of a create call's time.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';
import { prepared } from '../postgres/prepared-statements.js';
import { countCells, newTaskCounts, type NewTask } from './task-rows.js';
import type { UsageDelta } from './quota-repository.js';

/**
 * Same contract as insertTasks: URL ids per task, in the order of its `urls`. Rows go in with ORDER BY
 * and ids come from one sequence in that order, so the k-th new task id (ascending) is the k-th task.
 */
export async function insertTasksInOneStatement(db: Kysely<Database>, tasks: NewTask[], usage: UsageDelta[]): Promise<Array<{ taskId: number; urlIds: number[] }>> {
  const t = tasks.map((x) => x.task);
  const urls = tasks.flatMap((x, k) => x.urls.map((u) => ({ ...u, k })));
  const cells = countCells(newTaskCounts(tasks));
  const audits = tasks.flatMap((x, k) => (x.audit ? [{ k, row: x.audit }] : []));
  const col = <R, V>(rows: R[], f: (r: R) => V): V[] => rows.map(f);
  const { rows } = await sql<{ id: number; task_id: number }>`${prepared}
    with tv as (
      select * from unnest(
        ${t.map((_, k) => k)}::int[], ${col(t, (r) => r.account_id)}::text[], ${col(t, (r) => r.task_type)}::text[], ${col(t, (r) => r.file_type)}::text[],
        ${col(t, (r) => r.mode)}::text[], ${col(t, (r) => r.status)}::text[], ${col(t, (r) => r.total)}::int[], ${col(t, (r) => r.processing)}::int[],
        ${col(t, (r) => r.succeed)}::int[], ${col(t, (r) => r.failed)}::int[], ${col(t, (r) => r.create_time)}::bigint[],
        ${col(t, (r) => r.enterprise_project_id ?? '0')}::text[], ${col(t, (r) => r.created_by_user_id ?? null)}::text[],
        ${col(t, (r) => r.created_by_user ?? null)}::text[], ${col(t, (r) => r.created_by_key ?? null)}::text[]
      ) as tv(k, account_id, task_type, file_type, mode, status, total, processing, succeed, failed, create_time, enterprise_project_id, created_by_user_id, created_by_user, created_by_key)
    ),
    t as (
      insert into tasks (account_id, task_type, file_type, mode, status, total, processing, succeed, failed, create_time, enterprise_project_id, created_by_user_id, created_by_user, created_by_key)
      select account_id, task_type, file_type, mode, status, total, processing, succeed, failed, create_time, enterprise_project_id, created_by_user_id, created_by_user, created_by_key from tv order by k
      returning id
    ),
    tk as (
      select id, (row_number() over (order by id) - 1)::int as k from t
    ),
    uv as (
      select * from unnest(
        ${urls.map((_, i) => i)}::int[], ${col(urls, (u) => u.k)}::int[], ${col(urls, (u) => u.account_id)}::text[], ${col(urls, (u) => u.url)}::text[],
        ${col(urls, (u) => u.host)}::text[], ${col(urls, (u) => u.target)}::text[], ${col(urls, (u) => u.status)}::text[], ${col(urls, (u) => u.task_type)}::text[],
        ${col(urls, (u) => u.file_type)}::text[], ${col(urls, (u) => u.mode)}::text[], ${col(urls, (u) => u.fail_classify ?? null)}::text[],
        ${col(urls, (u) => u.fail_desc ?? null)}::text[], ${col(urls, (u) => u.create_time)}::bigint[], ${col(urls, (u) => u.modify_time)}::bigint[],
        ${col(urls, (u) => u.lease_owner ?? null)}::text[]
      ) as uv(i, k, account_id, url, host, target, status, task_type, file_type, mode, fail_classify, fail_desc, create_time, modify_time, lease_owner)
    ),
    u as (
      insert into task_urls (task_id, account_id, url, host, target, status, task_type, file_type, mode, fail_classify, fail_desc, create_time, modify_time, lease_owner)
      select tk.id, uv.account_id, uv.url, uv.host, uv.target, uv.status, uv.task_type, uv.file_type, uv.mode, uv.fail_classify, uv.fail_desc, uv.create_time, uv.modify_time, uv.lease_owner
      from uv join tk on tk.k = uv.k order by uv.i
      returning id, task_id
    ),
    c as (
      insert into task_counts (account_id, day, task_type, file_type, status, n)
      select * from unnest(
        ${col(cells, (c) => c.account_id)}::text[], ${col(cells, (c) => c.day)}::int[], ${col(cells, (c) => c.task_type)}::text[],
        ${col(cells, (c) => c.file_type)}::text[], ${col(cells, (c) => c.status)}::text[], ${col(cells, (c) => c.n)}::bigint[]
      )
      on conflict (account_id, day, task_type, file_type, status) do update set n = task_counts.n + excluded.n
    ),
    a as (
      insert into audit_events (time, account_id, user_id, user_name, access_key, source_ip, user_agent, request_id, action, resource, status, error_code)
      select av.time, av.account_id, av.user_id, av.user_name, av.access_key, av.source_ip, av.user_agent, av.request_id, av.action, 'task/' || tk.id, av.status, av.error_code
      from unnest(
        ${col(audits, (a) => a.k)}::int[], ${col(audits, (a) => a.row.time)}::bigint[], ${col(audits, (a) => a.row.account_id ?? null)}::text[],
        ${col(audits, (a) => a.row.user_id ?? null)}::text[], ${col(audits, (a) => a.row.user_name ?? null)}::text[], ${col(audits, (a) => a.row.access_key ?? null)}::text[],
        ${col(audits, (a) => a.row.source_ip)}::text[], ${col(audits, (a) => a.row.user_agent)}::text[], ${col(audits, (a) => a.row.request_id)}::text[],
        ${col(audits, (a) => a.row.action)}::text[], ${col(audits, (a) => a.row.status)}::int[], ${col(audits, (a) => a.row.error_code ?? null)}::text[]
      ) as av(k, time, account_id, user_id, user_name, access_key, source_ip, user_agent, request_id, action, status, error_code)
      join tk on tk.k = av.k
    ),
    q as (
      insert into quota_usage (account_id, day, type, used)
      select * from unnest(${col(usage, (d) => d.account_id)}::text[], ${col(usage, (d) => d.day)}::text[], ${col(usage, (d) => d.type)}::text[], ${col(usage, (d) => d.used)}::int[])
      on conflict (account_id, day, type) do update set used = quota_usage.used + excluded.used
    )
    select id, task_id from u
    union all
    select id, null from tk`.execute(db);
  // Task ids (task_id null) ascend in task order; each task's URL ids ascend in its `urls` order.
  const taskIds: number[] = [];
  const urlIds = new Map<number, number[]>();
  for (const r of rows) {
    if (r.task_id === null) taskIds.push(Number(r.id));
    else {
      let list = urlIds.get(Number(r.task_id));
      if (!list) urlIds.set(Number(r.task_id), (list = []));
      list.push(Number(r.id));
    }
  }
  taskIds.sort((a, b) => a - b);
  return taskIds.map((taskId) => ({ taskId, urlIds: (urlIds.get(taskId) ?? []).sort((a, b) => a - b) }));
}
