// The admin side of the built-in edge: the JSON control endpoint BuiltinDriver speaks. GET /health,
// PUT /domains, and POST /purge, /purge-directory, /revalidate, /revalidate-directory and /prefetch,
// each taking {"items": [{"host", "path"}]} and answering one result per item, in order. With a secret,
// every call must carry it (`Authorization: Bearer <secret>`), checked before any body is read.
//
// Items name concrete hosts, as the control plane sends them: purges and revalidations act on the objects
// cached under that host (also when a wildcard domain serves it); a prefetch finds its origin through the
// same lookup as user traffic.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FillContext } from './cache-fill.js';
import { discard } from './cache-fill.js';
import type { HeaderRecord } from './cache-policy.js';
import type { EdgeNode } from './edge-node.js';
import { AdminError, callTimeoutOf, parseDomains, parseItems, readJson } from './admin-requests.js';
import type { Item, ItemResult } from './admin-requests.js';
import { bearerCheck } from '../control-secret.js';

const PREFETCH_CONCURRENCY = 16;
const NO_HEADERS: HeaderRecord = {};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Runs `work` over `items` with at most `limit` at once; results in item order. */
async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Operations this node has been asked to apply since it started, one per target item. */
export type OpCounts = Record<'purge' | 'purge_dir' | 'revalidate' | 'revalidate_dir' | 'prefetch', number>;

export class AdminHandler {
  // Reported by /health: they let tests prove no target was applied twice on a node.
  private readonly ops: OpCounts = { purge: 0, purge_dir: 0, revalidate: 0, revalidate_dir: 0, prefetch: 0 };
  /** Domain sets applied (PUT /domains) since start: tests prove the control plane does not push an unchanged set. */
  private domainPushes = 0;

  private readonly authorized: (authorization: string | undefined) => boolean;

  constructor(
    private readonly node: EdgeNode,
    secret?: string,
  ) {
    this.authorized = bearerCheck(secret);
  }

