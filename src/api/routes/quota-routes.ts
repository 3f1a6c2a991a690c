// ShowQuota (§7.1).
import { ACTIONS } from '../../services/iam/actions.js';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';

const Quota = Type.Object({ type: Type.String(), quota_limit: Type.Integer(), used: Type.Integer(), user_domain_id: Type.String() });
export const QuotaList = Type.Object({ quotas: Type.Array(Quota) });

export function quotaRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1.0/cdn/quota',
      { config: { rateClass: 'quota', action: ACTIONS.queryQuota }, schema: { querystring: Type.Object({ enterprise_project_id: Type.Optional(Type.String()) }), response: { 200: QuotaList } } },
      async (request) => ({ quotas: await ctx.quotas.show(request.caller.accountId) }),
    );
  };
}
