// The built-in edge node: a caching reverse proxy (traffic server) and the JSON control endpoint that
// BuiltinDriver speaks (admin server), on two ports of one process. The admin server listens on
// loopback unless told otherwise, and anywhere else only with a secret.
//
// The parts, in this folder: edge-node.ts (the node's shared state), traffic-handler.ts (serving users:
// lookup, hit/miss/revalidate, coalescing), admin-handler.ts (the control routes), domain-set.ts (served
// domains and host lookup, wildcards included), origin-client.ts (origin pools and failover),
// cache-fill.ts (origin answers into cache entries), flight-table.ts (coalesced fetches),
// edge-cache.ts (the object store) and cache-policy.ts (RFC 9111 rules).

import http from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminHandler } from './admin-handler.js';
import { EdgeNode } from './edge-node.js';
import { TrafficHandler } from './traffic-handler.js';
import { DEFAULT_ORIGIN_ALLOW, OriginAllowList } from '../origin-allow.js';
import { anonymousControlRefusal } from '../control-secret.js';

export interface BuiltinEdgeOptions {
  /** Node name, for messages. */
  name: string;
  /** Listen address of the traffic server. Default 127.0.0.1. */
  host?: string;
  /** Listen address of the admin server. Default 127.0.0.1; beyond loopback it needs a secret. */
  adminHost?: string;
  /** When set, every admin call must carry `Authorization: Bearer <secret>`. */
  secret?: string;
  /** 0 (default) picks a free port. */
  trafficPort?: number;
  adminPort?: number;
  /** Memory for cached objects (bodies plus approximate header size). Default 64 MiB. */
  maxBytes?: number;
  /** Larger answers are passed through, not stored. Default maxBytes / 8. */
  maxObjectBytes?: number;
  /** Origin headers and body-idle timeout: past it a user gets 504. Default 10 s. */
  originTimeoutMs?: number;
  /** Connect timeout per origin address, kept short so that a dead primary fails over fast. Default min(originTimeoutMs, 3 s). */
  originConnectTimeoutMs?: number;
  /** Where origins may be, checked on every connect. Default: public addresses only (not loopback). */
  originAllow?: OriginAllowList;
}

export interface BuiltinEdge {
  name: string;
  trafficUrl: string;
  controlUrl: string;
  close(): Promise<void>;
}

const SERVER_KEEPALIVE_MS = 30_000;

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function makeServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = http.createServer(handler);
  // Longer than client pools keep idle sockets, so clients, not the server, close idle connections.
  server.keepAliveTimeout = SERVER_KEEPALIVE_MS;
  return server;
}

/** Where to connect to a listen address: a wildcard is not one to connect to, so loopback instead. */
function base(host: string): string {
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return reach.includes(':') ? `http://[${reach}]` : `http://${reach}`;
}

function newNode(options: BuiltinEdgeOptions): EdgeNode {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const originTimeoutMs = options.originTimeoutMs ?? 10_000;
  return new EdgeNode({
    maxBytes,
    maxObjectBytes: Math.min(options.maxObjectBytes ?? Math.floor(maxBytes / 8), maxBytes),
    originTimeoutMs,
    originConnectTimeoutMs: options.originConnectTimeoutMs ?? Math.min(originTimeoutMs, 3_000),
    originAllow: options.originAllow ?? OriginAllowList.parse(DEFAULT_ORIGIN_ALLOW),
  });
}

/** Starts one built-in edge node: a traffic server and an admin server, both keep-alive. */
export async function startBuiltinEdge(options: BuiltinEdgeOptions): Promise<BuiltinEdge> {
  const host = options.host ?? '127.0.0.1';
  const adminHost = options.adminHost ?? '127.0.0.1';
  const refusal = anonymousControlRefusal(adminHost, options.secret, 'give a secret');
  if (refusal) throw new Error(`edge ${options.name}: ${refusal}`);
  const node = newNode(options);
  const traffic = makeServer(new TrafficHandler(node).onRequest);
  const admin = makeServer(new AdminHandler(node, options.secret).onRequest);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.all([closeServer(traffic), closeServer(admin)]);
      await node.shutdown();
    })());
  try {
    const trafficPort = await listen(traffic, options.trafficPort ?? 0, host);
    const adminPort = await listen(admin, options.adminPort ?? 0, adminHost);
    return { name: options.name, trafficUrl: `${base(host)}:${trafficPort}`, controlUrl: `${base(adminHost)}:${adminPort}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
