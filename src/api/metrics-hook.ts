// Counts each answered request by its route pattern (never the URL: one series per route, whatever
// the ids in it), method and status, with its duration.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';

export function registerMetricsHook(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Requests that matched no route share one series.
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    metrics.httpRequests.labels(route, request.method, String(reply.statusCode)).inc();
    metrics.httpSeconds.labels(route, request.method).observe(reply.elapsedTime / 1000);
    done();
  });
}
