// cachectl's own per-domain settings (not part of Huawei's API), for the domain's own account:
// GET/PUT /cachectl/v1/domains/{domain_name}/prefetch-timeout.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { ACTIONS } from '../../services/iam/actions.js';
import { ADMIN_PREFIX } from './admin-routes.js';
import { PREFETCH_TIMEOUT_MAX_MS, PREFETCH_TIMEOUT_MIN_MS } from '../../config.js';

const NameParams = Type.Object({ domain_name: Type.String({ minLength: 1, maxLength: 255 }) });
const Body = Type.Object({
  // null: back to the server's --prefetch-timeout-ms.
  prefetch_timeout_ms: Type.Union([Type.Integer({ minimum: PREFETCH_TIMEOUT_MIN_MS, maximum: PREFETCH_TIMEOUT_MAX_MS }), Type.Null()]),
});

export function domainSettingsRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const path = `${ADMIN_PREFIX}/domains/:domain_name/prefetch-timeout`;
    app.get(path, { config: { action: ACTIONS.queryDomains }, schema: { params: NameParams } }, async (request) => ctx.domainSettings.get(request.call, request.params.domain_name));
    app.put(path, { config: { action: ACTIONS.modifyOriginConfInfo }, schema: { params: NameParams, body: Body } }, async (request) =>
      ctx.domainSettings.setPrefetchTimeout(request.call, request.params.domain_name, request.body.prefetch_timeout_ms),
    );
  };
}
