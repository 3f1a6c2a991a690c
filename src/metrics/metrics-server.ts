// GET /metrics on its own listen address (--metrics-listen), without credentials: meant for a
// scraper on a private network, never exposed with the API. With `readiness`, /healthz and /readyz are
// served there too, as on the API port: a worker (--role worker) has no API port, and this is where an
// orchestrator probes it. Anything else answers 404.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `metrics.registry`: a server's (Metrics) or a PoP agent's (AgentMetrics). */
export async function startMetricsServer(metrics: { registry: Registry }, host: string, port: number, readiness?: { check(): Promise<{ ready: boolean }> }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
    if (readiness && (req.method === 'GET' || req.method === 'HEAD') && (path === '/healthz' || path === '/readyz')) {
      if (path === '/healthz') json(200, { ok: true });
      else
        readiness.check().then(
          (result) => json(result.ready ? 200 : 503, result),
          // The readiness checks answer their own failures; this is a bug's, and its text stays out of an open port.
          () => json(503, { ready: false, failed: ['readiness'], checks: {} }),
        );
      return;
    }
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      // A collector's error text stays off this open port.
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting the metrics failed\n'),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
