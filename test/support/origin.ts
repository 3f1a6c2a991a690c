// A test origin: versioned objects with validators, and counters of full and conditional fetches.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestOrigin {
  port: number;
  put(path: string, options?: { status?: number; cacheControl?: string }): void;
  hits(path: string): { full: number; notModified: number };
  close(): Promise<void>;
}

export async function startOrigin(): Promise<TestOrigin> {
  const objects = new Map<string, { version: number; status: number; cacheControl: string; lastModified: number }>();
  const hits = new Map<string, { full: number; notModified: number }>();
  let clock = Date.now() - 3600_000;
  const count = (path: string, kind: 'full' | 'notModified') => {
    const h = hits.get(path) ?? { full: 0, notModified: 0 };
    h[kind]++;
    hits.set(path, h);
  };
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://origin').pathname);
    const obj = objects.get(path);
    if (!obj) {
      count(path, 'full');
      res.writeHead(404, { 'Cache-Control': 'no-store' }).end('not found');
      return;
    }
    const etag = `"v${obj.version}"`;
    const headers = { ETag: etag, 'Last-Modified': new Date(obj.lastModified).toUTCString(), 'Cache-Control': obj.cacheControl };
    if (obj.status === 200 && req.headers['if-none-match'] === etag) {
      count(path, 'notModified');
      res.writeHead(304, headers).end();
      return;
    }
    count(path, 'full');
    res.writeHead(obj.status, headers).end(`${path} v${obj.version}`);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    put(path, { status = 200, cacheControl = 'max-age=3600' } = {}) {
      const prev = objects.get(path);
      objects.set(path, { version: (prev?.version ?? 0) + 1, status, cacheControl, lastModified: (clock += 2000) });
    },
    hits: (path) => ({ ...(hits.get(path) ?? { full: 0, notModified: 0 }) }),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
