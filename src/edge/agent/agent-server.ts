// The edge agent: runs beside an nginx or ATS (which have no control API of their own) and serves the
// local engine's EdgeDriver over the built-in edge's JSON control protocol (see builtin/admin-handler.ts),
// so the control plane drives every non-Varnish node with the same client (BuiltinDriver).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EdgeDriver, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { AdminError, callTimeoutOf, parseDomains, parseItems, readJson } from '../builtin/admin-requests.js';
import { PrefetchFlights } from './prefetch-flights.js';
import { anonymousControlRefusal, bearerCheck } from '../control-secret.js';

export interface AgentServerOptions {
  host: string;
  port: number;
  /** When set, every request must carry `Authorization: Bearer <secret>`. */
  secret?: string;
  /** Names the engine in failure messages, e.g. "nginx". */
  engineName: string;
}

export interface RunningAgent {
  url: string;
  close(): Promise<void>;
}

type Operation = 'purge' | 'purgeDirectory' | 'revalidate' | 'revalidateDirectory' | 'prefetch';
const ROUTES: Record<string, Operation> = {
  '/purge': 'purge',
  '/purge-directory': 'purgeDirectory',
  '/revalidate': 'revalidate',
  '/revalidate-directory': 'revalidateDirectory',
  '/prefetch': 'prefetch',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The wire form of one result: the agent passes the engine's own words on as `detail`. */
function toWire(r: EdgeResult): Record<string, unknown> {
  return r.ok ? { ok: true, detail: r.detail ?? 'done' } : { ok: false, classify: r.classify, retryable: r.retryable, message: r.message };
}

export async function startAgentServer(engine: EdgeDriver, opts: AgentServerOptions): Promise<RunningAgent> {
  const refusal = anonymousControlRefusal(opts.host, opts.secret, 'give --secret-file');
  if (refusal) throw new Error(refusal);
  const authorized = bearerCheck(opts.secret);
  const flights = new PrefetchFlights(engine);

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorized(req.headers.authorization)) throw new AdminError(401, 'missing or wrong bearer secret');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      if (req.method !== 'GET') throw new AdminError(405, '/health takes GET');
      const h = await engine.health();
      return sendJson(res, 200, {
        up: h.up,
        ...(h.domainsVersion !== undefined && { domainsVersion: h.domainsVersion }),
        ...(h.directPurge && { directPurge: h.directPurge }),
        detail: `${opts.engineName}: ${h.detail ?? (h.up ? 'up' : 'down')}`,
      });
    }
    if (path === '/domains') {
      if (req.method !== 'PUT') throw new AdminError(405, '/domains takes PUT');
      const { version, domains } = parseDomains(await readJson(req));
      try {
        await engine.applyDomains(domains, version);
      } catch (err) {
        throw new AdminError(502, `${opts.engineName} did not apply the domains: ${(err as Error).message}`);
      }
      return sendJson(res, 200, { version });
    }
    const op = ROUTES[path];
    if (!op) throw new AdminError(404, `no route ${req.method ?? ''} ${path}`);
    if (req.method !== 'POST') throw new AdminError(405, `${path} takes POST`);
    const items: EdgeTarget[] = parseItems(await readJson(req));
    let results: EdgeResult[];
    try {
      // The caller's wait bounds the engine's work (a prefetch of a slow or large object takes minutes).
      const timeoutMs = callTimeoutOf(req);
      const options = timeoutMs === undefined ? undefined : { timeoutMs };
      results = op === 'prefetch' ? await flights.prefetch(items, options) : await engine[op](items, options);
    } catch (err) {
      // The engine could not be asked at all (down, timeout): every item may succeed on a later try.
      const message = `${opts.engineName}: ${(err as Error).message}`;
      results = items.map(() => ({ ok: false, classify: 'INNER_ERROR', retryable: true, message }));
    }
    sendJson(res, 200, { results: results.map(toWire) });
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof AdminError) {
        if (err.status === 413) res.shouldKeepAlive = false;
        if (err.status === 401) res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, err.status, { error: err.message });
      }
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, opts.host, () => resolve()));
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
