// The two IAM calls the SDKs make (§12, §14): password → domain-scoped token, and the account of a key.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { authFailed, badParameter, throttled } from '../../errors.js';

const NameOrId = Type.Object({ name: Type.Optional(Type.String()), id: Type.Optional(Type.String()) });
const TokenBody = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String()),
      password: Type.Object({ user: Type.Object({ name: Type.String(), password: Type.String(), domain: NameOrId }) }),
    }),
    scope: Type.Optional(Type.Object({ domain: Type.Optional(NameOrId), project: Type.Optional(NameOrId) })),
  }),
});

/** ISO-8601 with microseconds, as IAM writes it. */
const iamTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function iamRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v3/auth/tokens', { config: { auth: false }, schema: { querystring: Type.Object({ nocatalog: Type.Optional(Type.String()) }), body: TokenBody } }, async (request, reply) => {
      const { identity, scope } = request.body.auth;
      if (!identity.methods.includes('password')) throw badParameter('only the password method is supported');
      if (scope?.project) throw badParameter('CDN needs a domain-scoped token: scope.domain, not scope.project');
      const user = identity.password.user;
      const source = request.ip;
      const result = await ctx.auth.login({ accountName: user.domain.name, accountId: user.domain.id, user: user.name, password: user.password, source });
      if (result.kind === 'throttled') {
        const seconds = Math.max(1, Math.ceil(result.waitMs / 1000));
        reply.header('Retry-After', String(seconds));
        throw throttled(result.by === 'busy' ? 'Too many logins at once: try again shortly.' : `Too many failed logins: try again in ${seconds} s.`);
      }
      if (result.kind === 'failed') {
        // The audit record of failed logins (never the password); one line per verified attempt,
        // which the throttle bounds, and none for the refusals while a delay runs.
        request.log.warn(
          {
            audit: 'login_failed',
            account: (user.domain.name ?? user.domain.id ?? '').slice(0, 64),
            user: user.name.slice(0, 64),
            source,
            // This user from this source, this user from all sources not known for it, this source.
            user_failures: result.userFailures,
            user_failures_all_sources: result.allSourcesFailures,
            source_failures: result.addressFailures,
            delay_ms: result.delayMs,
          },
          result.delayMs > 0 ? 'failed login; further attempts wait' : 'failed login',
        );
        throw authFailed('The username or password is wrong.');
      }
      const issued = result.issued;
      const scoped = scope?.domain;
      if (scoped && ((scoped.id !== undefined && scoped.id !== issued.account.id) || (scoped.name !== undefined && scoped.name !== issued.account.name))) {
        throw authFailed('The token can only be scoped to the user\'s own account.');
      }
      reply.code(201).header('X-Subject-Token', issued.token);
      return {
        token: {
          expires_at: iamTime(issued.expiresAt),
          issued_at: iamTime(issued.issuedAt),
          methods: ['password'],
          catalog: [],
          domain: issued.account,
          roles: [{ id: '0', name: 'cdn_admin' }],
          user: { id: issued.user.id, name: issued.user.name, password_expires_at: '', domain: issued.account },
        },
      };
    });

    app.get('/v3/auth/domains', {}, async (request) => {
      const self = `${request.protocol}://${request.host}/v3/auth/domains`;
      return {
        domains: [{ id: request.caller.accountId, name: request.caller.accountName, enabled: true, description: '', links: { self } }],
        links: { self },
      };
    });
  };
}
