// A signed API client for tests, signing like the official Node SDK.
import { request } from 'undici';
import { signRequest } from '../../src/signing/sdk-signature.js';

export interface ApiKey {
  accessKey: string;
  secretKey: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
  text: string;
}

export function client(api: string, key: ApiKey) {
  const base = new URL(api);
  return async function call(method: string, path: string, options: { query?: Array<[string, string]>; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
    const body = options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { 'content-type': 'application/json', host: base.host, ...options.headers };
    Object.assign(headers, signRequest({ method, path, query: options.query, headers, body, accessKey: key.accessKey, secretKey: key.secretKey }));
    const qs = (options.query ?? []).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const res = await request(new URL(path + (qs ? `?${qs}` : ''), base), { method: method as 'GET', headers, body });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, json, text };
  };
}

export type Call = ReturnType<typeof client>;

/** Polls a task until task_done; returns its detail. */
export async function waitTask(call: Call, id: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call('GET', `/v1.0/cdn/historytasks/${id}/detail`, { query: [['page_size', '10000'], ['page_number', '1']] });
    if (res.status !== 200) throw new Error(`detail ${id}: ${res.status} ${res.text}`);
    if (res.json.status === 'task_done') return res.json;
    if (Date.now() > deadline) throw new Error(`task ${id} not done: ${res.text.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Every task id in an account's history, page by page; checks that the total counts them all. */
export async function historyTaskIds(call: Call): Promise<Set<number>> {
  const all = new Set<number>();
  for (let page = 1; ; page++) {
    const res = await call('GET', '/v1.0/cdn/historytasks', { query: [['page_size', '100'], ['page_number', String(page)]] });
    if (res.status !== 200) throw new Error(`history page ${page}: ${res.status} ${res.text}`);
    for (const t of res.json.tasks) all.add(Number(t.id));
    if (res.json.tasks.length < 100) {
      if (res.json.total !== all.size) throw new Error(`history total ${res.json.total}, but ${all.size} tasks listed`);
      return all;
    }
  }
}
