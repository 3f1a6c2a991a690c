// The API's HTTP client, for the CLI's commands and the local cluster: every call signed with
// SDK-HMAC-SHA256 the way the official Node SDK signs (content-type;host;x-sdk-date), JSON in and out,
// API errors turned into ApiError.
import { Pool } from 'undici';
import { signRequest } from '../signing/sdk-signature.js';

/** What the audit trail shows as the client of a CLI call. */
const USER_AGENT = 'cachectl-cli';

export interface ApiKeyPair {
  api: string;
  accessKey: string;
  secretKey: string;
}

/** The API answered with an error status: `code` is the body's error_code (CDN.0108, APIGW.0301, …). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API could not be reached, or did not answer with JSON. */
export class TransportError extends Error {}

export type QueryValue = string | number | boolean | undefined;

export interface CallOptions {
  /** In order; undefined values are left out. */
  query?: Array<[string, QueryValue]>;
  /** Sent as JSON. */
  body?: unknown;
  /** Milliseconds to wait for the answer's headers (long-polls need more than the default). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** The error code and message of an error body: top-level first (flat gateway shape), then nested. */
export function errorOf(json: unknown): { code?: string; message?: string } {
  if (json === null || typeof json !== 'object') return {};
  const o = json as Record<string, unknown>;
  if (typeof o.error_code === 'string') return { code: o.error_code, message: typeof o.error_msg === 'string' ? o.error_msg : undefined };
  const nested = o.error as Record<string, unknown> | undefined;
  if (nested && typeof nested === 'object' && typeof nested.error_code === 'string') {
    return { code: nested.error_code, message: typeof nested.error_msg === 'string' ? nested.error_msg : undefined };
  }
  if (typeof o.code === 'string') return { code: o.code, message: typeof o.message === 'string' ? o.message : undefined };
  return {};
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: Array<{ message?: string }> };
  // Connecting to "localhost" tries IPv4 and IPv6; the AggregateError's own message is empty.
  const inner = e.errors?.map((x) => x.message).filter(Boolean).join('; ');
  return inner || e.message || e.code || String(err);
}

export class ApiClient {
  private readonly pool: Pool;
  private readonly base: URL;
  /** Path prefix of the API URL (an API behind a proxy at http://host/cdn), without a trailing slash. */
  private readonly prefix: string;

  constructor(private readonly key: ApiKeyPair) {
    this.base = new URL(key.api);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.base.origin, { connections: 4, keepAliveTimeout: 10_000 });
  }

  get api(): string {
    return this.key.api;
  }

  async call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const query: Array<[string, string]> = [];
    for (const [k, v] of options.query ?? []) if (v !== undefined) query.push([k, String(v)]);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const fullPath = this.prefix + path;
    const headers: Record<string, string> = { 'content-type': 'application/json', host: this.base.host };
    Object.assign(
      headers,
      signRequest({
        method,
        path: fullPath,
        query,
        headers,
        body,
        accessKey: this.key.accessKey,
        secretKey: this.key.secretKey,
        signedHeaders: ['content-type', 'host', 'x-sdk-date'],
      }),
    );
    // Unsigned, so that the audit trail names the tool that made a call.
    headers['user-agent'] = USER_AGENT;
    // The query sent is the one signed: the server decodes it and re-canonicalises.
    const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

    let status: number;
    let text: string;
    let requestId: string | undefined;
    try {
      const res = await this.pool.request({
        method: method as 'GET',
        path: fullPath + (qs ? `?${qs}` : ''),
        headers,
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      status = res.statusCode;
      const rid = res.headers['x-request-id'];
      requestId = typeof rid === 'string' ? rid : undefined;
      text = await res.body.text();
    } catch (err) {
      throw new TransportError(`cannot reach the API at ${this.key.api}: ${describeNetworkError(err)}`);
    }

    let json: unknown;
    let parsed = false;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
        parsed = true;
      } catch {
        parsed = false;
      }
    }
    if (status >= 400) {
      const e = errorOf(json);
      const fallback = text.trim().slice(0, 300) || `HTTP ${status}`;
      throw new ApiError(e.code ?? `HTTP.${status}`, status, e.message ?? fallback, requestId);
    }
    if (!parsed) {
      throw new TransportError(`${method} ${path}: the API at ${this.key.api} answered ${status} without a JSON body: ${text.trim().slice(0, 200) || '(empty)'}`);
    }
    return json as T;
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }
}
