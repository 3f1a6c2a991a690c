// IAM users of an account (cachectl's own API): list, add, show, change, delete.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { AccountQuery, Description, NameParam, tenantOf } from '../tenant-of.js';

const Password = Type.Optional(Type.String({ minLength: 1, maxLength: 128 }));
const UserParams = Type.Object({ name: NameParam });

export function userRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(`${ADMIN_PREFIX}/users`, { config: { action: ACTIONS.listUsers }, schema: { querystring: AccountQuery } }, async (request) => {
      return { users: await ctx.iam.users.list(await tenantOf(ctx, request, request.query.account)) };
    });

    app.post(
      `${ADMIN_PREFIX}/users`,
      {
        config: { action: ACTIONS.createUser },
        schema: {
          querystring: AccountQuery,
          body: Type.Object(
            { name: Type.String({ maxLength: 128 }), password: Password, description: Description, groups: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100 })), enabled: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => ctx.iam.users.create(await tenantOf(ctx, request, request.query.account), request.body),
    );

    app.get(`${ADMIN_PREFIX}/users/:name`, { config: { action: ACTIONS.listUsers }, schema: { params: UserParams, querystring: AccountQuery } }, async (request) => {
      return { user: await ctx.iam.users.get(await tenantOf(ctx, request, request.query.account), request.params.name) };
    });

    app.put(
      `${ADMIN_PREFIX}/users/:name`,
      {
        config: { action: ACTIONS.updateUser },
        schema: {
          params: UserParams,
          querystring: AccountQuery,
          body: Type.Object({ enabled: Type.Optional(Type.Boolean()), password: Password, description: Description }, { additionalProperties: false }),
        },
      },
      async (request) => ({ user: await ctx.iam.users.update(await tenantOf(ctx, request, request.query.account), request.params.name, request.body) }),
    );

    app.delete(`${ADMIN_PREFIX}/users/:name`, { config: { action: ACTIONS.deleteUser }, schema: { params: UserParams, querystring: AccountQuery } }, async (request) => {
      const keys = await ctx.iam.users.remove(await tenantOf(ctx, request, request.query.account), request.params.name);
      return { deleted: request.params.name, access_keys: keys };
    });
  };
}
