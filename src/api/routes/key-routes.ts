// Access keys of an account's users (cachectl's own API): list (never a secret), add (the secret shown
// once), enable/disable/expiry/description, delete. The platform admin names another account with
// `?account=` (or `account` in the body of an add, as before), and without one lists and deletes any key.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { expiryOf } from '../../services/iam/key-service.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { AccountName, AccountQuery, NameParam, tenantOf } from '../tenant-of.js';
import { badParameter } from '../../errors.js';

const KeyParams = Type.Object({ access_key: Type.String({ minLength: 1, maxLength: 64 }) });
const KeyDescription = Type.Optional(Type.String({ maxLength: 200 }));
const Expiry = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 40 }), Type.Null()]);

export function keyRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(`${ADMIN_PREFIX}/keys`, { config: { action: ACTIONS.listKeys }, schema: { querystring: Type.Object({ account: AccountName, user: Type.Optional(NameParam) }) } }, async (request) => {
      const { account, user } = request.query;
      const call = await tenantOf(ctx, request, account);
      // The platform admin's plain listing covers every account (as before users had keys).
      const allAccounts = request.caller.isAdmin && account === undefined && user === undefined;
      return { keys: await ctx.iam.keys.list(call, { user, allAccounts }) };
    });

    app.post(
      `${ADMIN_PREFIX}/keys`,
      {
        config: { action: ACTIONS.createKey },
        schema: {
          querystring: AccountQuery,
          body: Type.Object({ account: AccountName, user: Type.Optional(NameParam), description: KeyDescription, expires_at: Type.Optional(Expiry) }, { additionalProperties: false }),
        },
      },
      async (request) => {
        const { body, query } = request;
        if (body.account !== undefined && query.account !== undefined && body.account !== query.account) throw badParameter('account: the body and the query name different accounts');
        const call = await tenantOf(ctx, request, body.account ?? query.account);
        return ctx.iam.keys.add(call, { user: body.user, description: body.description, expiresAt: expiryOf(body.expires_at) });
      },
    );

    app.put(
      `${ADMIN_PREFIX}/keys/:access_key`,
      {
        config: { action: ACTIONS.updateKey },
        schema: {
          params: KeyParams,
          querystring: AccountQuery,
          body: Type.Object({ enabled: Type.Optional(Type.Boolean()), expires_at: Type.Optional(Expiry), description: KeyDescription }, { additionalProperties: false }),
        },
      },
      async (request) => {
        const { call } = await ctx.iam.tenants.ofKey(request.call, request.caller.isAdmin, request.params.access_key, request.query.account);
        const { enabled, description } = request.body;
        return { key: await ctx.iam.keys.update(call, request.params.access_key, { enabled, description, expiresAt: expiryOf(request.body.expires_at) }) };
      },
    );

    app.delete(`${ADMIN_PREFIX}/keys/:access_key`, { config: { action: ACTIONS.deleteKey }, schema: { params: KeyParams, querystring: AccountQuery } }, async (request) => {
      const { call } = await ctx.iam.tenants.ofKey(request.call, request.caller.isAdmin, request.params.access_key, request.query.account);
      await ctx.iam.keys.remove(call, request.params.access_key);
      return { deleted: request.params.access_key };
    });
  };
}
