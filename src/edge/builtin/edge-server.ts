// The built-in edge node: a caching reverse proxy (traffic server) and the JSON control endpoint that
// BuiltinDriver speaks (admin server), on two ports of one process.
//
// Request flow on the traffic side: Host → domain; GET/HEAD look the cache up; a fresh entry is a HIT;
// otherwise the first request for a key leads a "flight" to the origin (a GET, also for a HEAD, so the
// answer can be stored) and later requests for the same key wait for it (request coalescing). A flight
// whose answer is stored shares the entry; one whose answer may not be stored tells the waiters to go to
// the origin themselves. Purges mark in-flight flights so that an answer fetched before a purge is
// served to the requests that were already waiting but never stored.

import http from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { DomainConfig } from '../edge-driver.js';
import { CacheEntry, EdgeCache } from './edge-cache.js';
import {
  HOP_BY_HOP,
  checkStorable,
  clientNotModified,
  connectionTokens,
  flattenHeaders,
  originAgeSeconds,
  storedHeaders,
  varySignature,
} from './cache-policy.js';
import type { HeaderRecord } from './cache-policy.js';

export interface BuiltinEdgeOptions {
  /** Node name, for messages. */
  name: string;
  /** Listen address of both servers. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  trafficPort?: number;
  adminPort?: number;
  /** Memory for cached objects (bodies plus approximate header size). Default 64 MiB. */
  maxBytes?: number;
  /** Larger answers are passed through, not stored. Default maxBytes / 8. */
  maxObjectBytes?: number;
  /** Origin headers and body-idle timeout: past it a user gets 504. Default 10 s. */
  originTimeoutMs?: number;
  /** Connect timeout per origin address, kept short so that a dead primary fails over fast. Default min(originTimeoutMs, 3 s). */
  originConnectTimeoutMs?: number;
}

export interface BuiltinEdge {
  name: string;
  trafficUrl: string;
  controlUrl: string;
  close(): Promise<void>;
}

type XCache = 'HIT' | 'MISS' | 'REVALIDATED' | 'EXPIRED' | 'BYPASS';
type OriginAnswer = Dispatcher.ResponseData;

/** After a connect failure an origin address is tried last (not skipped) for this long. */
const ORIGIN_DOWN_MS = 5_000;
const ADMIN_BODY_LIMIT = 16 * 1024 * 1024;
const ADMIN_MAX_ITEMS = 10_000;
const PREFETCH_CONCURRENCY = 16;
const SERVER_KEEPALIVE_MS = 30_000;

/** Request headers never forwarded to an origin: connection-scoped ones, and what the edge sets itself. */
const PASS_SKIP: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'expect']);
/**
 * A cache fill must get a full, unconditional answer whatever this particular client asked for; the
 * client's own conditionals are answered by the edge from the stored validators.
 */
const FILL_SKIP: ReadonlySet<string> = new Set([
  ...PASS_SKIP,
  'content-length',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
]);
const NO_HEADERS: HeaderRecord = {};

// ---------------------------------------------------------------------------------------------------
// Origins

/** Why an origin could not answer, as the user (502/504/400) and the prefetch result (retryable) see it. */
class OriginError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'timeout' | 'bad-request',
  ) {
    super(message);
  }
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Failures that say the address is not there at all, as opposed to one slow answer. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** The request itself is unusable (undici refused a header or the target): no point in failing over. */
const REQUEST_CODES: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function asOriginError(err: unknown, timeoutMs: number): OriginError {
  if (err instanceof OriginError) return err;
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (TIMEOUT_CODES.has(code)) return new OriginError(`origin timed out after ${timeoutMs} ms (${message})`, 'timeout');
  if (REQUEST_CODES.has(code)) return new OriginError(message, 'bad-request');
  return new OriginError(`origin unreachable: ${message}`, 'unreachable');
}

/** One origin address with its keep-alive pool, shared by every domain that uses the address. */
class Origin {
  readonly pool: Pool;
  /** Until then (ms since epoch) the address counts as down and is tried after the others. */
  downUntil = 0;

  constructor(
    readonly url: string,
    timeoutMs: number,
    connectTimeoutMs: number,
  ) {
    this.pool = new Pool(url, {
      connections: 128,
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: connectTimeoutMs },
    });
  }
}

