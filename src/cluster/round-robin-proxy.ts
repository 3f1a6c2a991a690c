// One address in front of several API processes: each request goes to the next process in turn, so
// a client on one keep-alive connection still spreads its calls over all of them (a TCP balancer
// would pin the connection). Headers and body pass unchanged: signatures cover the Host header.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { proxyFailed, proxyUnavailable, type CachectlError } from '../errors.js';

export interface RoundRobinProxy {
  url: string;
  /** Requests each backend answered. */
  counts(): number[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** The proxy's own refusal, in the flat shape (no API process made it, so there is no request id). */
function refuse(res: http.ServerResponse, err: CachectlError): void {
  res.writeHead(err.statusCode, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error_code: err.code, error_msg: err.message }));
}

export async function startRoundRobin(backends: string[], host = '127.0.0.1', port = 0): Promise<RoundRobinProxy> {
  const pools = backends.map((b) => new Pool(b, { connections: 32, keepAliveTimeout: 10_000 }));
  const answered = backends.map(() => 0);
  let next = 0;
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      // A backend that is down (killed, restarting) is skipped: the next one answers.
      for (let tries = 0; tries < pools.length; tries++) {
        const i = next++ % pools.length;
        try {
          const answer = await pools[i].request({ method: req.method as 'GET', path: req.url ?? '/', headers, body: body.length > 0 ? body : undefined, headersTimeout: 120_000, bodyTimeout: 120_000 });
          const out = Buffer.from(await answer.body.arrayBuffer());
          const outHeaders: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
          answered[i]++;
          res.writeHead(answer.statusCode, outHeaders);
          res.end(out);
          return;
        } catch (err) {
          // Refused: the request never reached that process, so another may take it. A reset
          // connection may have delivered it: only a read is safe to send again.
          const code = (err as { code?: string }).code;
          const retry = code === 'ECONNREFUSED' || ((req.method === 'GET' || req.method === 'HEAD') && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'));
          if (!retry) {
            refuse(res, proxyFailed(`proxy: ${(err as Error).message}`));
            return;
          }
        }
      }
      refuse(res, proxyUnavailable('proxy: no API process answered'));
    })();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    counts: () => [...answered],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}
