// An in-process cachectl on the store under test (a fresh SQLite file, or a scratch PostgreSQL database
// in the PostgreSQL run: see stores.ts), port 0 and two built-in edges.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { client, type Call } from './signed-client.js';
import { storeFlags } from './stores.js';
import type { Logger } from '../../src/logging/logger.js';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  call: Call;
  accountId: string;
  close(): Promise<void>;
}

/** `options.logger`: where the server logs (its own on standard output, at the flags' level, otherwise). */
export async function startTestServer(flags: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-test-'));
  // A test that names its database keeps it; otherwise the store under test.
  const store = flags['database-url'] === undefined ? await storeFlags() : { flags: {}, drop: async () => undefined };
  const config = loadServerConfig(
    { 'data-dir': dataDir, port: '0', 'edge-port': '0', 'edge-admin-port': '0', 'sqlite-sync': 'NORMAL', 'log-level': 'warn', 'origin-allow': 'loopback,public', ...store.flags, ...flags },
    {},
  );
  let server: RunningServer;
  try {
    server = await startServer(config, options);
  } catch (err) {
    await store.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const b = server.bootstrap!;
  return {
    server,
    dataDir,
    accountId: b.accountId,
    // A worker (--role worker) serves no API: its calls fail, saying so.
    call: server.url ? client(server.url, { accessKey: b.accessKey, secretKey: b.secretKey }) : () => Promise.reject(new Error('a worker serves no API')),
    async close() {
      await server.close();
      await store.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a domain for an origin port and waits until it is online. */
export async function addDomain(call: Call, name: string, originPort: number): Promise<string> {
  const res = await call('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: originPort }] } },
  });
  if (res.status !== 200) throw new Error(`create domain: ${res.status} ${res.text}`);
  await waitDomainOnline(call, name);
  return res.json.domain.id;
}

/** Waits until the edges have applied a domain (domain_status online). */
export async function waitDomainOnline(call: Call, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const list = await call('GET', '/v1.0/cdn/domains', { query: [['domain_name', name], ['exact_match', 'true']] });
    if (list.json?.domains?.[0]?.domain_status === 'online') return;
    if (Date.now() > deadline) throw new Error(`domain ${name} not online: ${list.text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
