// IAM policies of an account (cachectl's own API): the system ones (read-only) and custom ones in
// Huawei's JSON form, validated when written.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { AccountQuery, Description, NameParam, tenantOf } from '../tenant-of.js';

const PolicyParams = Type.Object({ name: NameParam });
// The document is checked by parsePolicyDocument, which names the defect (CDN.0001); a JSON string is taken too.
const Document = Type.Union([Type.Object({}, { additionalProperties: true }), Type.String({ maxLength: 6144 })]);

export function policyRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(`${ADMIN_PREFIX}/policies`, { config: { action: ACTIONS.listPolicies }, schema: { querystring: AccountQuery } }, async (request) => {
      return { policies: await ctx.iam.policies.list(await tenantOf(ctx, request, request.query.account)) };
    });

    app.post(
      `${ADMIN_PREFIX}/policies`,
      { config: { action: ACTIONS.createPolicy }, schema: { querystring: AccountQuery, body: Type.Object({ name: Type.String({ maxLength: 128 }), description: Description, policy: Document }, { additionalProperties: false }) } },
      async (request) => ({ policy: await ctx.iam.policies.create(await tenantOf(ctx, request, request.query.account), request.body) }),
    );

    app.get(`${ADMIN_PREFIX}/policies/:name`, { config: { action: ACTIONS.listPolicies }, schema: { params: PolicyParams, querystring: AccountQuery } }, async (request) => {
      return { policy: await ctx.iam.policies.resolve(await tenantOf(ctx, request, request.query.account), request.params.name) };
    });

    app.put(
      `${ADMIN_PREFIX}/policies/:name`,
      {
        config: { action: ACTIONS.updatePolicy },
        schema: { params: PolicyParams, querystring: AccountQuery, body: Type.Object({ description: Description, policy: Type.Optional(Document) }, { additionalProperties: false }) },
      },
      async (request) => ({ policy: await ctx.iam.policies.update(await tenantOf(ctx, request, request.query.account), request.params.name, request.body) }),
    );

    app.delete(`${ADMIN_PREFIX}/policies/:name`, { config: { action: ACTIONS.deletePolicy }, schema: { params: PolicyParams, querystring: AccountQuery } }, async (request) => {
      await ctx.iam.policies.remove(await tenantOf(ctx, request, request.query.account), request.params.name);
      return { deleted: request.params.name };
    });
  };
}
