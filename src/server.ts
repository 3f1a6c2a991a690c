// Wires the product together: store → engine (with its edge fleet) → services → HTTP API. Also the
// first-start bootstrap of the admin account.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';
import { createStore, type Store } from './store/store.js';
import { listenTaskDone } from './store/postgres/task-done-channel.js';
import { deploymentId } from './store/repositories/meta-repository.js';
import { startBuiltinEdge } from './edge/builtin/edge-server.js';
import { isLoopbackHost, loadOrCreateSecretFile } from './edge/control-secret.js';
import { createDriver } from './edge/engines.js';
import type { EdgeNode } from './edge/edge-driver.js';
import { EdgeFleet } from './engine/edge-fleet.js';
import { NodeService } from './services/node-service.js';
import { TaskEngine } from './engine/task-engine.js';
import { DomainSync } from './engine/domain-sync.js';
import { AccountService, type NewCredentials } from './services/account-service.js';
import { SecretSealer } from './services/secret-sealer.js';
import { AuthService } from './services/auth-service.js';
import { iamServices } from './services/iam/iam-services.js';
import { QuotaService } from './services/quota-service.js';
import { DomainService } from './services/domain-service.js';
import { OriginPolicy } from './services/origin-policy.js';
import { TaskService } from './services/task-service.js';
import { AuditService } from './services/audit-service.js';
import { historyRetention } from './services/history-retention.js';
import { holdDataDir } from './data-dir-lock.js';
import { ReadinessService } from './services/readiness-service.js';
import { RateLimiter } from './api/rate-limit.js';
import { SharedRateLimiter } from './api/shared-rate-limit.js';
import type { SharedWork } from './engine/worker-lease.js';
import { PrefetchTimeouts } from './engine/prefetch-timeouts.js';
import { DomainSettingsService } from './services/domain-settings-service.js';
import type { EdgeDriver } from './edge/edge-driver.js';
import { badParameter } from './errors.js';
import { buildApi } from './api/app.js';
import { Metrics } from './metrics/metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { createPrivateFile, ensurePrivateDir, fixPrivateFile, writePrivateFile } from './private-files.js';
import { createLogger, warnings, type Logger } from './logging/logger.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The API's address; empty for a worker (it serves no API). */
  url: string;
  /** Where GET /metrics is served (--metrics-listen); unset when it is not. */
  metricsUrl?: string;
  edges: EdgeNode[];
  /** Set on the first start only: the bootstrap credentials, shown once. */
  bootstrap?: NewCredentials;
  credentialsFile: string;
  store: Store;
  /** Authentication, with its count of password checks. */
  auth: AuthService;
  engine: TaskEngine;
  domainSync: DomainSync;
  close(): Promise<void>;
  /** While close() runs: what it is waiting for (said when a shutdown runs out of time). */
  closingStep(): string | undefined;
}

