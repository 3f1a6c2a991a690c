// The IAM calls SDKs and tools make before a CDN call (§12, §14, docs/huawei-iam-discovery.md):
// password → domain-scoped token, the account of a key, the project of a region, the service catalog.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { authFailed, badParameter, throttled } from '../../errors.js';
import { NoQuery } from '../query-params.js';

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

/** Region names as Huawei spells them (`cn-north-4`, `ap-southeast-1`, `eu-west-101`). */
const REGION_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;
const ProjectsQuery = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 64 })),
  domain_id: Type.Optional(Type.String({ maxLength: 64 })),
  // Keystone's other filters are accepted; the one project of a region is enabled, not a domain.
  enabled: Type.Optional(Type.String({ maxLength: 8 })),
  is_domain: Type.Optional(Type.String({ maxLength: 8 })),
  parent_id: Type.Optional(Type.String({ maxLength: 64 })),
  page: Type.Optional(Type.String({ maxLength: 10 })),
  per_page: Type.Optional(Type.String({ maxLength: 10 })),
});

/**
 * Every account has one project per region name, made up on demand: the tools only need an id that
 * is stable (the same in every process, no store row) and the account's own. A hash of both gives
 * that, in IAM's 32-hex shape, and tells nothing about another account.
 */
export function projectIdOf(accountId: string, region: string): string {
  return createHash('sha256').update(`cachectl-project\0${accountId}\0${region}`).digest('hex').slice(0, 32);
}

/** This server as the caller reached it: every service in the catalog is this one address. */
const baseUrl = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

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
      const userAgent = String(request.headers['user-agent'] ?? '');
      const result = await ctx.auth.login({ accountName: user.domain.name, accountId: user.domain.id, user: user.name, password: user.password, source, userAgent, requestId: request.id, scope: scope?.domain });
      if (result.kind === 'throttled') {
        const seconds = Math.max(1, Math.ceil(result.waitMs / 1000));
        reply.header('Retry-After', String(seconds));
        throw throttled(result.by === 'busy' ? 'Too many logins at once: try again shortly.' : `Too many failed logins: try again in ${seconds} s.`);
      }
      if (result.kind === 'failed') {
        // Recorded on the audit trail by login(); this line adds the throttle's counts (never the
        // password): one per verified attempt, none for the refusals while a delay runs.
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
      // Checked before a token is made: none is stored, and the trail records a refusal.
      if (result.kind === 'wrong-scope') throw authFailed('The token can only be scoped to the user\'s own account.');
      const issued = result.issued;
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

    app.get('/v3/auth/domains', { config: { action: null }, schema: { querystring: NoQuery } }, async (request) => {
      const self = `${baseUrl(request)}/v3/auth/domains`;
      return {
        domains: [{ id: request.caller.accountId, name: request.caller.accountName, enabled: true, description: '', links: { self } }],
        links: { self },
      };
    });

    // KeystoneListProjects, as the Go/Node/Python SDKs' BasicCredentials (`?name=<region>`) and the
    // Terraform provider (`?domain_id=…&name=<region>`) send it to learn a region's project id.
    app.get('/v3/projects', { config: { action: null }, schema: { querystring: ProjectsQuery } }, async (request) => {
      const { name, domain_id: domainId, enabled, is_domain: isDomain, parent_id: parentId } = request.query;
      const base = baseUrl(request);
      const { accountId } = request.caller;
      const self = `${base}${request.url}`;
      // Without a name there is no region to answer for: Keystone's filter semantics give none.
      const matches =
        name !== undefined &&
        REGION_NAME.test(name) &&
        (domainId === undefined || domainId === accountId) &&
        (parentId === undefined || parentId === accountId) &&
        (enabled === undefined || enabled === 'true') &&
        (isDomain === undefined || isDomain === 'false');
      const projects = matches
        ? [
            {
              id: projectIdOf(accountId, name),
              name,
              domain_id: accountId,
              parent_id: accountId,
              description: '',
              enabled: true,
              is_domain: false,
              links: { self: `${base}/v3/projects/${projectIdOf(accountId, name)}` },
            },
          ]
        : [];
      return { projects, links: { self, previous: null, next: null } };
    });

    // KeystoneListAuthCatalog: chnsz/golangsdk (the Terraform provider) reads it after AK/SK setup.
    // CDN and IAM are global services; both are this server.
    app.get('/v3/auth/catalog', { config: { action: null }, schema: { querystring: NoQuery } }, async (request) => {
      const base = baseUrl(request);
      const entry = (type: string, name: string) => ({
        id: `cachectl-${name}`,
        name,
        type,
        endpoints: [{ id: `cachectl-${name}-public`, interface: 'public', region: '*', region_id: '*', url: name === 'iam' ? `${base}/v3` : base }],
      });
      return { catalog: [entry('cdn', 'cdn'), entry('identity', 'iam')], links: { self: `${base}/v3/auth/catalog` } };
    });
  };
}
