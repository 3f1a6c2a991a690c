// A local origin for the benchmark domain: every path is a small cacheable object.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchOrigin {
  port: number;
  requests(): number;
  close(): Promise<void>;
}

export async function startBenchOrigin(): Promise<BenchOrigin> {
  let requests = 0;
  const body = Buffer.alloc(512, 'x');
  const server = http.createServer((req, res) => {
    requests++;
    res.writeHead(200, { 'Cache-Control': 'max-age=3600', 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
