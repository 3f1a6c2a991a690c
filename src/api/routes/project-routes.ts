// Enterprise projects of an account (cachectl's own API): list (with '0', default), add, delete, and
// moving a domain from one project to another.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { AccountQuery, Description, tenantOf } from '../tenant-of.js';

export function projectRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(`${ADMIN_PREFIX}/projects`, { config: { action: ACTIONS.listProjects }, schema: { querystring: AccountQuery } }, async (request) => {
      return { projects: await ctx.iam.projects.list(await tenantOf(ctx, request, request.query.account)) };
    });

    app.post(
      `${ADMIN_PREFIX}/projects`,
      { config: { action: ACTIONS.createProject }, schema: { querystring: AccountQuery, body: Type.Object({ name: Type.String({ maxLength: 128 }), description: Description }, { additionalProperties: false }) } },
      async (request) => ({ project: await ctx.iam.projects.create(await tenantOf(ctx, request, request.query.account), request.body) }),
    );

    app.delete(`${ADMIN_PREFIX}/projects/:id`, { config: { action: ACTIONS.deleteProject }, schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), querystring: AccountQuery } }, async (request) => {
      await ctx.iam.projects.remove(await tenantOf(ctx, request, request.query.account), request.params.id);
      return { deleted: request.params.id };
    });

    app.put(
      `${ADMIN_PREFIX}/domains/:domain_name/project`,
      {
        config: { action: ACTIONS.moveDomain },
        schema: {
          params: Type.Object({ domain_name: Type.String({ minLength: 1, maxLength: 255 }) }),
          querystring: AccountQuery,
          body: Type.Object({ enterprise_project_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        },
      },
      async (request) => {
        const call = await tenantOf(ctx, request, request.query.account);
        return { domain: await ctx.iam.projects.moveDomain(call, request.params.domain_name, request.body.enterprise_project_id) };
      },
    );
  };
}
