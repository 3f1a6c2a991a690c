// The traffic side of the built-in edge: serving users as a caching reverse proxy.
//
// Request flow: Host → domain (exact name, else the nearest wildcard); GET/HEAD look the cache up under
// the request's own host and target; a fresh entry is a HIT; otherwise the first request for a key leads
// a "flight" to the origin (a GET, also for a HEAD, so the answer can be stored) and later requests for
// the same key wait for it (request coalescing). A flight whose answer is stored shares the entry; one
// whose answer may not be stored tells the waiters to go to the origin themselves. Purges mark in-flight
// flights so that an answer fetched before a purge is served to the requests that were already waiting
// but never stored.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { FillContext } from './cache-fill.js';
import { discard, unstoredBody } from './cache-fill.js';
import { clientNotModified, varySignature } from './cache-policy.js';
import type { Domain } from './domain-set.js';
import type { CacheEntry } from './edge-cache.js';
import type { EdgeNode } from './edge-node.js';
import type { OriginAnswer, OriginError } from './origin-client.js';
import { FILL_SKIP, PASS_SKIP, forwardHeaders, hostOf, passHeaders } from './proxy-headers.js';
import type { XCache } from './proxy-headers.js';

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendOriginError(res: ServerResponse, err: OriginError): void {
  if (res.destroyed) return;
  const status = err.kind === 'timeout' ? 504 : err.kind === 'bad-request' ? 400 : 502;
  sendText(res, status, err.kind === 'timeout' ? 'origin timed out\n' : err.kind === 'bad-request' ? 'bad request\n' : 'origin unreachable\n');
}

export class TrafficHandler {
  constructor(private readonly node: EdgeNode) {}

  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((err: unknown) => {
      // Only reached on a bug or a torn-down node: answer something rather than leave the client hanging.
      if (!res.destroyed) sendText(res, 500, `edge error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target = req.url ?? '/';
    let host = hostOf(req.headers.host);
    if (target.charCodeAt(0) !== 47 /* / */) {
      // Absolute form (RFC 9112 §3.2.2): its authority overrides Host. Rare for a reverse proxy.
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return sendText(res, 400, 'bad request target\n');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return sendText(res, 400, 'bad request target\n');
      host = url.hostname.toLowerCase();
      target = url.pathname + url.search;
    }
    const domain = host === undefined ? undefined : this.node.domains.lookup(host);
    if (host === undefined || domain === undefined) return sendText(res, 404, `unknown host ${host ?? '(none)'}\n`);
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') return this.serveCached(req, res, domain, host, target, method === 'HEAD');
    return this.pass(req, res, domain, host, target);
  }

  private async serveCached(
    req: IncomingMessage,
    res: ServerResponse,
    domain: Domain,
    host: string,
    target: string,
    isHead: boolean,
  ): Promise<void> {
    let entry = this.node.cache.get(host, target);
    if (entry !== undefined) {
      // A stored variant for other Vary values is treated as a miss; the fetch replaces it (one variant per key).
      if (entry.varyNames !== null && varySignature(entry.varyNames, req.headers) !== entry.varySig) entry = undefined;
      else {
        const now = Date.now();
        if (entry.isFresh(now)) return this.serveEntry(req, res, entry, 'HIT', isHead, now, undefined);
      }
    }
    const running = this.node.flights.get(host, target);
    if (running === undefined) return this.lead(req, res, domain, host, target, entry, isHead);

    const shared = await running.promise;
    if (shared === null) return this.pass(req, res, domain, host, target);
    if ('error' in shared) return sendOriginError(res, shared.error);
    const got = shared.entry;
    if (got.varyNames !== null && varySignature(got.varyNames, req.headers) !== got.varySig) return this.pass(req, res, domain, host, target);
    return this.serveEntry(req, res, got, shared.xcache, isHead, Date.now(), undefined);
  }

  /** Fetches (or revalidates) for everyone waiting on this key, stores what may be stored, answers the leader. */
  private async lead(
    req: IncomingMessage,
    res: ServerResponse,
    domain: Domain,
    host: string,
    target: string,
    stale: CacheEntry | undefined,
    isHead: boolean,
  ): Promise<void> {
    const { flights, origins } = this.node;
    const flight = flights.start(host, target);
    try {
      // The origin gets the request's own host: for a wildcard domain it is the site asked for.
      const headers = forwardHeaders(req, host, FILL_SKIP, stale);
      const answer = await origins.ask(domain, { method: 'GET', path: target, headers }, true);
      const ctx: FillContext = {
        host,
        domain: domain.name,
        target,
        stale,
        flight,
        authorized: req.headers.authorization !== undefined,
        requestHeaders: req.headers,
      };
      const result = await this.node.fill.absorb(ctx, answer);
      if (result.kind === 'entry') {
        flights.settle(flight, { entry: result.entry, xcache: result.xcache });
        return this.serveEntry(req, res, result.entry, result.xcache, isHead, Date.now(), result.setCookie);
      }
      flights.settle(flight, null);
      res.writeHead(answer.statusCode, passHeaders(answer.headers, 'BYPASS'));
      if (isHead) {
        discard(result);
        res.end();
        return;
      }
      await pipeline(unstoredBody(result), res).catch(() => {}); // the client left or the origin broke off: nothing to answer
    } catch (err) {
      const failure = origins.toError(err);
      flights.settle(flight, { error: failure });
      sendOriginError(res, failure);
    } finally {
      flights.settle(flight, null);
    }
  }

  private serveEntry(
    req: IncomingMessage,
    res: ServerResponse,
    entry: CacheEntry,
    xcache: XCache,
    isHead: boolean,
    now: number,
    setCookie: string | string[] | undefined,
  ): void {
    if (res.destroyed) return;
    const headers = entry.headerList.concat('x-cache', xcache, 'age', String(entry.ageSeconds(now)));
    if (setCookie !== undefined) {
      if (typeof setCookie === 'string') headers.push('set-cookie', setCookie);
      else for (const c of setCookie) headers.push('set-cookie', c);
    }
    if (clientNotModified(req.headers, entry.status, entry.etag, entry.lastModified)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    if (entry.status !== 204) headers.push('content-length', entry.contentLength);
    res.writeHead(entry.status, headers);
    res.end(isHead ? undefined : entry.body);
  }

  /** Proxies a request without the cache: other methods, and waiters on a flight whose answer was not storable. */
  private async pass(req: IncomingMessage, res: ServerResponse, domain: Domain, host: string, target: string): Promise<void> {
    const length = req.headers['content-length'];
    const hasBody = length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
    let answer: OriginAnswer;
    try {
      const headers = forwardHeaders(req, host, PASS_SKIP, undefined);
      // A streamed body can be sent only once: no failover for requests that carry one.
      answer = await this.node.origins.ask(domain, { method: req.method ?? 'GET', path: target, headers, body: hasBody ? req : null }, !hasBody);
    } catch (err) {
      return sendOriginError(res, this.node.origins.toError(err));
    }
    if (res.destroyed) {
      answer.body.destroy();
      return;
    }
    res.writeHead(answer.statusCode, passHeaders(answer.headers, 'BYPASS'));
    await pipeline(answer.body, res).catch(() => {});
  }
}
