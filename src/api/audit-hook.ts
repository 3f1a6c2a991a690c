// The audit rows the HTTP layer writes: every authenticated call to a changing route that failed
// (before its answer is sent, so that a refused call is on record when the caller learns of it), and,
// with --audit-reads, every read call (after its answer). A successful change is recorded by its
// service, in the change's transaction. Unauthenticated calls are not recorded: an anonymous flood
// must not fill the table (password logins record themselves, in AuthService.login).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditService } from '../services/audit-service.js';

const MAX_NAME = 200;

/** The noun of an action: `cachectl:nodes:add` → node, `cdn:configuration:createDomains` → domain. */
function kindOf(action: string): string {
  const [service, noun, verb = ''] = action.split(':');
  if (service === 'cachectl') return ({ policies: 'policy', audit: 'audit' } as Record<string, string>)[noun] ?? noun.replace(/s$/, '');
  if (/Cache|Task/.test(verb)) return 'task';
  if (/Quota/.test(verb)) return 'quota';
  return 'domain';
}

// Path parameters that name their own kind of resource (the member of a group is a user).
const PARAM_KINDS: Record<string, string> = { domain_id: 'domain', domain_name: 'domain', user: 'user', policy: 'policy', access_key: 'key' };

// A call refused before its body was parsed (by its policies) still names what it asked for.
const SMALL_BODY = 64 * 1024;

function bodyOf(body: unknown): unknown {
  if (!Buffer.isBuffer(body)) return body;
  if (body.length > SMALL_BODY) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * What a failed call was about, as the caller named it: the last path parameter (a v1 domain route
 * names the domain by id), else the name in the body of a create, else the kind alone (`task/`: a
 * refused create made no task).
 */
export function resourceOf(request: FastifyRequest): string {
  const kind = kindOf(request.call.action.name);
  const params = Object.entries((request.params ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v === 'string');
  if (params.length > 0) {
    const [key, value] = params[params.length - 1];
    return `${PARAM_KINDS[key] ?? kind}/${String(value).slice(0, MAX_NAME)}`;
  }
  const body = bodyOf(request.body) as { domain?: { domain_name?: unknown }; name?: unknown } | undefined;
  const named = typeof body === 'object' && body !== null ? (body.domain?.domain_name ?? body.name) : undefined;
  return `${kind}/${typeof named === 'string' ? named.toLowerCase().slice(0, MAX_NAME) : ''}`;
}

/** A call that may change something: its action is not a read, or its method is not GET. */
const changing = (request: FastifyRequest) => !request.call.action.read || request.method !== 'GET';

export function registerAuditHooks(app: FastifyInstance, audit: AuditService): void {
  const write = async (request: FastifyRequest, status: number) => {
    const call = request.call;
    try {
      await audit.record([call.auditRow(resourceOf(request), status, status >= 400 ? (request.errorCode ?? null) : null)]);
    } catch (err) {
      request.log.error({ err }, 'writing an audit row failed');
    }
  };
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.call && !request.call.internal && reply.statusCode >= 400 && changing(request)) await write(request, reply.statusCode);
    return payload;
  });
  if (audit.recordsReads) {
    app.addHook('onResponse', async (request, reply) => {
      if (request.call && !request.call.internal && !changing(request)) await write(request, reply.statusCode);
    });
  }
}
