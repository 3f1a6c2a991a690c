// GET /cachectl/v1/audit: the caller's account's audit trail, newest first, in pages (keyset paging by
// id: `next_marker`), or every matching row as NDJSON (format=ndjson, streamed a page at a time).
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { MAX_EPOCH_MS, enumParam, intParam } from '../query-params.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { MAX_PAGE } from '../../services/audit-service.js';

const Text = Type.Optional(Type.String({ maxLength: 256 }));
const AuditQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ maxLength: 20 })),
    to: Type.Optional(Type.String({ maxLength: 20 })),
    user: Text,
    action: Text,
    resource: Text,
    outcome: Type.Optional(Type.String({ maxLength: 16 })),
    limit: Type.Optional(Type.String({ maxLength: 10 })),
    marker: Type.Optional(Type.String({ maxLength: 20 })),
    format: Type.Optional(Type.String({ maxLength: 16 })),
    account: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export function auditRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(`${ADMIN_PREFIX}/audit`, { config: { rateClass: 'query', action: ACTIONS.readAudit }, schema: { querystring: AuditQuery } }, async (request, reply) => {
      const q = request.query;
      const format = enumParam(q.format, 'format', ['json', 'ndjson'] as const) ?? 'json';
      const filter = await ctx.audit.filterOf(request.call, request.caller.isAdmin, {
        ...q,
        from: intParam(q.from, 'from', 0, MAX_EPOCH_MS),
        to: intParam(q.to, 'to', 0, MAX_EPOCH_MS),
        limit: intParam(q.limit, 'limit', 1, MAX_PAGE, 100),
      });
      if (format === 'json') return ctx.audit.page(filter);
      const lines = async function* () {
        for await (const e of ctx.audit.all(filter)) yield `${JSON.stringify(e)}\n`;
      };
      return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
    });
  };
}
