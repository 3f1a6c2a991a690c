// Creating refresh and prefetch tasks: the current API (§2.1, §3.1) and the legacy camelCase one
// (§2.2, §3.2), which answers the whole task object.
import { ACTIONS } from '../../services/iam/actions.js';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import type { CreatedTask } from '../../services/task-service.js';
import { TaskObject } from '../task-schema.js';
import { taskObject } from '../presenters.js';

const FileType = Type.Union([Type.Literal('file'), Type.Literal('directory')]);
const Mode = Type.Union([Type.Literal('all'), Type.Literal('detect_modify_refresh')]);
const Urls = Type.Array(Type.String(), { minItems: 1 });
const EpQuery = Type.Object({ enterprise_project_id: Type.Optional(Type.String()) });

export const RefreshBody = Type.Object({
  refresh_task: Type.Object({ type: Type.Optional(FileType), mode: Type.Optional(Mode), zh_url_encode: Type.Optional(Type.Boolean()), urls: Urls }),
});
export const PreheatBody = Type.Object({
  preheating_task: Type.Object({ zh_url_encode: Type.Optional(Type.Boolean()), urls: Urls }),
});
const LegacyRefreshBody = Type.Object({ refreshTask: Type.Object({ type: Type.Optional(FileType), urls: Urls }) });
const LegacyPreheatBody = Type.Object({ preheatingTask: Type.Object({ urls: Urls }) });

export const RefreshCreated = Type.Object({ refresh_task: Type.String() });
export const PreheatCreated = Type.Object({ preheating_task: Type.String() });

// §2.2: the legacy answer is the whole task object plus its URLs.
const LegacyTask = Type.Object({ ...TaskObject.properties, urls: Type.Array(Type.String()) });

function legacyTask({ task, urls }: CreatedTask) {
  return { ...taskObject(task), urls };
}

export function taskCreateRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const refresh = { rateClass: 'create' as const, action: ACTIONS.refreshCache };
    const preheat = { rateClass: 'create' as const, action: ACTIONS.preheatCache };

    app.post('/v1.0/cdn/content/refresh-tasks', { config: refresh, schema: { querystring: EpQuery, body: RefreshBody, response: { 200: RefreshCreated } } }, async (request) => {
      const t = request.body.refresh_task;
      const created = await ctx.tasks.create({
        accountId: request.caller.accountId,
        call: request.call,
        project: request.query.enterprise_project_id,
        taskType: 'refresh',
        fileType: t.type ?? 'file',
        mode: t.mode ?? 'all',
        zhUrlEncode: t.zh_url_encode ?? false,
        urls: t.urls,
        maxUrlLength: 4096,
      });
      return { refresh_task: String(created.task.id) };
    });

    app.post('/v1.0/cdn/content/preheating-tasks', { config: preheat, schema: { querystring: EpQuery, body: PreheatBody, response: { 200: PreheatCreated } } }, async (request) => {
      const t = request.body.preheating_task;
      const created = await ctx.tasks.create({
        accountId: request.caller.accountId,
        call: request.call,
        project: request.query.enterprise_project_id,
        taskType: 'preheating',
        fileType: 'file',
        mode: 'all',
        zhUrlEncode: t.zh_url_encode ?? false,
        urls: t.urls,
        maxUrlLength: 4096,
      });
      return { preheating_task: String(created.task.id) };
    });

    app.post('/v1.0/cdn/refreshtasks', { config: refresh, schema: { querystring: EpQuery, body: LegacyRefreshBody, response: { 200: Type.Object({ refreshTask: LegacyTask }) } } }, async (request) => {
      const t = request.body.refreshTask;
      const created = await ctx.tasks.create({
        accountId: request.caller.accountId,
        call: request.call,
        project: request.query.enterprise_project_id,
        taskType: 'refresh',
        fileType: t.type ?? 'file',
        mode: 'all',
        zhUrlEncode: false,
        urls: t.urls,
        maxUrlLength: 10240,
      });
      return { refreshTask: legacyTask(created) };
    });

    app.post('/v1.0/cdn/preheatingtasks', { config: preheat, schema: { querystring: EpQuery, body: LegacyPreheatBody, response: { 200: Type.Object({ preheatingTask: LegacyTask }) } } }, async (request) => {
      const created = await ctx.tasks.create({
        accountId: request.caller.accountId,
        call: request.call,
        project: request.query.enterprise_project_id,
        taskType: 'preheating',
        fileType: 'file',
        mode: 'all',
        zhUrlEncode: false,
        urls: request.body.preheatingTask.urls,
        maxUrlLength: 10240,
      });
      return { preheatingTask: legacyTask(created) };
    });
  };
}
