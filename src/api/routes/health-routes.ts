// GET /healthz (the process answers) and GET /readyz (it can do its work: store, schema, engine, lease);
// public, for load balancers and orchestrators.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';

const Check = Type.String({ description: '"ok", or why not' });
const ReadyBody = Type.Object({
  ready: Type.Boolean(),
  failed: Type.Array(Type.Union([Type.Literal('store'), Type.Literal('migrations'), Type.Literal('engine'), Type.Literal('lease')])),
  checks: Type.Object({ store: Type.Optional(Check), migrations: Type.Optional(Check), engine: Type.Optional(Check), lease: Type.Optional(Check) }),
});

export function healthRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', { config: { auth: false }, schema: { summary: 'Alive: the process answers', response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => ({ ok: true }));

    app.get(
      '/readyz',
      { config: { auth: false }, schema: { summary: 'Ready: the store answers, migrations are done, the engine runs (and a shared-store worker holds its lease)', response: { 200: ReadyBody, 503: ReadyBody } } },
      async (_request, reply) => {
        const result = await ctx.readiness.check();
        return reply.code(result.ready ? 200 : 503).header('cache-control', 'no-store').send(result);
      },
    );
  };
}
