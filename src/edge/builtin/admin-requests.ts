// Request bodies of the built-in edge's admin endpoint (the JSON protocol BuiltinDriver speaks): reading
// them within a size limit and checking their shapes. Anything wrong is an AdminError with its status.

import type { IncomingMessage } from 'node:http';
import type { DomainConfig } from '../edge-driver.js';
import { originUrl } from './origin-client.js';

const ADMIN_BODY_LIMIT = 16 * 1024 * 1024;
const ADMIN_MAX_ITEMS = 10_000;

/**
 * How long the caller waits for this call, in ms (BuiltinDriver sends it): a prefetch lets its fills
 * run that long, so that a slow or large object is not cut by a shorter timeout on the node.
 */
export const CALL_TIMEOUT_HEADER = 'x-cachectl-timeout-ms';

/** The caller's timeout of a call, if it gave a usable one. */
export function callTimeoutOf(req: IncomingMessage): number | undefined {
  const v = req.headers[CALL_TIMEOUT_HEADER];
  return typeof v === 'string' && /^\d{1,10}$/.test(v) && Number(v) > 0 ? Number(v) : undefined;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One target of a purge, revalidation or prefetch: a concrete host (lower case) and a path. */
export interface Item {
  host: string;
  path: string;
}

export type ItemResult =
  | { ok: true; purged?: number; marked?: number; status?: number; stored?: boolean }
  | { ok: false; classify: 'ORIGIN_ERROR' | 'INNER_ERROR'; retryable: boolean; message: string };

/** Reads a JSON body. Past the limit it stops reading and answers 413 on a connection that then closes. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
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

export function parseItems(body: unknown): Item[] {
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

/** The body of PUT /domains. A name may be a wildcard (`*.example.com`); see domain-set.ts. */
export function parseDomains(body: unknown): { version: number; domains: DomainConfig[] } {
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
