// One log line for every answered request: who called which route and how it ended. The route is its
// pattern (an id in the path stays out of the field); the caller is named by account, user and access
// key id, never by a header's value: no signature, token or password reaches the log. The health
// probes are logged at debug (a load balancer calls them every few seconds).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../logging/logger.js';

const PROBES = new Set(['/healthz', '/readyz']);

/** The caller as authenticated, else the access key id the request claimed (a refused signature). */
function whoCalled(request: FastifyRequest): Record<string, string | null> {
  const caller = request.caller;
  if (caller) return { account: caller.accountName, user: caller.userName, access_key: caller.accessKey };
  const credential = request.credential;
  if (credential?.kind === 'key') return { access_key: credential.parsed.accessKey };
  return {};
}

export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const level = PROBES.has(route) ? 'debug' : 'info';
    if ((request.log as Logger).isLevelEnabled(level)) {
      request.log[level](
        {
          method: request.method,
          route,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          ip: request.ip,
          ...whoCalled(request),
          ...(request.errorCode && { error_code: request.errorCode }),
        },
        'request',
      );
    }
    done();
  });
}
