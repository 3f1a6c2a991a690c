// Shared by the built-in edge tests (test/edge/builtin-edge-*.test.ts): a real origin and real edges on
// ephemeral ports, driven through BuiltinDriver the way the task engine drives them, and read through
// the traffic port the way users do.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { startBuiltinEdge } from '../../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../../src/edge/origin-allow.js';
import type { BuiltinEdge, BuiltinEdgeOptions } from '../../src/edge/builtin/edge-server.js';
import { BuiltinDriver } from '../../src/edge/builtin/driver.js';
import type { DomainConfig, EdgeResult } from '../../src/edge/edge-driver.js';

// --- a test origin: versioned objects with validators, counting full and 304 answers per request target ---

export interface ObjectSpec {
  status?: number;
  cacheControl?: string | null;
  /** Extra delay before answering, to hold a request in flight. */
  delayMs?: number;
  /** Body size in bytes (padded); default: the short "<path> v<n>" text. */
  size?: number;
  validators?: boolean;
  headers?: Record<string, string>;
}

interface StoredObject extends Required<Omit<ObjectSpec, 'size'>> {
  version: number;
  size: number | undefined;
  lastModified: Date;
}

export interface TestOrigin {
  port: number;
  put(path: string, spec?: ObjectSpec): void;
  hits(target: string): { full: number; notModified: number };
  /** Requests received for a target so far, answered or not. */
  arrived(target: string): number;
  /** The Host headers of the requests received for a target, in order. */
  hosts(target: string): string[];
  close(): Promise<void>;
}

export async function startOrigin(): Promise<TestOrigin> {
  const objects = new Map<string, StoredObject>();
  const hits = new Map<string, { full: number; notModified: number }>();
  const arrivals = new Map<string, string[]>();
  let clock = Date.now() - 3_600_000;
  const count = (target: string, kind: 'full' | 'notModified'): void => {
    const h = hits.get(target) ?? { full: 0, notModified: 0 };
    h[kind]++;
    hits.set(target, h);
  };
  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    arrivals.set(target, [...(arrivals.get(target) ?? []), req.headers.host ?? '']);
    const obj = objects.get(new URL(target, 'http://origin').pathname);
    if (obj === undefined) {
      count(target, 'full');
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('not found');
      return;
    }
    const answer = (): void => {
      const etag = `"v${obj.version}"`;
      const headers: Record<string, string> = { 'content-type': 'text/plain', ...obj.headers };
      if (obj.cacheControl !== null) headers['cache-control'] = obj.cacheControl;
      if (obj.validators) {
        headers['etag'] = etag;
        headers['last-modified'] = obj.lastModified.toUTCString();
      }
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      const notModified =
        obj.validators &&
        obj.status === 200 &&
        (inm !== undefined ? inm === etag : ims !== undefined && Date.parse(ims) >= Math.floor(obj.lastModified.getTime() / 1000) * 1000);
      if (notModified) {
        count(target, 'notModified');
        res.writeHead(304, headers);
        res.end();
        return;
      }
      count(target, 'full');
      const text = `${new URL(target, 'http://origin').pathname} v${obj.version}`;
      const body = obj.size === undefined ? text : text.padEnd(obj.size, '.');
      res.writeHead(obj.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // unref: a held answer whose client gave up must not keep the test process alive.
    if (obj.delayMs > 0) setTimeout(answer, obj.delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    put(path, spec = {}) {
      const prev = objects.get(path);
      objects.set(path, {
        version: (prev?.version ?? 0) + 1,
        status: spec.status ?? 200,
        cacheControl: spec.cacheControl === undefined ? 'max-age=3600' : spec.cacheControl,
        delayMs: spec.delayMs ?? 0,
        size: spec.size,
        validators: spec.validators ?? true,
        headers: spec.headers ?? {},
        lastModified: new Date((clock += 2000)),
      });
    },
    hits: (target) => ({ ...(hits.get(target) ?? { full: 0, notModified: 0 }) }),
    arrived: (target) => arrivals.get(target)?.length ?? 0,
    hosts: (target) => [...(arrivals.get(target) ?? [])],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on. */
/**
 * A port nothing listens on, below the ephemeral range (32768-60999 on Linux): a port freed from
 * listen(0) could be handed again to the next listen(0) in this test (the edge itself, which then
 * proxies to itself until the origin timeout) or be a connect's own source port (a self-connect).
 */
export async function deadPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = http.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
}

export const source = (port: number, primary = true): DomainConfig['sources'][number] => ({
  address: '127.0.0.1',
  type: 'ipaddr',
  primary,
  httpPort: port,
  httpsPort: 443,
});

export const okWith = (detail: string): EdgeResult => ({ ok: true, detail });

// --- an edge with its driver and a users' pool ---

export interface Got {
  status: number;
  body: string;
  xcache: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export interface GetOptions {
  host: string;
  method?: string;
  headers?: Record<string, string>;
}

export interface TestEdge {
  edge: BuiltinEdge;
  /** The bearer secret of its control port (the driver sends it). */
  secret: string;
  driver: BuiltinDriver;
  /** A request through the traffic port, as a user sends it. */
  get(path: string, options: GetOptions): Promise<Got>;
  close(): Promise<void>;
}

/** Starts an edge (with a secret, as every edge should have) and applies `domains` to it as version 1. */
export async function startTestEdge(domains: DomainConfig[], options: Partial<BuiltinEdgeOptions> = {}): Promise<TestEdge> {
  const secret = options.secret ?? randomBytes(24).toString('hex');
  const edge = await startBuiltinEdge({ name: 'edge-test', originAllow: OriginAllowList.parse('loopback'), ...options, secret });
  const driver = new BuiltinDriver(edge.controlUrl, { secret });
  const users = new Pool(edge.trafficUrl);
  const close = async (): Promise<void> => {
    await Promise.all([users.close(), driver.close()]);
    await edge.close();
  };
  try {
    await driver.applyDomains(domains, 1);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    edge,
    secret,
    driver,
    async get(path, { host, method = 'GET', headers = {} }) {
      const res = await users.request({ method, path, headers: { host, ...headers } });
      const body = await res.body.text();
      const xcache = res.headers['x-cache'];
      return { status: res.statusCode, body, xcache: typeof xcache === 'string' ? xcache : undefined, headers: res.headers };
    },
    close,
  };
}

// --- raw admin calls for the cases the driver cannot express ---

/** One admin call; `secret` is sent as the bearer token when given. */
export async function fetchRaw(url: string, method: string, body?: string, secret?: string): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const pool = new Pool(u.origin);
  try {
    const headers = { 'content-type': 'application/json', ...(secret !== undefined && { authorization: `Bearer ${secret}` }) };
    const res = await pool.request({ method, path: u.pathname, body, headers });
    return { status: res.statusCode, text: await res.body.text() };
  } finally {
    await pool.close();
  }
}

export async function fetchJson(url: string, secret?: string): Promise<{ entries: number; bytes: number }> {
  const res = await fetchRaw(url, 'GET', undefined, secret);
  return JSON.parse(res.text) as { entries: number; bytes: number };
}
