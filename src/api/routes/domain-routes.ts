// Accelerated domains (§11): create, list, detail (v1 by id, v2 by name), origin changes (v1 by id,
// v1.1 full config by name, sources only), enable, disable, delete.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { deletedDomainObject, domainDetailObject, domainObject, originObject } from '../presenters.js';
import { sourcesFromConfigs } from '../source-configs.js';
import { boolParam, enumParam, intParam } from '../query-params.js';
import { badParameter } from '../../errors.js';
import { ACTIONS } from '../../services/iam/actions.js';

const S = Type.Optional(Type.String());
const EpQuery = Type.Object({ enterprise_project_id: S });
const IdParams = Type.Object({ domain_id: Type.String({ maxLength: 64 }) });
const NameParams = Type.Object({ domain_name: Type.String({ minLength: 1, maxLength: 255 }) });
const Source = Type.Object({
  ip_or_domain: Type.Optional(Type.String()),
  origin_type: Type.Optional(Type.String()),
  active_standby: Type.Optional(Type.Integer()),
  http_port: Type.Optional(Type.Integer()),
  https_port: Type.Optional(Type.Integer()),
  obs_bucket_type: Type.Optional(Type.String()),
  enable_obs_web_hosting: Type.Optional(Type.Integer()),
});
const CreateBody = Type.Object({
  domain: Type.Object({
    domain_name: Type.String({ maxLength: 255 }),
    business_type: Type.String(),
    service_area: Type.Optional(Type.String()),
    sources: Type.Array(Source),
    enterprise_project_id: Type.Optional(Type.String()),
  }),
});

const OriginBody = Type.Object({ origin: Type.Object({ sources: Type.Array(Source) }) });
const ConfigsBody = Type.Object({ configs: Type.Object({}) });

export function domainRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/v1.0/cdn/domains', { config: { action: ACTIONS.createDomains }, schema: { querystring: EpQuery, body: CreateBody } }, async (request) => {
      const row = await ctx.domains.create(request.call, request.body.domain);
      return { domain: domainObject(row, false) };
    });

    app.get(
      '/v1.0/cdn/domains',
      {
        config: { action: ACTIONS.queryDomains },
        schema: {
          querystring: Type.Object({
            domain_name: S,
            business_type: S,
            domain_status: S,
            service_area: S,
            page_size: S,
            page_number: S,
            show_tags: S,
            exact_match: S,
            enterprise_project_id: S,
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const size = intParam(q.page_size, 'page_size', 1, 10000, 30);
        const number = intParam(q.page_number, 'page_number', 1, 65535, 1);
        if (q.domain_name !== undefined && q.domain_name.length > 255) throw badParameter('domain_name is at most 255 characters');
        boolParam(q.show_tags, 'show_tags');
        const { total, rows } = await ctx.domains.list(request.call, {
          project: q.enterprise_project_id,
          name: q.domain_name === undefined || q.domain_name === '' ? undefined : q.domain_name.toLowerCase(),
          exactMatch: boolParam(q.exact_match, 'exact_match') ?? false,
          businessType: enumParam(q.business_type, 'business_type', ['web', 'download', 'video', 'wholeSite'] as const),
          status: enumParam(q.domain_status, 'domain_status', ['online', 'offline', 'configuring', 'configure_failed', 'checking', 'check_failed', 'deleting'] as const),
          serviceArea: enumParam(q.service_area, 'service_area', ['mainland_china', 'outside_mainland_china', 'global'] as const),
          limit: size,
          offset: (number - 1) * size,
        });
        return { total, domains: rows.map((r) => domainObject(r, true)) };
      },
    );

    app.get('/v1.0/cdn/domains/:domain_id/detail', { config: { action: ACTIONS.queryDomains }, schema: { params: IdParams, querystring: EpQuery } }, async (request) => {
      return { domain: domainObject(await ctx.domains.get(request.call, request.params.domain_id), true) };
    });

    // v2 ShowDomainDetailByName (§11.3).
    app.get('/v1.0/cdn/configuration/domains/:domain_name', { config: { action: ACTIONS.queryDomains }, schema: { params: NameParams, querystring: EpQuery } }, async (request) => {
      return { domain: domainDetailObject(await ctx.domains.getByName(request.call, request.params.domain_name)) };
    });

    // v1 UpdateDomainOrigin: the whole origin list, answered as stored.
    app.put('/v1.0/cdn/domains/:domain_id/origin', { config: { action: ACTIONS.modifyOriginServerInfo }, schema: { params: IdParams, querystring: EpQuery, body: OriginBody } }, async (request) => {
      const row = await ctx.domains.updateOrigins(request.call, request.params.domain_id, request.body.origin.sources);
      return { origin: originObject(row) };
    });

    // v1.1 UpdateDomainFullConfig, `sources` only (see source-configs.ts). The SDK models read no body:
    // `{}` rather than nothing, so that the Node SDK still hands the caller the X-Request-Id header.
    app.put('/v1.1/cdn/configuration/domains/:domain_name/configs', { config: { action: ACTIONS.modifyOriginServerInfo }, schema: { params: NameParams, querystring: EpQuery, body: ConfigsBody } }, async (request) => {
      const row = await ctx.domains.getByName(request.call, request.params.domain_name);
      await ctx.domains.updateOrigins(request.call, row.id, sourcesFromConfigs(row.name, request.body.configs as Record<string, unknown>));
      return {};
    });

    app.put('/v1.0/cdn/domains/:domain_id/enable', { config: { action: ACTIONS.enableDomains }, schema: { params: IdParams, querystring: EpQuery } }, async (request) => {
      return { domain: domainObject(await ctx.domains.enable(request.call, request.params.domain_id), true) };
    });

    app.put('/v1.0/cdn/domains/:domain_id/disable', { config: { action: ACTIONS.disableDomains }, schema: { params: IdParams, querystring: EpQuery } }, async (request) => {
      return { domain: domainObject(await ctx.domains.disable(request.call, request.params.domain_id), true) };
    });

    app.delete('/v1.0/cdn/domains/:domain_id', { config: { action: ACTIONS.deleteDomains }, schema: { params: IdParams, querystring: EpQuery } }, async (request) => {
      return { domain: deletedDomainObject(await ctx.domains.remove(request.call, request.params.domain_id)) };
    });
  };
}