export async function startServer(config: ServerConfig, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const log = warnings(logger);
  const warnOnStart = (message: string) => logger.warn(message);
  const sqliteFile = path.join(config.dataDir, 'cachectl.db');
  const credentialsFile = path.join(config.dataDir, 'credentials.json');
  protectDataDir(config.dataDir, config.databaseUrl === undefined ? sqliteFile : undefined, credentialsFile, warnOnStart);
  // Marked before the store opens: cachectl restore refuses from then on.
  const release = holdDataDir(config.dataDir);
  const store = await createStore(
    config.databaseUrl !== undefined
      ? { kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize }
      : { kind: 'sqlite', file: sqliteFile, synchronous: config.sqliteSync },
  ).catch((err: unknown) => {
    release();
    throw err;
  });
  // The step close() is in, for a shutdown that runs out of time.
  let step: string | undefined;
  const labelled = (what: string, fn: () => Promise<void>) => async () => {
    step = what;
    await fn();
  };
  const closers: Array<() => Promise<void>> = [labelled('closing the store', () => store.close()), async () => release()];
  // Only when served: with metrics off the hooks cost nothing.
  const metrics = config.metricsListen !== undefined ? new Metrics() : undefined;
  try {
    const sealer = config.secretKeyFile !== undefined ? SecretSealer.fromKeyFile(config.secretKeyFile, warnOnStart) : SecretSealer.none();
    const auth = new AuthService(store.db, { loginLimits: config.login, sealer });
    const iam = iamServices(store.db, () => auth.invalidate(), sealer);
    const accounts = new AccountService(store.db, sealer, iam.writer);
    const sealed = await accounts.sealStoredSecrets();
    if (sealed > 0) warnOnStart(`sealed ${sealed} stored secret key(s) under ${config.secretKeyFile}`);
    const bootstrap = await accounts.bootstrapAdmin({
      name: config.bootstrapAccount,
      user: config.bootstrapUser,
      password: config.bootstrapPassword,
      accessKey: config.bootstrapAk,
      secretKey: config.bootstrapSk,
    });
    // This process's name in leases and on the bus: unique even when a PID is reused.
    const processName = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const shared: SharedWork | undefined =
      store.dialect === 'postgres'
        ? { owner: processName, leaseMs: config.leaseMs, pollMs: config.claimPollMs, worker: config.role !== 'api', waitPollMs: WAIT_SAFETY_POLL_MS }
        : undefined;

    const builtin = [];
    // The built-in edges' control ports: on loopback, and with a secret even there (other local users),
    // kept in the data directory so that restarts and other tools on this machine share it.
    const edgeSecret = config.builtinEdges > 0 ? localEdgeSecret(config.dataDir) : undefined;
    for (let i = 0; i < config.builtinEdges; i++) {
      const edge = await startBuiltinEdge({
        name: `edge-${i + 1}`,
        host: config.edgeHost,
        trafficPort: config.edgePort === 0 ? 0 : config.edgePort + i,
        adminHost: isLoopbackHost(config.edgeHost) ? config.edgeHost : '127.0.0.1',
        adminPort: config.edgeAdminPort === 0 ? 0 : config.edgeAdminPort + i,
        secret: edgeSecret,
        maxBytes: config.edgeMaxBytes,
        originAllow: config.originAllow,
      });
      builtin.push(edge);
      closers.unshift(() => edge.close());
    }
    const nodes: EdgeNode[] = builtin.map((e) => ({ name: e.name, driver: 'builtin' as const, trafficUrl: e.trafficUrl, controlUrl: e.controlUrl, labels: {}, secret: edgeSecret }));
    const fleet = new EdgeFleet(
      nodes.map((node) => ({ node, driver: createDriver(node) })),
      metrics,
    );
    metrics?.watchNodes(() => fleet.members.map((m) => ({ name: m.node.name, up: m.up, backlog: m.queue.backlog, domainsVersion: m.domainsVersion })));
    // Declared on SQLite too (without samples), so that one dashboard fits both stores.
    metrics?.watchPools(store.poolUsage ?? (() => []));
    closers.unshift(() => fleet.close());

    const domainSync = new DomainSync(store.db, fleet, log, { originAllow: config.originAllow, logger });
    const bus =
      config.natsUrl !== undefined
        ? await connectEdgeBus(config, shared?.owner ?? processName, await deploymentId(store.db))
        : undefined;
    if (bus) closers.unshift(() => bus.close());
    const driverFor = (node: EdgeNode): EdgeDriver => {
      if (node.transport !== 'nats') return createDriver(node);
      if (!bus) throw badParameter(`node ${node.name} has transport nats, and this server has no NATS bus: start it with --nats-url`);
      return bus.driverFor(node);
    };
    const nodeService = new NodeService(store.db, fleet, domainSync, driverFor);
    await nodeService.load();
    if (shared) {
      const timer = setInterval(() => void nodeService.sync().catch((err: unknown) => log('reading the node registry failed', err)), 2000);
      timer.unref();
      closers.unshift(async () => clearInterval(timer));
    }
    const prefetchTimeouts = new PrefetchTimeouts(store.db, config.prefetchTimeoutMs, log);
    await prefetchTimeouts.start();
    closers.unshift(async () => prefetchTimeouts.stop());
    const engine = new TaskEngine(store.db, fleet, {
      outcomeWrite: (fn) => store.recoverableStatement(fn),
      deadlineMs: config.taskDeadlineMs,
      prefetchTimeoutMs: (host) => prefetchTimeouts.of(host),
      retryBaseMs: config.retryBaseMs,
      maxTracked: config.maxTrackedUrls,
      log,
      logger,
      shared,
      metrics,
    });
    const quotas = new QuotaService(store.db, config.quotas);
    const domainService = new DomainService(store.db, domainSync, quotas, new OriginPolicy(config.originAllow));
    // Identity changes made by any process reach this one's caches within a second.
    auth.startWatching();
    closers.unshift(() => auth.close());
    const audit = new AuditService(store.db, { retentionDays: config.auditRetentionDays, reads: config.auditReads, log: log });
    audit.start();
    closers.unshift(() => audit.stop());
    const history = historyRetention(store.db, config.historyRetentionDays, log);
    history.start();
    closers.unshift(() => history.stop());
    const ctx = {
      audit,
      accounts,
      iam,
      auth,
      quotas,
      domains: domainService,
      domainSettings: new DomainSettingsService(store.db, domainService, prefetchTimeouts),
      tasks: new TaskService(store.db, engine, quotas, { maxUrlsPerRequest: config.maxUrlsPerRequest, maxDirsPerRequest: config.maxDirsPerRequest }, metrics, logger),
      rates: shared ? new SharedRateLimiter(store.db, config.rates) : new RateLimiter(config.rates),
      fleet,
      nodes: nodeService,
      metrics,
      readiness: new ReadinessService(store.db, store.dialect, engine, log),
    };
    const app = await buildApi(ctx, {
      bodyLimit: config.bodyLimit,
      logger,
      bodyTimeoutMs: config.bodyTimeoutMs,
      headerTimeoutMs: config.headerTimeoutMs,
      bodyBudget: { totalBytes: config.bodyBudget, perAddressBytes: config.bodyBudgetPerAddress, perCredentialBytes: config.bodyBudgetPerKey },
    });
    closers.unshift(
      labelled('writing the pending URL outcomes', async () => {
        domainSync.stop();
        await engine.stop();
      }),
    );
    if (shared && config.databaseUrl !== undefined) {
      const listener = listenTaskDone(config.databaseUrl, (id) => engine.taskDoneElsewhere(id), log);
      closers.unshift(() => listener.close());
    }
    closers.unshift(labelled('answering the requests in flight (creates commit before they answer)', () => closeApi(app)));

    domainSync.start();
    await domainSync.settled();
    const recovered = await engine.start();
    if (recovered > 0) logger.info({ urls: recovered }, `resumed ${recovered} URLs accepted before the last stop`);
    let url = '';
    if (config.role !== 'worker') {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    }

    let metricsUrl: string | undefined;
    if (metrics && config.metricsListen) {
      const served = await startMetricsServer(metrics, config.metricsListen.host, config.metricsListen.port, ctx.readiness);
      closers.unshift(() => served.close());
      metricsUrl = served.url;
    }

    if (bootstrap) writeCredentials(credentialsFile, url, bootstrap, nodes);

    let closed: Promise<void> | null = null;
    return {
      app,
      url,
      metricsUrl,
      edges: nodes,
      bootstrap,
      credentialsFile,
      store,
      auth: ctx.auth,
      engine,
      domainSync,
      close: () =>
        (closed ??= (async () => {
          for (const close of closers) await close().catch((err: unknown) => log('closing', err));
          step = undefined;
        })()),
      closingStep: () => step,
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => undefined);
    throw err;
  }
}