interface Domain {
  name: string;
  /** Primaries first, then standbys, in configuration order. */
  origins: Origin[];
}

function originUrl(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

// ---------------------------------------------------------------------------------------------------
// Flights (request coalescing)

/** What a flight hands its waiters: the entry to serve, an error to answer, or null: "ask the origin yourself". */
type Shared = { entry: CacheEntry; xcache: XCache } | { error: OriginError } | null;

interface Flight {
  readonly key: string;
  readonly host: string;
  readonly target: string;
  /** Set by the admin API while the flight runs: 'purge' = do not store the answer; 'stale' = store it stale. */
  invalidated: 'purge' | 'stale' | null;
  readonly promise: Promise<Shared>;
  settled: boolean;
  resolve(shared: Shared): void;
}

/** Neither a host nor a request target can hold a space. */
const flightKey = (host: string, target: string): string => `${host} ${target}`;

function newFlight(key: string, host: string, target: string): Flight {
  let resolve!: (shared: Shared) => void;
  const promise = new Promise<Shared>((r) => (resolve = r));
  return { key, host, target, invalidated: null, promise, settled: false, resolve };
}

/** An origin answer the edge will not store; the caller streams (or discards) it. */
interface Unstored {
  kind: 'unstored';
  reason: string;
  answer: OriginAnswer;
  /** Body chunks already read (when the size limit was only found out while reading), and the rest. */
  head: Buffer[];
  rest: AsyncIterator<Buffer> | null;
}

interface Stored {
  kind: 'entry';
  entry: CacheEntry;
  xcache: XCache;
  stored: boolean;
  /** Not stored for other users, but the user who caused the fetch gets it. */
  setCookie: string | string[] | undefined;
}

interface FillContext {
  host: string;
  target: string;
  /** The stale entry being revalidated, if any. */
  stale: CacheEntry | undefined;
  flight: Flight | null;
  authorized: boolean;
  /** The request's headers, for the Vary signature. */
  requestHeaders: HeaderRecord;
}

async function* resume(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (;;) {
      const r = await rest.next();
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    await rest.return?.();
  }
}

function discard(u: Unstored): void {
  if (u.rest !== null) u.answer.body.destroy();
  else u.answer.body.dump().catch(() => {});
}

// ---------------------------------------------------------------------------------------------------
// Small HTTP helpers

function hostOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let end = value.length;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = value.indexOf(':');
    if (colon !== -1) end = colon;
  }
  return (end === value.length ? value : value.slice(0, end)).toLowerCase();
}

/** The client's headers for the origin, minus `skip` and Connection-listed ones, with Host and X-Forwarded-For set. */
function forwardHeaders(req: IncomingMessage, host: string, skip: ReadonlySet<string>, stale: CacheEntry | undefined): string[] {
  const raw = req.rawHeaders;
  const out: string[] = ['host', host];
  const connection = req.headers.connection;
  const listed = connection === undefined ? null : connectionTokens(connection);
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (skip.has(name) || (listed !== null && listed.includes(name))) continue;
    if (name === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
      continue;
    }
    out.push(raw[i], raw[i + 1]);
  }
  const peer = req.socket.remoteAddress ?? 'unknown';
  out.push('x-forwarded-for', xff === undefined ? peer : `${xff}, ${peer}`);
  if (stale?.etag !== undefined) out.push('if-none-match', stale.etag);
  if (stale?.lastModified !== undefined) out.push('if-modified-since', stale.lastModified);
  return out;
}

/** Origin response headers for a passed-through answer: all but the connection-scoped ones. */
function passHeaders(headers: HeaderRecord, xcache: XCache): string[] {
  const connection = headers['connection'];
  const listed = connection === undefined ? null : connectionTokens(connection);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'x-cache' || (listed !== null && listed.includes(name))) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  out.push('x-cache', xcache);
  return out;
}

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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

type BodyRead = { kind: 'full'; body: Buffer } | { kind: 'overflow'; head: Buffer[]; rest: AsyncIterator<Buffer> };

/** Reads a body up to `limit` bytes into one exactly-sized buffer (no pool slab retained by the cache). */
async function readBody(body: AsyncIterable<Buffer>, limit: number): Promise<BodyRead> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const r = await it.next();
    if (r.done === true) break;
    chunks.push(r.value);
    size += r.value.length;
    if (size > limit) return { kind: 'overflow', head: chunks, rest: it };
  }
  const out = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for (const chunk of chunks) offset += chunk.copy(out, offset);
  return { kind: 'full', body: out };
}

