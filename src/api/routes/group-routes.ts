// IAM user groups of an account (cachectl's own API): groups, their members, and the policies attached
// to them for every enterprise project ('*') or one.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { ALL_PROJECTS } from '../../services/iam/group-service.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { AccountName, AccountQuery, Description, NameParam, tenantOf } from '../tenant-of.js';

const GroupParams = Type.Object({ name: NameParam });
const MemberParams = Type.Object({ name: NameParam, user: NameParam });
const ProjectId = Type.Optional(Type.String({ minLength: 1, maxLength: 64 }));

export function groupRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(`${ADMIN_PREFIX}/groups`, { config: { action: ACTIONS.listGroups }, schema: { querystring: AccountQuery } }, async (request) => {
      return { groups: await ctx.iam.groups.list(await tenantOf(ctx, request, request.query.account)) };
    });

    app.post(
      `${ADMIN_PREFIX}/groups`,
      { config: { action: ACTIONS.createGroup }, schema: { querystring: AccountQuery, body: Type.Object({ name: Type.String({ maxLength: 128 }), description: Description }, { additionalProperties: false }) } },
      async (request) => ({ group: await ctx.iam.groups.create(await tenantOf(ctx, request, request.query.account), request.body) }),
    );

    app.get(`${ADMIN_PREFIX}/groups/:name`, { config: { action: ACTIONS.listGroups }, schema: { params: GroupParams, querystring: AccountQuery } }, async (request) => {
      return { group: await ctx.iam.groups.get(await tenantOf(ctx, request, request.query.account), request.params.name) };
    });

    app.put(
      `${ADMIN_PREFIX}/groups/:name`,
      {
        config: { action: ACTIONS.updateGroup },
        schema: { params: GroupParams, querystring: AccountQuery, body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 128 })), description: Description }, { additionalProperties: false }) },
      },
      async (request) => ({ group: await ctx.iam.groups.update(await tenantOf(ctx, request, request.query.account), request.params.name, request.body) }),
    );

    app.delete(`${ADMIN_PREFIX}/groups/:name`, { config: { action: ACTIONS.deleteGroup }, schema: { params: GroupParams, querystring: AccountQuery } }, async (request) => {
      await ctx.iam.groups.remove(await tenantOf(ctx, request, request.query.account), request.params.name);
      return { deleted: request.params.name };
    });

    app.put(`${ADMIN_PREFIX}/groups/:name/members/:user`, { config: { action: ACTIONS.updateGroup }, schema: { params: MemberParams, querystring: AccountQuery } }, async (request) => {
      return { group: await ctx.iam.groups.addMember(await tenantOf(ctx, request, request.query.account), request.params.name, request.params.user) };
    });

    app.delete(`${ADMIN_PREFIX}/groups/:name/members/:user`, { config: { action: ACTIONS.updateGroup }, schema: { params: MemberParams, querystring: AccountQuery } }, async (request) => {
      return { group: await ctx.iam.groups.removeMember(await tenantOf(ctx, request, request.query.account), request.params.name, request.params.user) };
    });

    app.get(`${ADMIN_PREFIX}/groups/:name/policies`, { config: { action: ACTIONS.listGroups }, schema: { params: GroupParams, querystring: AccountQuery } }, async (request) => {
      return { policies: await ctx.iam.groups.attachments(await tenantOf(ctx, request, request.query.account), request.params.name) };
    });

    app.post(
      `${ADMIN_PREFIX}/groups/:name/policies`,
      {
        config: { action: ACTIONS.attachPolicy },
        schema: { params: GroupParams, querystring: AccountQuery, body: Type.Object({ policy: NameParam, enterprise_project_id: ProjectId }, { additionalProperties: false }) },
      },
      async (request) => {
        const call = await tenantOf(ctx, request, request.query.account);
        return { policies: await ctx.iam.groups.attach(call, request.params.name, request.body.policy, request.body.enterprise_project_id ?? ALL_PROJECTS) };
      },
    );

    app.delete(
      `${ADMIN_PREFIX}/groups/:name/policies/:policy`,
      {
        config: { action: ACTIONS.detachPolicy },
        schema: { params: Type.Object({ name: NameParam, policy: NameParam }), querystring: Type.Object({ account: AccountName, enterprise_project_id: ProjectId }) },
      },
      async (request) => {
        const call = await tenantOf(ctx, request, request.query.account);
        return { policies: await ctx.iam.groups.detach(call, request.params.name, request.params.policy, request.query.enterprise_project_id ?? ALL_PROJECTS) };
      },
    );
  };
}
