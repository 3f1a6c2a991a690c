// A signed client for the cachectl API over one keep-alive undici Pool, signing each call like the
// official SDKs (SDK-HMAC-SHA256: one SHA-256 of the body and one HMAC per call).
import { Pool } from 'undici';
import { signRequest } from '../src/signing/sdk-signature.js';

export interface Key {
  accessKey: string;
  secretKey: string;
}

export interface Reply {
  status: number;
  json: any;
  text: string;
}

export interface CallOptions {
  query?: Array<[string, string]>;
  body?: unknown;
}

export class SignedClient {
  readonly pool: Pool;
  private readonly host: string;

  constructor(
    readonly api: string,
    private readonly key: Key,
    connections = 8,
  ) {
    const u = new URL(api);
    this.host = u.host;
    this.pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { host: this.host };
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, signRequest({ method, path, query: options.query, headers, body, accessKey: this.key.accessKey, secretKey: this.key.secretKey }));
    const qs = (options.query ?? []).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const res = await this.pool.request({ method: method as 'GET', path: qs ? `${path}?${qs}` : path, headers, body });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json, text };
  }

  /** Like call, but throws unless the answer is 200. */
  async ok(method: string, path: string, options: CallOptions = {}): Promise<any> {
    const r = await this.call(method, path, options);
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
