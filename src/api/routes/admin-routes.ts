// cachectl's own API, outside the Huawei paths: accounts (add, list, rm, quotas) and the edge node registry (admin account
// only), a long-poll on task completion for scripts and benchmarks, and per-node results of a task.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { taskObject } from '../presenters.js';
import { intParam, NoQuery } from '../query-params.js';
import { ACTIONS, type ActionInfo } from '../../services/iam/actions.js';

export const ADMIN_PREFIX = '/cachectl/v1';
const QuotaNumber = Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 }));

export function adminRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const admin = (action: ActionInfo) => ({ admin: true, action });

    app.get(`${ADMIN_PREFIX}/accounts`, { config: admin(ACTIONS.listAccounts), schema: { querystring: NoQuery } }, async () => {
      const rows = await ctx.accounts.listAccounts();
      return { accounts: rows.map((a) => ({ id: a.id, name: a.name, admin: a.is_admin === 1, quotas: ctx.quotas.limitsOf(a), created_at: Number(a.created_at) })) };
    });

    app.post(
      `${ADMIN_PREFIX}/accounts`,
      { config: admin(ACTIONS.createAccount), schema: { body: Type.Object({ name: Type.String(), user: Type.Optional(Type.String()), password: Type.Optional(Type.String({ minLength: 8 })) }) } },
      async (request) => {
        const c = await ctx.accounts.createAccount(request.call, { name: request.body.name, user: request.body.user ?? 'admin', password: request.body.password });
        return { account: { id: c.accountId, name: c.account }, user: c.user, password: c.password, access_key: c.accessKey, secret_key: c.secretKey };
      },
    );

    app.delete(`${ADMIN_PREFIX}/accounts/:name`, { config: admin(ACTIONS.deleteAccount), schema: { params: Type.Object({ name: Type.String({ maxLength: 64 }) }) } }, async (request) => {
      const keys = await ctx.accounts.removeAccount(request.call, request.params.name);
      return { deleted: request.params.name, access_keys: keys };
    });

    app.put(
      `${ADMIN_PREFIX}/accounts/:name/quotas`,
      {
        config: admin(ACTIONS.setAccountQuotas),
        schema: {
          params: Type.Object({ name: Type.String() }),
          body: Type.Object({ file_refresh: QuotaNumber, dir_refresh: QuotaNumber, preheat: QuotaNumber, domain: QuotaNumber }),
        },
      },
      async (request) => {
        await ctx.accounts.setQuotas(request.call, request.params.name, request.body);
        const a = await ctx.accounts.accountByName(request.params.name);
        return { name: a.name, quotas: ctx.quotas.limitsOf(a) };
      },
    );

    app.get(`${ADMIN_PREFIX}/nodes`, { config: admin(ACTIONS.listNodes), schema: { querystring: NoQuery } }, async () => ({ nodes: ctx.nodes.list() }));

    app.post(
      `${ADMIN_PREFIX}/nodes`,
      {
        config: admin(ACTIONS.addNode),
        schema: {
          body: Type.Object(
            {
              name: Type.String({ maxLength: 63 }),
              driver: Type.String({ maxLength: 16 }),
              traffic_url: Type.String({ maxLength: 2048 }),
              control_url: Type.String({ maxLength: 2048 }),
              secret: Type.Optional(Type.String({ maxLength: 4096 })),
              labels: Type.Optional(Type.Record(Type.String(), Type.String())),
              transport: Type.Optional(Type.String({ maxLength: 8 })),
              pop: Type.Optional(Type.String({ maxLength: 64 })),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => ({ node: await ctx.nodes.add(request.body, request.call) }),
    );

    const NodeName = { params: Type.Object({ name: Type.String({ maxLength: 63 }) }) };
    app.delete(`${ADMIN_PREFIX}/nodes/:name`, { config: admin(ACTIONS.removeNode), schema: NodeName }, async (request) => ({ node: await ctx.nodes.remove(request.params.name, request.call) }));
    app.post(`${ADMIN_PREFIX}/nodes/:name/check`, { config: admin(ACTIONS.checkNode), schema: NodeName }, async (request) => ({ node: await ctx.nodes.check(request.params.name, request.call) }));

    // The task as cachectl shows it: the Huawei fields, its enterprise project and who created it (the
    // Huawei answers stay as the spec has them).
    app.get(
      `${ADMIN_PREFIX}/tasks/:id`,
      { config: { rateClass: 'query', action: ACTIONS.queryCacheHistoryTask }, schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
      async (request) => {
        const t = await ctx.tasks.get(request.caller.accountId, request.params.id);
        request.call.check({ project: t.enterprise_project_id ?? '0' });
        return {
          task: {
            ...taskObject(t),
            enterprise_project_id: t.enterprise_project_id ?? '0',
            created_by: { user: t.created_by_user ?? null, access_key: t.created_by_key ?? null },
          },
        };
      },
    );

    // Where each URL of a task landed: every node's result, time taken and error (the Huawei answers
    // stay as the spec has them). The caller's own tasks only, in its projects, like the Huawei detail.
    app.get(
      `${ADMIN_PREFIX}/tasks/:id/nodes`,
      {
        config: { rateClass: 'query', action: ACTIONS.queryCacheHistoryTask },
        schema: {
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({ offset: Type.Optional(Type.String()), limit: Type.Optional(Type.String()), url: Type.Optional(Type.String({ maxLength: 4096 })) }),
        },
      },
      async (request) => {
        const offset = intParam(request.query.offset, 'offset', 0, 1_000_000_000, 0);
        const limit = intParam(request.query.limit, 'limit', 1, 10_000, 1000);
        const { task, urls } = await ctx.tasks.nodeResults(request.call, request.params.id, { offset, limit, url: request.query.url });
        return {
          task_id: String(task.id),
          total: Number(task.total),
          urls: urls.map(({ url, nodes }) => ({ id: String(url.id), url: url.url, status: url.status, nodes })),
        };
      },
    );

    app.get(
      `${ADMIN_PREFIX}/tasks/:id/wait`,
      { config: { rateClass: 'query', action: ACTIONS.queryCacheHistoryTask }, schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }), querystring: Type.Object({ timeout_ms: Type.Optional(Type.String()) }) } },
      async (request) => {
        const timeout = intParam(request.query.timeout_ms, 'timeout_ms', 0, 60_000, 30_000);
        const { done, task } = await ctx.tasks.waitDone(request.call, request.params.id, timeout);
        return { done, task: taskObject(task) };
      },
    );
  };
}
