// The scale-out deployment on one machine: PostgreSQL and NATS (the machine's, or private ones when
// none answers), several `cachectl serve` processes on one fresh database, PoPs each with a
// `cachectl agent --nats` process and built-in edges, and a round-robin address in front of the
// APIs. Used by `cachectl cluster`, the cluster tests, the conformance run and the benchmark.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiClient } from '../client/api-client.js';
import { startBuiltinEdge } from '../edge/builtin/edge-server.js';
import { OriginAllowList } from '../edge/origin-allow.js';
import { freePort, sleep } from '../edge/local-process.js';
import { cachectlChild } from './child-process.js';
import { createScratchDatabase } from './scratch-database.js';
import { removeBus } from '../edge/nats/edge-bus.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { reachable, startPrivateNats } from './private-nats.js';
import { startRoundRobin, type RoundRobinProxy } from './round-robin-proxy.js';
import { ensurePrivateDir } from '../private-files.js';

export interface ClusterOptions {
  /** Scratch directory: logs, data directories, private servers. */
  dir: string;
  serves?: number;
  pops?: number;
  edgesPerPop?: number;
  /** A PostgreSQL server to create the cluster's database on (default: the local one on :5432). */
  postgresUrl?: string;
  /** Always start a private PostgreSQL (tests that restart it). */
  privatePostgres?: boolean;
  natsUrl?: string;
  /** Extra settings of every serve process (CACHECTL_* variables). */
  serveEnv?: Record<string, string>;
  /** Port of the round-robin API address (default: any free port). */
  apiPort?: number;
  host?: string;
  /**
   * --origin-allow of the serve processes and the edges. Default loopback,public: a cluster on this
   * machine, for origins on this machine too.
   */
  originAllow?: string;
  log?: (line: string) => void;
}

export interface ServeProcess {
  readonly index: number;
  readonly url: string;
  pid(): number;
  /** Starts it again (same port and settings) after a kill. */
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface EdgeInfo {
  name: string;
  trafficUrl: string;
  controlUrl: string;
  /** The bearer secret of its control port (registered with the node). */
  secret: string;
}

export interface Pop {
  name: string;
  edges: EdgeInfo[];
  agent: { pid(): number; start(): Promise<void>; kill(signal?: NodeJS.Signals): Promise<void> };
}

export interface Credentials {
  account: string;
  user: string;
  password: string;
  accessKey: string;
  secretKey: string;
}

export interface LocalCluster {
  /** The round-robin address in front of every serve process. */
  api: string;
  serves: ServeProcess[];
  pops: Pop[];
  credentials: Credentials;
  databaseUrl: string;
  natsUrl: string;
  natsPrefix: string;
  postgres?: PrivatePostgres;
  proxy: RoundRobinProxy;
  /** A signed client of the round-robin address. */
  client(): ApiClient;
  stop(): Promise<void>;
}

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_NATS = 'nats://127.0.0.1:4222';

export async function startLocalCluster(options: ClusterOptions): Promise<LocalCluster> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? '127.0.0.1';
  const originAllowSpec = options.originAllow ?? 'loopback,public';
  const originAllow = OriginAllowList.parse(originAllowSpec);
  // Owner only: it holds the processes' logs, data directories and the credentials file.
  ensurePrivateDir(options.dir, (message) => log(`warning: ${message}`));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    // PostgreSQL: the given or local server, or a private one.
    let postgres: PrivatePostgres | undefined;
    let serverUrl = options.postgresUrl ?? DEFAULT_POSTGRES;
    const pgAddress = new URL(serverUrl);
    if (options.privatePostgres || (!options.postgresUrl && !(await reachable(pgAddress.hostname, Number(pgAddress.port || 5432))))) {
      log('starting a private PostgreSQL');
      postgres = await startPrivatePostgres();
      stops.push(() => postgres!.stop());
      serverUrl = postgres.url;
    }
    const tag = randomBytes(4).toString('hex');
    const database = await createScratchDatabase(serverUrl, tag);
    stops.push(() => database.drop());
    const databaseUrl = database.url;
    let natsUrl = options.natsUrl ?? DEFAULT_NATS;
    const natsAddress = new URL(natsUrl.replace(/^nats:/, 'http:'));
    if (!options.natsUrl && !(await reachable(natsAddress.hostname, Number(natsAddress.port || 4222)))) {
      log('starting a private NATS server');
      const nats = await startPrivateNats(path.join(options.dir, 'nats'));
      stops.push(() => nats.stop());
      natsUrl = nats.url;
    }
    // Streams and buckets of this cluster only: clusters (and tests) on one NATS do not meet.
    const natsPrefix = `cachectl_${tag}`;
    stops.push(() => removeBus(natsUrl, natsPrefix));

