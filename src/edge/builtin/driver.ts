// EdgeDriver for the built-in edge: a thin JSON client of its admin endpoint (see admin-handler.ts), over
// one keep-alive undici Pool. Each driver method is one admin call; results map 1:1.

import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { CallOptions, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { bearer } from '../control-secret.js';
import { CALL_TIMEOUT_HEADER } from './admin-requests.js';

export interface BuiltinDriverOptions {
  /** Sockets to the admin endpoint. Default 8. */
  connections?: number;
  /** Connect, headers and body timeout of one admin call. Default 5000 ms. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <secret>` (the edge, or the edge agent, requires it when it has one). */
  secret?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const APPLY_TIMEOUT_MS = 60_000;
/** JSON.stringify replacer: sends exactly host and path of each target, whatever else the objects carry. */
const ITEM_FIELDS = ['items', 'host', 'path'];
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

type Counter = 'purged' | 'marked' | 'prefetched';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One admin result as an EdgeResult, or undefined when it does not have the expected shape. */
function toResult(raw: unknown, counter: Counter): EdgeResult | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.ok === true) {
    // The edge agent reports what its engine said as free text.
    if (typeof raw.detail === 'string') return { ok: true, detail: raw.detail };
    if (counter === 'prefetched') {
      if (typeof raw.status !== 'number') return undefined;
      return { ok: true, detail: raw.stored === false ? `origin ${raw.status}, not stored (purged meanwhile)` : `origin ${raw.status}` };
    }
    const n = raw[counter];
    return typeof n === 'number' ? { ok: true, detail: `${counter} ${n}` } : undefined;
  }
  if (raw.ok !== false) return undefined;
  const { classify, retryable, message } = raw;
  if ((classify !== 'ORIGIN_ERROR' && classify !== 'INNER_ERROR') || typeof retryable !== 'boolean' || typeof message !== 'string') {
    return undefined;
  }
  return { ok: false, classify, retryable, message };
}

export class BuiltinDriver implements EdgeDriver {
  readonly capabilities: EdgeCapabilities = { maxBatch: 500, maxInFlight: 8 };
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  /** Route paths, with the control URL's own path prefix if it has one. */
  private readonly paths: Record<'health' | 'domains' | 'purge' | 'purgeDir' | 'revalidate' | 'revalidateDir' | 'prefetch', string>;

  private readonly auth: Record<string, string>;

  constructor(controlUrl: string, { connections = 8, timeoutMs = 5000, secret }: BuiltinDriverOptions = {}) {
    const url = new URL(controlUrl);
    this.auth = secret ? { authorization: bearer(secret) } : {};
    const prefix = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
    this.pool = new Pool(url.origin, {
      connections,
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
    });
    this.paths = {
      health: `${prefix}/health`,
      domains: `${prefix}/domains`,
      purge: `${prefix}/purge`,
      purgeDir: `${prefix}/purge-directory`,
      revalidate: `${prefix}/revalidate`,
      revalidateDir: `${prefix}/revalidate-directory`,
      prefetch: `${prefix}/prefetch`,
    };
  }

  purge(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.batch(this.paths.purge, targets, 'purged', options);
  }

  purgeDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.batch(this.paths.purgeDir, targets, 'purged', options);
  }

  revalidate(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.batch(this.paths.revalidate, targets, 'marked', options);
  }

  revalidateDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.batch(this.paths.revalidateDir, targets, 'marked', options);
  }

  /**
   * A prefetch waits for the node's fills as long as the engine allows (options.timeoutMs: a slow or
   * large object takes minutes), not the short call timeout; the node is told how long it has.
   */
  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.batch(this.paths.prefetch, targets, 'prefetched', options, options?.timeoutMs ?? this.timeoutMs);
  }

  async health(): Promise<EdgeHealth> {
    try {
      const body = await this.call('GET', this.paths.health, undefined);
      // An edge agent answers up: false when its engine is down.
      if (isObject(body) && body.up === false) return { up: false, detail: typeof body.detail === 'string' ? body.detail : 'down' };
      if (!isObject(body) || body.up !== true) return { up: false, detail: `malformed answer from GET ${this.paths.health}` };
      const health: EdgeHealth = {
        up: true,
        detail: typeof body.detail === 'string' ? body.detail : `boot ${String(body.bootId)}, ${String(body.entries)} entries, ${String(body.bytes)} bytes`,
      };
      if (typeof body.domainsVersion === 'number') health.domainsVersion = body.domainsVersion;
      const d = body.directPurge;
      if (isObject(d) && typeof d.url === 'string' && typeof d.method === 'string' && typeof d.pathPrefix === 'string') {
        health.directPurge = { url: d.url, method: d.method, pathPrefix: d.pathPrefix, emptyNotFound: d.emptyNotFound === true };
      }
      return health;
    } catch (err) {
      return { up: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    // An engine behind an agent may take seconds to reload (ATS: 1–3 s), more when several pushes queue.
    const body = await this.call('PUT', this.paths.domains, JSON.stringify({ version, domains }), APPLY_TIMEOUT_MS);
    if (!isObject(body) || body.version !== version) throw new Error(`malformed answer from PUT ${this.paths.domains}`);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async batch(
    path: string,
    targets: EdgeTarget[],
    counter: Counter,
    options?: CallOptions,
    timeoutMs = Math.min(this.timeoutMs, options?.timeoutMs ?? Infinity),
  ): Promise<EdgeResult[]> {
    if (targets.length === 0) return [];
    const body = await this.call('POST', path, JSON.stringify({ items: targets }, ITEM_FIELDS), timeoutMs, { [CALL_TIMEOUT_HEADER]: String(Math.ceil(timeoutMs)) });
    const raw = isObject(body) ? body.results : undefined;
    if (!Array.isArray(raw) || raw.length !== targets.length) {
      throw new Error(`malformed answer from POST ${path}: expected ${targets.length} results`);
    }
    const results: EdgeResult[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const result = toResult(raw[i], counter);
      if (result === undefined) throw new Error(`malformed answer from POST ${path}: results[${i}]`);
      results[i] = result;
    }
    return results;
  }

  /** One admin call: resolves with the parsed JSON of a 2xx answer, rejects with a short message otherwise. */
  private async call(method: 'GET' | 'PUT' | 'POST', path: string, body: string | undefined, timeoutMs = this.timeoutMs, extra: Record<string, string> = {}): Promise<unknown> {
    let text: string;
    let status: number;
    try {
      const options: Dispatcher.RequestOptions =
        body === undefined ? { method, path, headers: this.auth } : { method, path, headers: { ...JSON_HEADERS, ...this.auth, ...extra }, body };
      options.headersTimeout = timeoutMs;
      options.bodyTimeout = timeoutMs;
      const res = await this.pool.request(options);
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
        throw new Error(`${method} ${path}: no answer within ${timeoutMs} ms`, { cause: err });
      }
      throw new Error(err instanceof Error ? err.message : String(err), { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path} answered ${status} with a body that is not JSON`);
    }
    if (status < 200 || status > 299) {
      const why = isObject(parsed) && typeof parsed.error === 'string' ? `: ${parsed.error}` : '';
      throw new Error(`${method} ${path} answered ${status}${why}`);
    }
    return parsed;
  }
}
