// Querying tasks: ShowHistoryTasks (§4), ShowHistoryTaskDetails (§5) and ShowUrlTaskInfo (§6).
import { ACTIONS } from '../../services/iam/actions.js';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { taskObject, urlObject, urlRecord } from '../presenters.js';
import { TaskObject } from '../task-schema.js';
import { enumParam, intParam, MAX_EPOCH_MS } from '../query-params.js';
import { badParameter } from '../../errors.js';
import type { TaskOrderField } from '../../store/repositories/task-repository.js';

const S = Type.Optional(Type.String());
const ORDER_FIELDS: readonly TaskOrderField[] = ['task_type', 'total', 'processing', 'succeed', 'failed', 'create_time'];
const URL_STATUSES = ['processing', 'succeed', 'failed', 'waiting', 'refreshing', 'preheating'] as const;
const DAY_MS = 24 * 3600_000;

export const UrlObject = Type.Object({
  id: Type.String(),
  url: Type.String(),
  status: Type.String(),
  create_time: Type.Integer(),
  task_id: Type.String(),
  task_type: Type.String(),
  fail_classify: Type.Optional(Type.String()),
  fail_desc: Type.Optional(Type.String()),
});
export const UrlRecord = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  status: Type.String(),
  type: Type.String(),
  task_id: Type.Integer(),
  modify_time: Type.Integer(),
  create_time: Type.Integer(),
  file_type: Type.String(),
  mode: Type.String(),
});

// The answers, exported for the client commands' types.
export const TaskList = Type.Object({ total: Type.Integer(), tasks: Type.Array(TaskObject) });
export const TaskDetail = Type.Object({
  id: Type.String(),
  task_type: Type.String(),
  status: Type.String(),
  urls: Type.Array(UrlObject),
  create_time: Type.Integer(),
  processing: Type.Integer(),
  succeed: Type.Integer(),
  failed: Type.Integer(),
  total: Type.Integer(),
  file_type: Type.String(),
});
export const UrlTaskList = Type.Object({ total: Type.Integer(), count: Type.Integer(), result: Type.Array(UrlRecord) });

function paging(q: { page_size?: string; page_number?: string }) {
  const size = intParam(q.page_size, 'page_size', 1, 10000, 30);
  const number = intParam(q.page_number, 'page_number', 1, 65535, 1);
  return { limit: size, offset: (number - 1) * size };
}

export function historyRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1.0/cdn/historytasks',
      {
        config: { rateClass: 'query', action: ACTIONS.queryCacheHistoryTask },
        schema: {
          querystring: Type.Object({
            enterprise_project_id: S,
            page_size: S,
            page_number: S,
            status: S,
            start_date: S,
            end_date: S,
            order_field: S,
            order_type: S,
            file_type: S,
            task_type: S,
          }),
          response: { 200: TaskList },
        },
      },
      async (request) => {
        const q = request.query;
        const orderField = enumParam(q.order_field, 'order_field', ORDER_FIELDS);
        const orderType = enumParam(q.order_type, 'order_type', ['asc', 'desc'] as const);
        // §4: order_field and order_type count only together; otherwise the default order applies.
        const ordered = orderField !== undefined && orderType !== undefined;
        const { total, rows } = await ctx.tasks.list(request.call, {
          project: q.enterprise_project_id,
          status: enumParam(q.status, 'status', ['task_inprocess', 'task_done'] as const),
          taskType: enumParam(q.task_type, 'task_type', ['refresh', 'preheating'] as const),
          fileType: enumParam(q.file_type, 'file_type', ['file', 'directory'] as const),
          startDate: intParam(q.start_date, 'start_date', 0, MAX_EPOCH_MS),
          endDate: intParam(q.end_date, 'end_date', 0, MAX_EPOCH_MS),
          orderField: ordered ? orderField : 'create_time',
          orderType: ordered ? orderType : 'desc',
          ...paging(q),
        });
        return { total, tasks: rows.map(taskObject) };
      },
    );

    app.get(
      '/v1.0/cdn/historytasks/:history_tasks_id/detail',
      {
        config: { rateClass: 'query', action: ACTIONS.queryCacheHistoryTask },
        schema: {
          params: Type.Object({ history_tasks_id: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({ enterprise_project_id: S, page_size: S, page_number: S, status: S, url: S, create_time: S }),
          response: { 200: TaskDetail },
        },
      },
      async (request) => {
        const q = request.query;
        // create_time only helps the cloud find a partition; it is checked and otherwise ignored.
        intParam(q.create_time, 'create_time', 0, MAX_EPOCH_MS);
        const { task, urls } = await ctx.tasks.detail(request.call, request.params.history_tasks_id, {
          project: q.enterprise_project_id,
          status: enumParam(q.status, 'status', URL_STATUSES),
          url: q.url === undefined || q.url === '' ? undefined : q.url,
          ...paging(q),
        });
        return { ...taskObject(task), urls: urls.map(urlObject) };
      },
    );

    app.get(
      '/v1.0/cdn/contentgateway/url-tasks',
      {
        config: { rateClass: 'urlTasks', action: ACTIONS.queryRefreshAndPreheatHistoryTask },
        schema: {
          // enterprise_project_id is not in §6; accepted as on the other history calls.
          querystring: Type.Object({ enterprise_project_id: S, start_time: S, end_time: S, offset: S, limit: S, url: S, task_type: S, status: S, file_type: S }),
          response: { 200: UrlTaskList },
        },
      },
      async (request) => {
        const q = request.query;
        let start = intParam(q.start_time, 'start_time', 0, MAX_EPOCH_MS);
        let end = intParam(q.end_time, 'end_time', 0, MAX_EPOCH_MS);
        if ((start === undefined) !== (end === undefined)) throw badParameter('start_time and end_time must be given together');
        if (start === undefined || end === undefined) {
          // Default window: today, 00:00 to 24:00 UTC.
          start = Math.floor(Date.now() / DAY_MS) * DAY_MS;
          end = start + DAY_MS;
        }
        if (end < start) throw badParameter('end_time must not be before start_time');
        if (end - start > DAY_MS) throw badParameter('the time span between start_time and end_time must not exceed 24 hours');
        const taskType = q.task_type === undefined || q.task_type === '' ? undefined : q.task_type.toUpperCase();
        const status = q.status === undefined || q.status === '' ? undefined : q.status.toLowerCase();
        const limit = intParam(q.limit, 'limit', 1, 100, 10);
        const { total, rows } = await ctx.tasks.urlRecords(request.call, {
          project: q.enterprise_project_id,
          startTime: start,
          endTime: end,
          url: q.url === undefined || q.url === '' ? undefined : q.url,
          taskType: enumParam(taskType, 'task_type', ['REFRESH', 'PREHEATING'] as const),
          status: enumParam(status, 'status', URL_STATUSES),
          fileType: enumParam(q.file_type, 'file_type', ['file', 'directory'] as const),
          limit,
          offset: intParam(q.offset, 'offset', 0, 2 ** 31 - 1, 0),
        });
        return { total, count: rows.length, result: rows.map(urlRecord) };
      },
    );
  };
}