// ---------------------------------------------------------------------------------------------------
// Admin request shapes

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Item {
  host: string;
  path: string;
}

type ItemResult =
  | { ok: true; purged?: number; marked?: number; status?: number; stored?: boolean }
  | { ok: false; classify: 'ORIGIN_ERROR' | 'INNER_ERROR'; retryable: boolean; message: string };

/** Reads a JSON body. Past the limit it stops reading and answers 413 on a connection that then closes. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > ADMIN_BODY_LIMIT) throw new AdminError(413, `body larger than ${ADMIN_BODY_LIMIT} bytes`);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= ADMIN_BODY_LIMIT) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      reject(new AdminError(413, `body larger than ${ADMIN_BODY_LIMIT} bytes`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AdminError(400, 'body is not valid JSON');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseItems(body: unknown): Item[] {
  if (!isObject(body) || !Array.isArray(body.items)) throw new AdminError(400, 'expected {"items": [{"host", "path"}]}');
  const raw = body.items;
  if (raw.length > ADMIN_MAX_ITEMS) throw new AdminError(400, `at most ${ADMIN_MAX_ITEMS} items`);
  const items: Item[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const it: unknown = raw[i];
    if (!isObject(it) || typeof it.host !== 'string' || it.host === '' || typeof it.path !== 'string' || it.path === '') {
      throw new AdminError(400, `items[${i}]: expected {"host": string, "path": string}`);
    }
    items[i] = { host: it.host.toLowerCase(), path: it.path };
  }
  return items;
}

function parseDomains(body: unknown): { version: number; domains: DomainConfig[] } {
  if (!isObject(body) || typeof body.version !== 'number' || !Number.isFinite(body.version) || !Array.isArray(body.domains)) {
    throw new AdminError(400, 'expected {"version": number, "domains": [...]}');
  }
  const domains: DomainConfig[] = [];
  for (const [i, d] of body.domains.entries()) {
    if (!isObject(d) || typeof d.name !== 'string' || d.name === '' || !Array.isArray(d.sources)) {
      throw new AdminError(400, `domains[${i}]: expected {"name": string, "sources": [...]}`);
    }
    for (const [j, s] of d.sources.entries()) {
      const ok =
        isObject(s) &&
        typeof s.address === 'string' &&
        s.address !== '' &&
        typeof s.primary === 'boolean' &&
        Number.isInteger(s.httpPort) &&
        (s.httpPort as number) > 0 &&
        (s.httpPort as number) < 65536;
      if (!ok) throw new AdminError(400, `domains[${i}].sources[${j}]: expected {"address", "primary": boolean, "httpPort": 1-65535}`);
      if (!URL.canParse(originUrl(s.address as string, s.httpPort as number))) {
        throw new AdminError(400, `domains[${i}].sources[${j}]: address ${JSON.stringify(s.address)} is not a host name or IP address`);
      }
    }
    domains.push({ name: d.name.toLowerCase(), sources: d.sources as DomainConfig['sources'] });
  }
  return { version: body.version, domains };
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

// ---------------------------------------------------------------------------------------------------
// The node

class EdgeNode {
  readonly cache: EdgeCache;
  readonly bootId = randomUUID();
  private readonly maxObjectBytes: number;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private domains = new Map<string, Domain>();
  private domainsVersion: number | null = null;
  /** Origin pools by URL, shared across domains. */
  private origins = new Map<string, Origin>();
  private readonly flights = new Map<string, Flight>();

  constructor(options: BuiltinEdgeOptions) {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.cache = new EdgeCache(maxBytes);
    this.maxObjectBytes = Math.min(options.maxObjectBytes ?? Math.floor(maxBytes / 8), maxBytes);
    this.timeoutMs = options.originTimeoutMs ?? 10_000;
    this.connectTimeoutMs = options.originConnectTimeoutMs ?? Math.min(this.timeoutMs, 3_000);
  }

  // --- traffic -------------------------------------------------------------------------------------

  readonly onTraffic = (req: IncomingMessage, res: ServerResponse): void => {
    this.serveTraffic(req, res).catch((err: unknown) => {
      // Only reached on a bug or a torn-down node: answer something rather than leave the client hanging.
      if (!res.destroyed) sendText(res, 500, `edge error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  };

  private async serveTraffic(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    const domain = host === undefined ? undefined : this.domains.get(host);
    if (domain === undefined) return sendText(res, 404, `unknown host ${host ?? '(none)'}\n`);
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') return this.serveCached(req, res, domain, target, method === 'HEAD');
    return this.pass(req, res, domain, target);
  }

  private async serveCached(req: IncomingMessage, res: ServerResponse, domain: Domain, target: string, isHead: boolean): Promise<void> {
    let entry = this.cache.get(domain.name, target);
    if (entry !== undefined) {
      // A stored variant for other Vary values is treated as a miss; the fetch replaces it (one variant per key).
      if (entry.varyNames !== null && varySignature(entry.varyNames, req.headers) !== entry.varySig) entry = undefined;
      else {
        const now = Date.now();
        if (entry.isFresh(now)) return this.serveEntry(req, res, entry, 'HIT', isHead, now, undefined);
      }
    }
    const key = flightKey(domain.name, target);
    const running = this.flights.get(key);
    if (running === undefined) return this.lead(req, res, domain, target, entry, isHead, key);

    const shared = await running.promise;
    if (shared === null) return this.pass(req, res, domain, target);
    if ('error' in shared) return sendOriginError(res, shared.error);
    const got = shared.entry;
    if (got.varyNames !== null && varySignature(got.varyNames, req.headers) !== got.varySig) return this.pass(req, res, domain, target);
    return this.serveEntry(req, res, got, shared.xcache, isHead, Date.now(), undefined);
  }

  /** Fetches (or revalidates) for everyone waiting on this key, stores what may be stored, answers the leader. */
  private async lead(
    req: IncomingMessage,
    res: ServerResponse,
    domain: Domain,
    target: string,
    stale: CacheEntry | undefined,
    isHead: boolean,
    key: string,
  ): Promise<void> {
    const flight = newFlight(key, domain.name, target);
    this.flights.set(key, flight);
    try {
      const headers = forwardHeaders(req, domain.name, FILL_SKIP, stale);
      const answer = await this.askOrigin(domain, { method: 'GET', path: target, headers }, true);
      const ctx: FillContext = {
        host: domain.name,
        target,
        stale,
        flight,
        authorized: req.headers.authorization !== undefined,
        requestHeaders: req.headers,
      };
      const result = await this.absorb(ctx, answer);
      if (result.kind === 'entry') {
        this.settle(flight, { entry: result.entry, xcache: result.xcache });
        return this.serveEntry(req, res, result.entry, result.xcache, isHead, Date.now(), result.setCookie);
      }
      this.settle(flight, null);
      res.writeHead(answer.statusCode, passHeaders(answer.headers, 'BYPASS'));
      if (isHead) {
        discard(result);
        res.end();
        return;
      }
      const source = result.rest === null ? answer.body : resume(result.head, result.rest);
      await pipeline(source, res).catch(() => {}); // the client left or the origin broke off: nothing to answer
    } catch (err) {
      const failure = asOriginError(err, this.timeoutMs);
      this.settle(flight, { error: failure });
      sendOriginError(res, failure);
    } finally {
      this.settle(flight, null);
    }
  }

  private settle(flight: Flight, shared: Shared): void {
    if (flight.settled) return;
    flight.settled = true;
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
    flight.resolve(shared);
  }

  /**
   * Turns an origin answer into a cache entry (stored unless a purge overtook the flight) or an Unstored
   * answer the caller must stream or discard.
   */
  private async absorb(ctx: FillContext, answer: OriginAnswer): Promise<Stored | Unstored> {
    const now = Date.now();
    const { statusCode, headers } = answer;
    const stale = ctx.stale;
    if (statusCode === 304 && stale !== undefined) {
      await answer.body.dump();
      // RFC 9111 §4.3.4: the 304's headers update the stored ones; the body stays.
      const merged: HeaderRecord = { ...stale.headers, ...storedHeaders(headers, false) };
      const verdict = checkStorable(stale.status, merged, ctx.authorized, now);
      const entry = verdict.storable
        ? this.makeEntry(ctx, stale.status, merged, stale.body, verdict.lifetimeMs, verdict.noCache, verdict.varyNames, originAgeSeconds(headers), now)
        : this.makeEntry(ctx, stale.status, merged, stale.body, 0, true, null, 0, now);
      let stored = false;
      if (verdict.storable) stored = this.store(ctx, entry);
      else this.cache.remove(stale);
      return { kind: 'entry', entry, xcache: 'REVALIDATED', stored, setCookie: headers['set-cookie'] };
    }
    const verdict = checkStorable(statusCode, headers, ctx.authorized, now);
    if (!verdict.storable) return this.unstored(ctx, answer, verdict.reason, [], null);
    const length = Number(headers['content-length']);
    if (length > this.maxObjectBytes) return this.unstored(ctx, answer, this.tooLarge(length), [], null);
    const read = await readBody(answer.body, this.maxObjectBytes);
    if (read.kind === 'overflow') return this.unstored(ctx, answer, this.tooLarge(undefined), read.head, read.rest);
    const entry = this.makeEntry(
      ctx,
      statusCode,
      storedHeaders(headers),
      read.body,
      verdict.lifetimeMs,
      verdict.noCache,
      verdict.varyNames,
      originAgeSeconds(headers),
      now,
    );
    const stored = this.store(ctx, entry);
    return { kind: 'entry', entry, xcache: stale === undefined ? 'MISS' : 'EXPIRED', stored, setCookie: headers['set-cookie'] };
  }

  private unstored(ctx: FillContext, answer: OriginAnswer, reason: string, head: Buffer[], rest: AsyncIterator<Buffer> | null): Unstored {
    // The origin's newer answer supersedes a stale copy even though it cannot replace it.
    if (ctx.stale !== undefined) this.cache.remove(ctx.stale);
    return { kind: 'unstored', reason, answer, head, rest };
  }

  private tooLarge(length: number | undefined): string {
    return `origin response is too large to cache (${length === undefined ? 'more than' : `${length} bytes >`} ${this.maxObjectBytes} bytes)`;
  }

  private makeEntry(
    ctx: FillContext,
    status: number,
    headers: HeaderRecord,
    body: Buffer,
    lifetimeMs: number,
    noCache: boolean,
    varyNames: string[] | null,
    ageBase: number,
    now: number,
  ): CacheEntry {
    const flat = flattenHeaders(headers);
    return new CacheEntry({
      host: ctx.host,
      target: ctx.target,
      status,
      headers,
      headerList: flat.list,
      headerBytes: flat.bytes,
      body,
      storedAt: now,
      lifetimeMs: Math.max(0, lifetimeMs - ageBase * 1000),
      ageBase,
      noCache,
      varyNames,
      varySig: varyNames === null ? '' : varySignature(varyNames, ctx.requestHeaders),
    });
  }

  /** Stores a fetched entry unless the admin API purged the key (or dropped the domain) meanwhile. */
  private store(ctx: FillContext, entry: CacheEntry): boolean {
    const invalidated = ctx.flight?.invalidated ?? null;
    if (invalidated === 'purge' || !this.domains.has(ctx.host)) {
      if (ctx.stale !== undefined) this.cache.remove(ctx.stale);
      return false;
    }
    if (invalidated === 'stale') entry.stale = true;
    return this.cache.set(entry);
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
  private async pass(req: IncomingMessage, res: ServerResponse, domain: Domain, target: string): Promise<void> {
    const length = req.headers['content-length'];
    const hasBody = length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
    let answer: OriginAnswer;
    try {
      const headers = forwardHeaders(req, domain.name, PASS_SKIP, undefined);
      // A streamed body can be sent only once: no failover for requests that carry one.
      answer = await this.askOrigin(domain, { method: req.method ?? 'GET', path: target, headers, body: hasBody ? req : null }, !hasBody);
    } catch (err) {
      return sendOriginError(res, asOriginError(err, this.timeoutMs));
    }
    if (res.destroyed) {
      answer.body.destroy();
      return;
    }
    res.writeHead(answer.statusCode, passHeaders(answer.headers, 'BYPASS'));
    await pipeline(answer.body, res).catch(() => {});
  }

  /**
   * Sends a request to the domain's origins: primaries, then standbys; addresses that recently refused a
   * connection go last. With `failover`, any failure before the answer's headers moves on to the next.
   */
  private async askOrigin(domain: Domain, options: Dispatcher.RequestOptions, failover: boolean): Promise<OriginAnswer> {
    const now = Date.now();
    let order = domain.origins;
    if (order.some((o) => o.downUntil > now)) {
      order = [...order.filter((o) => o.downUntil <= now), ...order.filter((o) => o.downUntil > now)];
    }
    if (order.length === 0) throw new OriginError(`no origin configured for ${domain.name}`, 'unreachable');
    let last: unknown;
    for (const origin of order) {
      try {
        return await origin.pool.request(options);
      } catch (err) {
        last = err;
        const code = errorCode(err);
        if (CONNECT_CODES.has(code)) origin.downUntil = Date.now() + ORIGIN_DOWN_MS;
        if (!failover || REQUEST_CODES.has(code)) break;
      }
    }
    throw asOriginError(last, this.timeoutMs);
  }

  // --- admin ---------------------------------------------------------------------------------------

  readonly onAdmin = (req: IncomingMessage, res: ServerResponse): void => {
    this.serveAdmin(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof AdminError) {
        if (err.status === 413) res.shouldKeepAlive = false; // the rest of the body is not read
        return sendJson(res, err.status, { error: err.message });
      }
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  };

  private async serveAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method;
    const expect = (wanted: string): void => {
      if (method !== wanted) throw new AdminError(405, `${path} takes ${wanted}`);
    };
    switch (path) {
      case '/health':
        expect('GET');
        return sendJson(res, 200, {
          up: true,
          domainsVersion: this.domainsVersion,
          entries: this.cache.entries,
          bytes: this.cache.bytes,
          bootId: this.bootId,
        });
      case '/domains': {
        expect('PUT');
        const { version, domains } = parseDomains(await readJson(req));
        this.applyDomains(domains, version);
        return sendJson(res, 200, { version });
      }
      case '/purge':
        expect('POST');
        return sendJson(res, 200, { results: parseItems(await readJson(req)).map((i) => this.purge(i, false)) });
      case '/purge-directory':
        expect('POST');
        return sendJson(res, 200, { results: parseItems(await readJson(req)).map((i) => this.purge(i, true)) });
      case '/revalidate':
        expect('POST');
        return sendJson(res, 200, { results: parseItems(await readJson(req)).map((i) => this.markStale(i, false)) });
      case '/revalidate-directory':
        expect('POST');
        return sendJson(res, 200, { results: parseItems(await readJson(req)).map((i) => this.markStale(i, true)) });
      case '/prefetch': {
        expect('POST');
        const items = parseItems(await readJson(req));
        return sendJson(res, 200, { results: await mapBounded(items, PREFETCH_CONCURRENCY, (i) => this.prefetch(i)) });
      }
      default:
        throw new AdminError(404, `no route ${method ?? ''} ${path}`);
    }
  }

  /** Replaces the served domain set (last write wins: the control plane orders its own versions). */
  applyDomains(configs: DomainConfig[], version: number): void {
    const origins = new Map<string, Origin>();
    const domains = new Map<string, Domain>();
    for (const config of configs) {
      const sorted = [...config.sources.filter((s) => s.primary), ...config.sources.filter((s) => !s.primary)];
      const list: Origin[] = [];
      for (const source of sorted) {
        const url = originUrl(source.address, source.httpPort);
        let origin = origins.get(url) ?? this.origins.get(url);
        if (origin === undefined) origin = new Origin(url, this.timeoutMs, this.connectTimeoutMs);
        origins.set(url, origin);
        if (!list.includes(origin)) list.push(origin);
      }
      domains.set(config.name, { name: config.name, origins: list });
    }
    for (const name of this.domains.keys()) {
      if (!domains.has(name)) {
        this.cache.dropHost(name);
        for (const flight of this.flights.values()) if (flight.host === name) flight.invalidated = 'purge';
      }
    }
    for (const [url, origin] of this.origins) {
      if (!origins.has(url)) origin.pool.close().catch(() => {}); // graceful: requests in flight finish
    }
    this.domains = domains;
    this.origins = origins;
    this.domainsVersion = version;
  }

  private purge(item: Item, directory: boolean): ItemResult {
    let purged: number;
    if (directory) {
      purged = this.cache.purgePrefix(item.host, item.path);
      for (const flight of this.flights.values()) {
        if (flight.host === item.host && flight.target.startsWith(item.path)) flight.invalidated = 'purge';
      }
    } else {
      purged = this.cache.purge(item.host, item.path);
      const flight = this.flights.get(flightKey(item.host, item.path));
      if (flight !== undefined) flight.invalidated = 'purge';
    }
    return { ok: true, purged };
  }

  private markStale(item: Item, directory: boolean): ItemResult {
    let marked: number;
    if (directory) {
      marked = this.cache.markStalePrefix(item.host, item.path);
      for (const flight of this.flights.values()) {
        if (flight.host === item.host && flight.target.startsWith(item.path) && flight.invalidated === null) flight.invalidated = 'stale';
      }
    } else {
      marked = this.cache.markStale(item.host, item.path);
      const flight = this.flights.get(flightKey(item.host, item.path));
      if (flight !== undefined && flight.invalidated === null) flight.invalidated = 'stale';
    }
    return { ok: true, marked };
  }

  /** GETs one object from its origin, bypassing the cache, and stores it (replacing any cached copy). */
  private async prefetch(item: Item): Promise<ItemResult> {
    const domain = this.domains.get(item.host);
    if (domain === undefined) {
      return { ok: false, classify: 'INNER_ERROR', retryable: true, message: `domain ${item.host} not configured on this node` };
    }
    if (item.path.charCodeAt(0) !== 47 /* / */) {
      return { ok: false, classify: 'INNER_ERROR', retryable: false, message: 'path must start with /' };
    }
    // Users asking for the key meanwhile wait for this fetch; an already running flight is left alone.
    const key = flightKey(item.host, item.path);
    const flight = this.flights.has(key) ? null : newFlight(key, item.host, item.path);
    if (flight !== null) this.flights.set(key, flight);
    try {
      const headers = ['host', item.host, 'user-agent', 'cachectl-edge-prefetch', 'accept', '*/*'];
      const answer = await this.askOrigin(domain, { method: 'GET', path: item.path, headers }, true);
      if (answer.statusCode >= 400) {
        answer.body.dump().catch(() => {});
        return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin answered ${answer.statusCode}` };
      }
      const ctx: FillContext = { host: item.host, target: item.path, stale: undefined, flight, authorized: false, requestHeaders: NO_HEADERS };
      const result = await this.absorb(ctx, answer);
      if (result.kind === 'unstored') {
        discard(result);
        return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: result.reason };
      }
      if (flight !== null) this.settle(flight, { entry: result.entry, xcache: 'MISS' });
      return { ok: true, status: result.entry.status, stored: result.stored };
    } catch (err) {
      const failure = asOriginError(err, this.timeoutMs);
      if (flight !== null) this.settle(flight, { error: failure });
      return { ok: false, classify: 'ORIGIN_ERROR', retryable: failure.kind !== 'bad-request', message: failure.message };
    } finally {
      if (flight !== null) this.settle(flight, null);
    }
  }

  async shutdown(): Promise<void> {
    const pools = [...this.origins.values()].map((o) => o.pool.destroy().catch(() => {}));
    this.origins = new Map();
    this.domains = new Map();
    this.cache.clear();
    await Promise.all(pools);
  }
}

// ---------------------------------------------------------------------------------------------------
// Servers

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function makeServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = http.createServer(handler);
  // Longer than client pools keep idle sockets, so clients, not the server, close idle connections.
  server.keepAliveTimeout = SERVER_KEEPALIVE_MS;
  return server;
}

/** Starts one built-in edge node: a traffic server and an admin server, both keep-alive. */
export async function startBuiltinEdge(options: BuiltinEdgeOptions): Promise<BuiltinEdge> {
  const host = options.host ?? '127.0.0.1';
  const node = new EdgeNode(options);
  const traffic = makeServer(node.onTraffic);
  const admin = makeServer(node.onAdmin);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.all([closeServer(traffic), closeServer(admin)]);
      await node.shutdown();
    })());
  try {
    const trafficPort = await listen(traffic, options.trafficPort ?? 0, host);
    const adminPort = await listen(admin, options.adminPort ?? 0, host);
    // A wildcard listen address is not one to connect to: advertise loopback instead.
    const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    const base = reach.includes(':') ? `http://[${reach}]` : `http://${reach}`;
    return { name: options.name, trafficUrl: `${base}:${trafficPort}`, controlUrl: `${base}:${adminPort}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