/**
 * Stops accepting and waits for the requests in flight. A keep-alive connection whose request ends
 * during the wait would stay open until its client leaves (Node closes the idle ones only when the
 * close starts): those are closed as they become idle.
 */
async function closeApi(app: FastifyInstance): Promise<void> {
  const reaper = setInterval(() => app.server.closeIdleConnections(), IDLE_REAP_MS);
  try {
    await app.close();
  } finally {
    clearInterval(reaper);
  }
}

const IDLE_REAP_MS = 50;

/** A /wait's own read of the store, when finished tasks are announced (task-done-channel.ts): a fallback. */
const WAIT_SAFETY_POLL_MS = 1000;

/**
 * The data directory 0700 and its secret files 0600, whatever the umask; ones left open by an older
 * version are closed with a warning. SQLite gives the -wal and -shm files the database file's mode,
 * so the database is created 0600 before SQLite opens it.
 */
function protectDataDir(dataDir: string, sqliteFile: string | undefined, credentialsFile: string, warn: (message: string) => void): void {
  ensurePrivateDir(dataDir, warn);
  fixPrivateFile(credentialsFile, warn);
  fixPrivateFile(path.join(dataDir, EDGE_SECRET_FILE), warn);
  if (sqliteFile === undefined) return;
  for (const file of [sqliteFile, `${sqliteFile}-wal`, `${sqliteFile}-shm`]) fixPrivateFile(file, warn);
  createPrivateFile(sqliteFile);
}

const EDGE_SECRET_FILE = 'edge-secret';

/** The bearer secret of the built-in edges, in `edge-secret` (mode 0600) in the data directory. */
function localEdgeSecret(dataDir: string): string {
  return loadOrCreateSecretFile(path.join(dataDir, EDGE_SECRET_FILE));
}

/** The bootstrap secrets, readable by the owner only. */
function writeCredentials(file: string, url: string, c: NewCredentials, edges: EdgeNode[]): void {
  const body = {
    api: url,
    account: c.account,
    account_id: c.accountId,
    user: c.user,
    password: c.password,
    access_key: c.accessKey,
    secret_key: c.secretKey,
    edges: edges.map((e) => e.trafficUrl),
  };
  writePrivateFile(file, JSON.stringify(body, null, 2) + '\n');
}

/** The NATS edge bus, loaded only when configured. */
async function connectEdgeBus(config: ServerConfig, instanceId: string, scope: string): Promise<{ driverFor(node: EdgeNode): EdgeDriver; close(): Promise<void> }> {
  const { connectBus } = await import('./edge/nats/edge-bus.js');
  const { NatsDriver } = await import('./edge/nats/nats-driver.js');
  const bus = await connectBus({ url: config.natsUrl!, prefix: config.natsPrefix, instanceId });
  return {
    driverFor: (node) => new NatsDriver(bus, node, { deadlineMs: config.taskDeadlineMs, scope }),
    close: () => bus.close(),
  };
}
