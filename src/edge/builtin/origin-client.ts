// How the built-in edge reaches origins: one keep-alive undici Pool per origin address, shared by every
// domain that uses the address, and failover from primaries to standbys.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { OriginSource } from '../edge-driver.js';
import type { OriginAllowList } from '../origin-allow.js';

export type OriginAnswer = Dispatcher.ResponseData;

/** After a connect failure an origin address is tried last (not skipped) for this long. */
const ORIGIN_DOWN_MS = 5_000;

/** Why an origin could not answer, as the user (502/504/400) and the prefetch result (retryable) see it. */
export class OriginError extends Error {
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

/**
 * The system resolver, keeping only the addresses --origin-allow allows: connect then goes only there,
 * whatever the name resolved to when the domain was created (DNS rebinding).
 */
function allowedLookup(allow: OriginAllowList): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused: string[] = [];
      const allowed = addresses.filter((a) => {
        const why = allow.refusesResolved(hostname, a.address);
        if (why !== undefined) refused.push(why);
        return why === undefined;
      });
      if (allowed.length === 0) return callback(forbidden(refused.join('; ') || `${hostname} has no address`), '', 0);
      if (options.all === true) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      else callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

function forbidden(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`origin not allowed: ${message}`), { code: 'EORIGINNOTALLOWED' });
}

/** One origin address with its keep-alive pool, shared by every domain that uses the address. */
export class Origin {
  readonly pool: Pool;
  /** Until then (ms since epoch) the address counts as down and is tried after the others. */
  downUntil = 0;
  /** Set when the address is an IP literal --origin-allow refuses (connect would not ask the resolver). */
  readonly refused: string | undefined;

  constructor(
    readonly url: string,
    timeoutMs: number,
    connectTimeoutMs: number,
    allow: OriginAllowList,
  ) {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    this.refused = isIP(host) === 0 ? undefined : allow.refusesAddress(host);
    this.pool = new Pool(url, {
      connections: 128,
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: connectTimeoutMs, lookup: allowedLookup(allow) },
    });
  }
}

export function originUrl(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export class OriginClient {
  /** Origin pools by URL, shared across domains. */
  private pools = new Map<string, Origin>();

  constructor(
    /** Origin headers and body-idle timeout. */
    readonly timeoutMs: number,
    private readonly connectTimeoutMs: number,
    private readonly allow: OriginAllowList,
  ) {}

  /**
   * The origin lists of a new domain set, one per source list: primaries first, then standbys, in
   * configuration order. Pools are reused by URL; those no longer used close gracefully (requests in
   * flight finish).
   */
  replace(sourceLists: readonly (readonly OriginSource[])[]): Origin[][] {
    const pools = new Map<string, Origin>();
    const lists = sourceLists.map((sources) => {
      const sorted = [...sources.filter((s) => s.primary), ...sources.filter((s) => !s.primary)];
      const list: Origin[] = [];
      for (const source of sorted) {
        const url = originUrl(source.address, source.httpPort);
        let origin = pools.get(url) ?? this.pools.get(url);
        if (origin === undefined) origin = new Origin(url, this.timeoutMs, this.connectTimeoutMs, this.allow);
        pools.set(url, origin);
        if (!list.includes(origin)) list.push(origin);
      }
      return list;
    });
    for (const [url, origin] of this.pools) {
      if (!pools.has(url)) origin.pool.close().catch(() => {});
    }
    this.pools = pools;
    return lists;
  }

  /**
   * Sends a request to the domain's origins: primaries, then standbys; addresses that recently refused a
   * connection go last. With `failover`, any failure before the answer's headers moves on to the next.
   */
  async ask(
    domain: { readonly name: string; readonly origins: readonly Origin[] },
    options: Dispatcher.RequestOptions,
    failover: boolean,
  ): Promise<OriginAnswer> {
    const now = Date.now();
    let order = domain.origins;
    if (order.some((o) => o.downUntil > now)) {
      order = [...order.filter((o) => o.downUntil <= now), ...order.filter((o) => o.downUntil > now)];
    }
    if (order.length === 0) throw new OriginError(`no origin configured for ${domain.name}`, 'unreachable');
    let last: unknown;
    for (const origin of order) {
      if (origin.refused !== undefined) {
        last = forbidden(origin.refused);
        continue;
      }
      try {
        return await origin.pool.request(options);
      } catch (err) {
        last = err;
        const code = errorCode(err);
        if (CONNECT_CODES.has(code)) origin.downUntil = Date.now() + ORIGIN_DOWN_MS;
        if (!failover || REQUEST_CODES.has(code)) break;
      }
    }
    throw this.toError(last);
  }

  /** Any failure of `ask` (or of reading an answer's body) as an OriginError; `timeoutMs`: the request's own, if it had one. */
  toError(err: unknown, timeoutMs = this.timeoutMs): OriginError {
    if (err instanceof OriginError) return err;
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    if (TIMEOUT_CODES.has(code)) return new OriginError(`origin timed out after ${timeoutMs} ms (${message})`, 'timeout');
    if (REQUEST_CODES.has(code)) return new OriginError(message, 'bad-request');
    return new OriginError(`origin unreachable: ${message}`, 'unreachable');
  }

  /** Drops every pool at once, requests in flight included (the node is shutting down). */
  async destroy(): Promise<void> {
    const pools = [...this.pools.values()].map((o) => o.pool.destroy().catch(() => {}));
    this.pools = new Map();
    await Promise.all(pools);
  }
}