    const credentials: Credentials = {
      account: 'admin',
      user: 'admin',
      password: randomBytes(12).toString('base64url'),
      accessKey: randomBytes(10).toString('hex').toUpperCase(),
      secretKey: randomBytes(20).toString('hex'),
    };
    const serves: ServeProcess[] = [];
    const count = options.serves ?? 3;
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dataDir = path.join(options.dir, `serve-${i + 1}`);
      // The credentials go in the environment (readable by this user only, unlike argv); the serve
      // processes print no secret to their output, which goes to serve-N.log.
      const env = {
        CACHECTL_DATABASE_URL: databaseUrl,
        CACHECTL_NATS_URL: natsUrl,
        CACHECTL_NATS_PREFIX: natsPrefix,
        CACHECTL_HOST: host,
        CACHECTL_PORT: String(port),
        CACHECTL_DATA_DIR: dataDir,
        CACHECTL_BUILTIN_EDGES: '0',
        CACHECTL_BOOTSTRAP_ACCOUNT: credentials.account,
        CACHECTL_BOOTSTRAP_USER: credentials.user,
        CACHECTL_BOOTSTRAP_PASSWORD: credentials.password,
        CACHECTL_BOOTSTRAP_AK: credentials.accessKey,
        CACHECTL_BOOTSTRAP_SK: credentials.secretKey,
        CACHECTL_LOG_LEVEL: 'warn',
        CACHECTL_ORIGIN_ALLOW: originAllowSpec,
        ...options.serveEnv,
      };
      const child = cachectlChild(['serve'], env, path.join(options.dir, `serve-${i + 1}.log`), (l) => l.startsWith('cachectl API listening on'), `serve ${i + 1}`);
      const serve: ServeProcess = { index: i, url: `http://${host}:${port}`, pid: child.pid, start: child.start, kill: child.kill };
      serves.push(serve);
      stops.push(() => serve.kill());
    }
    // The first one migrates the fresh database; the others then start side by side.
    await serves[0].start();
    await Promise.all(serves.slice(1).map((s) => s.start()));
    log(`${count} API processes: ${serves.map((s) => s.url).join(', ')}`);

    const proxy = await startRoundRobin(
      serves.map((s) => s.url),
      host,
      options.apiPort ?? 0,
    );
    stops.push(() => proxy.close());
    const client = () => new ApiClient({ api: proxy.url, accessKey: credentials.accessKey, secretKey: credentials.secretKey });

    const pops: Pop[] = [];
    const admin = client();
    try {
      for (let p = 0; p < (options.pops ?? 2); p++) {
        const name = `pop${p + 1}`;
        const edges: EdgeInfo[] = [];
        for (let e = 0; e < (options.edgesPerPop ?? 2); e++) {
          const secret = randomBytes(32).toString('hex');
          const edge = await startBuiltinEdge({ name: `${name}-edge-${e + 1}`, host, trafficPort: 0, adminHost: host, adminPort: 0, secret, maxBytes: 64 * 1024 * 1024, originAllow });
          stops.push(() => edge.close());
          edges.push({ name: edge.name, trafficUrl: edge.trafficUrl, controlUrl: edge.controlUrl, secret });
        }
        const agent = cachectlChild(['agent', '--nats', natsUrl, '--pop', name, '--prefix', natsPrefix, '--state-dir', path.join(options.dir, 'agents')], {}, path.join(options.dir, `agent-${name}.log`), (l) => l.startsWith(`agent ${name}: on`), `agent ${name}`);
        await agent.start();
        stops.push(() => agent.kill());
        for (const edge of edges) {
          await admin.call('POST', '/cachectl/v1/nodes', {
            body: { name: edge.name, driver: 'builtin', traffic_url: edge.trafficUrl, control_url: edge.controlUrl, secret: edge.secret, transport: 'nats', pop: name, labels: { pop: name } },
          });
        }
        pops.push({ name, edges, agent });
      }
      // Every process must know every node before the cluster takes work (they read the registry
      // every 2 s); a task sent before would miss the nodes it does not know yet.
      const names = pops.flatMap((p) => p.edges.map((e) => e.name));
      for (const serve of serves) {
        const direct = new ApiClient({ api: serve.url, accessKey: credentials.accessKey, secretKey: credentials.secretKey });
        try {
          for (let i = 0; ; i++) {
            const { nodes } = await direct.call<{ nodes: Array<{ name: string; up: boolean }> }>('GET', '/cachectl/v1/nodes');
            if (names.every((n) => nodes.some((x) => x.name === n && x.up))) break;
            if (i > 100) throw new Error(`serve ${serve.index + 1} does not see every node up: ${JSON.stringify(nodes)}`);
            await sleep(100);
          }
        } finally {
          await direct.close();
        }
      }
    } finally {
      await admin.close();
    }
    log(`${pops.length} PoPs: ${pops.map((p) => `${p.name} (${p.edges.map((e) => e.trafficUrl).join(', ')})`).join('; ')}`);
    return { api: proxy.url, serves, pops, credentials, databaseUrl, natsUrl, natsPrefix, postgres, proxy, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
