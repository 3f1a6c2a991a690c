// The account a management route acts on: the caller's own, or for the platform admin `?account=<name>`.
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from './context.js';
import type { Call } from '../services/iam/call.js';

export const AccountName = Type.Optional(Type.String({ minLength: 1, maxLength: 64 }));
/** The query of every management route: `?account=` (platform admin only). */
export const AccountQuery = Type.Object({ account: AccountName });
/** A name in a path (user, group, policy). */
export const NameParam = Type.String({ minLength: 1, maxLength: 128 });
export const Description = Type.Optional(Type.String({ maxLength: 255 }));

/** The request's call, acting on the account it names (CDN.0004 for a tenant naming another, CDN.0003 for an unknown one). */
export async function tenantOf(ctx: ApiContext, request: FastifyRequest, account: string | undefined): Promise<Call> {
  return (await ctx.iam.tenants.of(request.call, request.caller.isAdmin, account)).call;
}