  private count<T>(kind: keyof OpCounts, items: T[]): T[] {
    this.ops[kind] += items.length;
    return items;
  }

  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (!this.authorized(req.headers.authorization)) {
      // Refused before the body is read: Node discards whatever body follows, without buffering it.
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, { error: 'missing or wrong bearer secret' });
    }
    this.serve(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof AdminError) {
        if (err.status === 413) res.shouldKeepAlive = false; // the rest of the body is not read
        return sendJson(res, err.status, { error: err.message });
      }
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method;
    const expect = (wanted: string): void => {
      if (method !== wanted) throw new AdminError(405, `${path} takes ${wanted}`);
    };
    const node = this.node;
    switch (path) {
      case '/health':
        expect('GET');
        return sendJson(res, 200, {
          up: true,
          domainsVersion: node.domains.version,
          entries: node.cache.entries,
          bytes: node.cache.bytes,
          bootId: node.bootId,
          ops: this.ops,
          domainPushes: this.domainPushes,
        });
      case '/domains': {
        expect('PUT');
        const { version, domains } = parseDomains(await readJson(req));
        node.applyDomains(domains, version);
        this.domainPushes++;
        return sendJson(res, 200, { version });
      }
      case '/purge':
        expect('POST');
        return sendJson(res, 200, { results: this.count('purge', parseItems(await readJson(req))).map((i) => this.purge(i, false)) });
      case '/purge-directory':
        expect('POST');
        return sendJson(res, 200, { results: this.count('purge_dir', parseItems(await readJson(req))).map((i) => this.purge(i, true)) });
      case '/revalidate':
        expect('POST');
        return sendJson(res, 200, { results: this.count('revalidate', parseItems(await readJson(req))).map((i) => this.markStale(i, false)) });
      case '/revalidate-directory':
        expect('POST');
        return sendJson(res, 200, { results: this.count('revalidate_dir', parseItems(await readJson(req))).map((i) => this.markStale(i, true)) });
      case '/prefetch': {
        expect('POST');
        const items = this.count('prefetch', parseItems(await readJson(req)));
        // The caller's wait bounds the fills (a slow or large object may take minutes); without one,
        // the node's origin timeout does.
        const timeoutMs = callTimeoutOf(req) ?? this.node.origins.timeoutMs;
        return sendJson(res, 200, { results: await mapBounded(items, PREFETCH_CONCURRENCY, (i) => this.prefetch(i, timeoutMs)) });
      }
      default:
        throw new AdminError(404, `no route ${method ?? ''} ${path}`);
    }
  }

  private purge(item: Item, directory: boolean): ItemResult {
    const { cache, flights } = this.node;
    const purged = directory ? cache.purgePrefix(item.host, item.path) : cache.purge(item.host, item.path);
    flights.mark(item.host, item.path, directory, 'purge');
    return { ok: true, purged };
  }

  private markStale(item: Item, directory: boolean): ItemResult {
    const { cache, flights } = this.node;
    const marked = directory ? cache.markStalePrefix(item.host, item.path) : cache.markStale(item.host, item.path);
    flights.mark(item.host, item.path, directory, 'stale');
    return { ok: true, marked };
  }

  /**
   * GETs one object from its origin, bypassing the cache, and stores it (replacing any cached copy).
   * While a fetch of the same key runs (a user's miss, or an earlier try of this prefetch whose caller
   * gave up), its outcome is this prefetch's too: never a second fill of one key at once.
   */
  private async prefetch(item: Item, timeoutMs: number): Promise<ItemResult> {
    const { flights, origins } = this.node;
    const domain = this.node.domains.lookup(item.host);
    if (domain === undefined) {
      return { ok: false, classify: 'INNER_ERROR', retryable: true, message: `domain ${item.host} not configured on this node` };
    }
    if (item.path.charCodeAt(0) !== 47 /* / */) {
      return { ok: false, classify: 'INNER_ERROR', retryable: false, message: 'path must start with /' };
    }
    const running = flights.get(item.host, item.path);
    if (running !== undefined) {
      const shared = await running.promise;
      if (shared !== null && 'error' in shared) return { ok: false, classify: 'ORIGIN_ERROR', retryable: shared.error.kind !== 'bad-request', message: shared.error.message };
      if (shared !== null) {
        const { entry } = shared;
        return { ok: true, status: entry.status, stored: this.node.cache.get(item.host, item.path) === entry };
      }
      // That fetch stored nothing (not storable as it came): this prefetch asks for itself.
      if (flights.get(item.host, item.path) !== undefined) return this.prefetch(item, timeoutMs);
    }
    // Users asking for the key meanwhile wait for this fetch.
    const flight = flights.start(item.host, item.path);
    try {
      const headers = ['host', item.host, 'user-agent', 'cachectl-edge-prefetch', 'accept', '*/*'];
      // The whole fill ends when the caller stops waiting: an object stored later would be held by a node
      // whose prefetch was counted failed.
      const bound = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) };
      const answer = await origins.ask(domain, { method: 'GET', path: item.path, headers, ...bound }, true);
      if (answer.statusCode >= 400) {
        answer.body.dump().catch(() => {});
        return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin answered ${answer.statusCode}` };
      }
      const ctx: FillContext = {
        host: item.host,
        domain: domain.name,
        target: item.path,
        stale: undefined,
        flight,
        authorized: false,
        requestHeaders: NO_HEADERS,
      };
      const result = await this.node.fill.absorb(ctx, answer);
      if (result.kind === 'unstored') {
        discard(result);
        return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: result.reason };
      }
      flights.settle(flight, { entry: result.entry, xcache: 'MISS' });
      return { ok: true, status: result.entry.status, stored: result.stored };
    } catch (err) {
      const failure = origins.toError(err, timeoutMs);
      flights.settle(flight, { error: failure });
      return { ok: false, classify: 'ORIGIN_ERROR', retryable: failure.kind !== 'bad-request', message: failure.message };
    } finally {
      flights.settle(flight, null);
    }
  }
}
