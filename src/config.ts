// Server configuration: every setting is a flag (--port) and an environment variable (CACHECTL_PORT);
// a flag wins. Everything is validated at start, with a message that names the setting.
import fs from 'node:fs';
import { BUS_TOKEN_RE } from './edge/nats/bus-wire.js';
import { DEFAULT_ORIGIN_ALLOW, OriginAllowList } from './edge/origin-allow.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from './logging/log-settings.js';

export type QuotaPreset = 'selfhosted' | 'cloud';

export interface QuotaLimits {
  file_refresh: number;
  dir_refresh: number;
  preheat: number;
  domain: number;
}

/** Requests per second per account; 0 = no limit. */
export interface RateLimits {
  create: number;
  query: number;
  urlTasks: number;
  quota: number;
}

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  sqliteSync: 'FULL' | 'NORMAL';
  builtinEdges: number;
  edgeHost: string;
  edgePort: number;
  edgeAdminPort: number;
  edgeMaxBytes: number;
  bootstrapAccount: string;
  bootstrapUser: string;
  bootstrapPassword?: string;
  bootstrapAk?: string;
  bootstrapSk?: string;
  /** Where the key that seals stored secret keys lives; unset: they are stored plain. */
  secretKeyFile?: string;
  maxUrlsPerRequest: number;
  maxDirsPerRequest: number;
  bodyLimit: number;
  bodyTimeoutMs: number;
  headerTimeoutMs: number;
  bodyBudget: number;
  /** The most of the body budget one source address (an IPv6 /64) may hold. */
  bodyBudgetPerAddress: number;
  /** The most of the body budget one access key (or one account's tokens) may hold. */
  bodyBudgetPerKey: number;
  quotas: QuotaLimits;
  rates: RateLimits;
  /** Password-login delays (POST /v3/auth/tokens). */
  login: { userFailures: number; addressFailures: number; baseDelayMs: number; maxDelayMs: number };
  taskDeadlineMs: number;
  /** How long a prefetch may take to fill one object on a node (a domain may set its own). */
  prefetchTimeoutMs: number;
  retryBaseMs: number;
  maxTrackedUrls: number;
  logLevel: string;
  logFormat: LogFormat;
  /** postgres://… for the scale-out store; unset: the embedded SQLite file in dataDir. */
  databaseUrl?: string;
  databasePoolSize: number;
  /** all: API and task engine; api: API only (workers elsewhere); worker: task engine only. */
  role: 'all' | 'api' | 'worker';
  leaseMs: number;
  claimPollMs: number;
  /** nats://… enables nodes with transport nats (commands through PoP agents). */
  natsUrl?: string;
  natsPrefix: string;
  /** Where tenants' origins may be: checked at domain create, when pinning for engines, and by the built-in edges on connect. */
  originAllow: OriginAllowList;
  /** Successful reads on the audit trail too (changes and failures always are). */
  auditReads: boolean;
  /** Days audit rows are kept; 0 = forever. */
  auditRetentionDays: number;
  /** Where GET /metrics is served without credentials; unset: nowhere. */
  metricsListen?: { host: string; port: number };
  historyRetentionDays: number;
  /** How long SIGTERM waits for requests in flight and pending outcomes before exiting 1. */
  shutdownTimeoutMs: number;
}

interface Option {
  key: keyof ServerConfig | string;
  flag: string;
  env: string;
  help: string;
  def?: string;
  /** A switch: `--flag` alone means true (the variable takes true/false, 1/0). */
  boolean?: true;
}

/** The settings, in --help order. `def` is the default as text. */
export const OPTIONS: Option[] = [
  { key: 'host', flag: 'host', env: 'CACHECTL_HOST', def: '127.0.0.1', help: 'API listen address' },
  { key: 'port', flag: 'port', env: 'CACHECTL_PORT', def: '8080', help: 'API listen port' },
  { key: 'dataDir', flag: 'data-dir', env: 'CACHECTL_DATA_DIR', def: './data', help: 'where the SQLite file and credentials.json live' },
  { key: 'sqliteSync', flag: 'sqlite-sync', env: 'CACHECTL_SQLITE_SYNC', def: 'FULL', help: 'FULL (fsync every commit) or NORMAL' },
  { key: 'builtinEdges', flag: 'builtin-edges', env: 'CACHECTL_BUILTIN_EDGES', def: '2', help: 'built-in edge nodes started in this process' },
  { key: 'edgeHost', flag: 'edge-host', env: 'CACHECTL_EDGE_HOST', def: '127.0.0.1', help: 'listen address of the built-in edges' },
  { key: 'edgePort', flag: 'edge-port', env: 'CACHECTL_EDGE_PORT', def: '8081', help: 'traffic port of the first built-in edge (then +1 each)' },
  { key: 'edgeAdminPort', flag: 'edge-admin-port', env: 'CACHECTL_EDGE_ADMIN_PORT', def: '9081', help: 'admin port of the first built-in edge (then +1 each)' },
  { key: 'edgeMaxBytes', flag: 'edge-max-bytes', env: 'CACHECTL_EDGE_MAX_BYTES', def: String(64 * 1024 * 1024), help: 'memory for cached objects per built-in edge' },
  { key: 'bootstrapAccount', flag: 'bootstrap-account', env: 'CACHECTL_BOOTSTRAP_ACCOUNT', def: 'admin', help: 'first account (created on first start)' },
  { key: 'bootstrapUser', flag: 'bootstrap-user', env: 'CACHECTL_BOOTSTRAP_USER', def: 'admin', help: 'its admin user' },
  { key: 'bootstrapPassword', flag: 'bootstrap-password', env: 'CACHECTL_BOOTSTRAP_PASSWORD', help: 'its password (generated when unset); prefer the variable or the -file form: flags show in ps' },
  { key: 'bootstrapPasswordFile', flag: 'bootstrap-password-file', env: 'CACHECTL_BOOTSTRAP_PASSWORD_FILE', help: 'a file holding its password' },
  { key: 'bootstrapAk', flag: 'bootstrap-ak', env: 'CACHECTL_BOOTSTRAP_AK', help: 'its access key (generated when unset)' },
  { key: 'bootstrapSk', flag: 'bootstrap-sk', env: 'CACHECTL_BOOTSTRAP_SK', help: 'its secret key (generated when unset); prefer the variable or the -file form' },
  { key: 'bootstrapSkFile', flag: 'bootstrap-sk-file', env: 'CACHECTL_BOOTSTRAP_SK_FILE', help: 'a file holding its secret key' },
  {
    key: 'secretKeyFile',
    flag: 'secret-key-file',
    env: 'CACHECTL_SECRET_KEY_FILE',
    help: 'seal stored secret keys (AES-256-GCM) under the key in this file, created when absent; keep it outside the data directory',
  },
  { key: 'maxUrlsPerRequest', flag: 'max-urls', env: 'CACHECTL_MAX_URLS', def: '1000', help: 'URLs per refresh/prefetch request' },
  { key: 'maxDirsPerRequest', flag: 'max-dirs', env: 'CACHECTL_MAX_DIRS', def: '100', help: 'directories per refresh request' },
  { key: 'bodyLimit', flag: 'body-limit', env: 'CACHECTL_BODY_LIMIT', def: String(8 * 1024 * 1024), help: 'largest request body in bytes' },
  { key: 'bodyTimeoutMs', flag: 'body-timeout-ms', env: 'CACHECTL_BODY_TIMEOUT_MS', def: '30000', help: 'time a client has to send a whole request, headers and body (408 after)' },
  { key: 'headerTimeoutMs', flag: 'header-timeout-ms', env: 'CACHECTL_HEADER_TIMEOUT_MS', def: '10000', help: 'time a client has to send the request headers (408 after)' },
  { key: 'bodyBudget', flag: 'body-budget', env: 'CACHECTL_BODY_BUDGET', def: String(64 * 1024 * 1024), help: 'request-body bytes held at once by the process; over it new bodies get 429' },
  {
    key: 'bodyBudgetPerAddress',
    flag: 'body-budget-per-address',
    env: 'CACHECTL_BODY_BUDGET_PER_ADDRESS',
    help: 'the most of --body-budget one client address (IPv6: its /64) may hold (default 1/8 of it, at least --body-limit; behind a reverse proxy all clients share its address)',
  },
  {
    key: 'bodyBudgetPerKey',
    flag: 'body-budget-per-key',
    env: 'CACHECTL_BODY_BUDGET_PER_KEY',
    help: 'the most of --body-budget one access key, or one account\'s tokens, may hold (default 1/4 of it, at least --body-limit)',
  },
  { key: 'quotaPreset', flag: 'quota-preset', env: 'CACHECTL_QUOTA_PRESET', def: 'selfhosted', help: 'default daily quotas: selfhosted or cloud (2000/100/1000/100)' },
  { key: 'quotaFileRefresh', flag: 'quota-file-refresh', env: 'CACHECTL_QUOTA_FILE_REFRESH', help: 'file refresh URLs per account per day' },
  { key: 'quotaDirRefresh', flag: 'quota-dir-refresh', env: 'CACHECTL_QUOTA_DIR_REFRESH', help: 'directory refreshes per account per day' },
  { key: 'quotaPreheat', flag: 'quota-preheat', env: 'CACHECTL_QUOTA_PREHEAT', help: 'prefetch URLs per account per day' },
  { key: 'quotaDomain', flag: 'quota-domain', env: 'CACHECTL_QUOTA_DOMAIN', help: 'domains per account' },
  { key: 'ratePreset', flag: 'rate-preset', env: 'CACHECTL_RATE_PRESET', def: 'off', help: 'per-account rate limits: off or cloud (30/30/5/5 per second)' },
  { key: 'rateCreate', flag: 'rate-create', env: 'CACHECTL_RATE_CREATE', help: 'create calls per second per account (0 = unlimited)' },
  { key: 'rateQuery', flag: 'rate-query', env: 'CACHECTL_RATE_QUERY', help: 'history and detail calls per second per account' },
  { key: 'rateUrlTasks', flag: 'rate-url-tasks', env: 'CACHECTL_RATE_URL_TASKS', help: 'url-tasks calls per second per account' },
  { key: 'rateQuota', flag: 'rate-quota', env: 'CACHECTL_RATE_QUOTA', help: 'quota calls per second per account' },
  { key: 'loginFailures', flag: 'login-failures', env: 'CACHECTL_LOGIN_FAILURES', def: '5', help: 'failed password logins of one user from one client address (IPv6: one /64) before each further attempt from there waits a doubling delay; ten times as many from all addresses not known for the user delay it there too, at most 1 min' },
  { key: 'loginAddressFailures', flag: 'login-address-failures', env: 'CACHECTL_LOGIN_ADDRESS_FAILURES', def: '50', help: 'the same for all logins from one client address (IPv6: one /64), whatever the user' },
  { key: 'loginDelayMs', flag: 'login-delay-ms', env: 'CACHECTL_LOGIN_DELAY_MS', def: '1000', help: 'the first such delay (then doubling)' },
  { key: 'loginMaxDelayMs', flag: 'login-max-delay-ms', env: 'CACHECTL_LOGIN_MAX_DELAY_MS', def: '900000', help: 'the longest delay (a delay, never a lock-out)' },
  { key: 'taskDeadlineMs', flag: 'task-deadline-ms', env: 'CACHECTL_TASK_DEADLINE_MS', def: '30000', help: 'how long a URL is retried on a failing node before it fails' },
  {
    key: 'prefetchTimeoutMs',
    flag: 'prefetch-timeout-ms',
    env: 'CACHECTL_PREFETCH_TIMEOUT_MS',
    def: '600000',
    help: 'how long a prefetch waits for a node to fill one object from its origin (slow or large objects); a prefetch URL fails after the longer of this and --task-deadline-ms; a domain may set its own',
  },
  { key: 'retryBaseMs', flag: 'retry-base-ms', env: 'CACHECTL_RETRY_BASE_MS', def: '50', help: 'first retry delay (doubles up to 2 s)' },
  { key: 'maxTrackedUrls', flag: 'max-tracked-urls', env: 'CACHECTL_MAX_TRACKED_URLS', def: '100000', help: 'URLs the engine holds in memory at once; the rest wait in the store' },
  { key: 'databaseUrl', flag: 'database-url', env: 'CACHECTL_DATABASE_URL', help: 'postgres://user@host:port/db: share one PostgreSQL between cachectl processes (default: SQLite in the data dir)' },
  { key: 'databasePoolSize', flag: 'database-pool', env: 'CACHECTL_DATABASE_POOL', def: '10', help: 'PostgreSQL connections per process' },
  { key: 'role', flag: 'role', env: 'CACHECTL_ROLE', def: 'all', help: 'all, api (answer the API, leave URLs to workers) or worker (work URLs, no API); api and worker need PostgreSQL' },
  { key: 'leaseMs', flag: 'lease-ms', env: 'CACHECTL_LEASE_MS', def: '15000', help: 'PostgreSQL: how long a process holds URLs without renewing; work of a dead process resumes after this' },
  { key: 'claimPollMs', flag: 'claim-poll-ms', env: 'CACHECTL_CLAIM_POLL_MS', def: '100', help: 'PostgreSQL: how often a worker looks for unclaimed work' },
  { key: 'natsUrl', flag: 'nats-url', env: 'CACHECTL_NATS_URL', help: 'nats://host:port of NATS JetStream: enables nodes with transport nats (driven by PoP agents)' },
  { key: 'natsPrefix', flag: 'nats-prefix', env: 'CACHECTL_NATS_PREFIX', def: 'cachectl', help: 'subject and stream prefix on NATS' },
  {
    key: 'originAllow',
    flag: 'origin-allow',
    env: 'CACHECTL_ORIGIN_ALLOW',
    def: DEFAULT_ORIGIN_ALLOW,
    help: 'where origins may be: comma-separated loopback, private, public, CIDRs, IP addresses, host names (*.example.com); link-local and cloud metadata never',
  },
  { key: 'auditReads', flag: 'audit-reads', env: 'CACHECTL_AUDIT_READS', boolean: true, help: 'record successful read calls on the audit trail too (changes, failures and logins always are)' },
  { key: 'auditRetentionDays', flag: 'audit-retention-days', env: 'CACHECTL_AUDIT_RETENTION_DAYS', def: '180', help: 'days audit rows are kept (pruned hourly); 0 = forever' },
  { key: 'metricsListen', flag: 'metrics-listen', env: 'CACHECTL_METRICS_LISTEN', help: 'host:port where GET /metrics (Prometheus), /healthz and /readyz are served without credentials, apart from the API (default: not served)' },
  { key: 'historyRetentionDays', flag: 'history-retention-days', env: 'CACHECTL_HISTORY_RETENTION_DAYS', def: '15', help: 'days finished tasks and their URLs are kept (pruned hourly); 0 = forever' },
  { key: 'shutdownTimeoutMs', flag: 'shutdown-timeout-ms', env: 'CACHECTL_SHUTDOWN_TIMEOUT_MS', def: '20000', help: 'on SIGTERM or SIGINT: how long to finish requests in flight and write pending outcomes before exiting 1 (a second signal exits at once)' },
  { key: 'logLevel', flag: 'log-level', env: 'CACHECTL_LOG_LEVEL', def: 'info', help: 'fatal, error, warn, info (a line per request and per task), debug, trace, silent' },
  { key: 'logFormat', flag: 'log-format', env: 'CACHECTL_LOG_FORMAT', def: 'json', help: 'json (one object a line, for a journal or a collector) or pretty (for a terminal)' },
];

/** Bounds of a prefetch timeout, the server's and a domain's own. */
export const PREFETCH_TIMEOUT_MIN_MS = 1000;
export const PREFETCH_TIMEOUT_MAX_MS = 24 * 3600_000;

export const QUOTA_PRESETS: Record<QuotaPreset, QuotaLimits> = {
  // A self-hosted operator purges its own caches: the limits only catch runaway scripts.
  selfhosted: { file_refresh: 1_000_000, dir_refresh: 10_000, preheat: 100_000, domain: 1000 },
  cloud: { file_refresh: 2000, dir_refresh: 100, preheat: 1000, domain: 100 },
};

export const RATE_PRESETS: Record<'off' | 'cloud', RateLimits> = {
  off: { create: 0, query: 0, urlTasks: 0, quota: 0 },
  cloud: { create: 30, query: 30, urlTasks: 5, quota: 5 },
};

export class ConfigError extends Error {}

/** Parses an --origin-allow value; `setting` names it in the error. */
export function originAllow(spec: string, setting = '--origin-allow'): OriginAllowList {
  try {
    return OriginAllowList.parse(spec);
  } catch (err) {
    throw new ConfigError(`${setting}: ${(err as Error).message}`);
  }
}

/** host:port ([v6]:port for IPv6), or undefined when unset. */
export function listenAddress(spec: string | undefined, setting: string): { host: string; port: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(spec);
  if (!m || Number(m[3]) > 65535) throw new ConfigError(`${setting} must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464 (got '${spec}')`);
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

/** The YAML type a setting takes in a settings file; 'any' reads it unchecked. */
export type SettingKind = 'number' | 'switch' | 'text' | 'any';

/** A settings file's values by flag name (src/cli/config-file.ts reads it). */
export interface SettingsFile {
  has(flag: string): boolean;
  /** How a message names the key, e.g. `cachectl.yaml: key 'port'`. */
  label(flag: string): string;
  /** The value as text, after checking its type (a ConfigError naming the key otherwise). */
  text(flag: string, kind: SettingKind): string | undefined;
}

type Flags = Record<string, string | undefined>;

const envValue = (env: NodeJS.ProcessEnv, name: string): string | undefined => (env[name] === '' ? undefined : env[name]);

/**
 * A setting's text by precedence: flag, then environment, then file, then default. An empty variable
 * counts as not set (`CACHECTL_PORT=` in a compose file or a unit is a variable left blank, not a
 * request to unset the port): the file or the default applies.
 */
export function settingText(flag: string, flags: Flags, env: NodeJS.ProcessEnv, file?: SettingsFile, kind?: SettingKind): string | undefined {
  const o = OPTIONS.find((x) => x.flag === flag)!;
  const v = flags[flag] ?? envValue(env, o.env) ?? file?.text(flag, kind ?? (o.boolean ? 'switch' : 'text')) ?? o.def;
  return v === undefined || v === '' ? (o.def === '' ? '' : undefined) : v;
}

/** Reads settings from parsed flags (by flag name), the environment and a settings file. */
export function loadServerConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env, file?: SettingsFile): ServerConfig {
  const raw = (flag: string, kind?: SettingKind) => settingText(flag, flags, env, file, kind);
  const name = (flag: string) => {
    const o = OPTIONS.find((x) => x.flag === flag)!;
    return file && flags[flag] === undefined && envValue(env, o.env) === undefined && file.has(flag) ? file.label(flag) : `--${flag} / ${o.env}`;
  };
  const int = (flag: string, min: number, max: number): number | undefined => {
    const v = raw(flag, 'number');
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`${name(flag)} must be an integer from ${min} to ${max} (got '${v}')`);
    return Number(v);
  };
  const need = <T>(v: T | undefined): T => v as T;
  // A secret given directly or in a file (one line; the final newline is not part of it).
  const secret = (flag: string): string | undefined => {
    const direct = raw(flag);
    const file = raw(`${flag}-file`);
    if (file === undefined) return direct;
    if (direct !== undefined) throw new ConfigError(`give ${name(flag)} or ${name(`${flag}-file`)}, not both`);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${name(`${flag}-file`)}: ${(err as Error).message}`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (value === '' || /[\r\n]/.test(value)) throw new ConfigError(`${name(`${flag}-file`)}: ${file} must hold the secret on one line`);
    return value;
  };
  const oneOf = <T extends string>(flag: string, values: readonly T[], fallback?: T): T => {
    const v = (raw(flag) ?? fallback) as T;
    if (!values.includes(v)) throw new ConfigError(`${name(flag)} must be one of ${values.join(', ')} (got '${v}')`);
    return v;
  };
  const preset = QUOTA_PRESETS[oneOf('quota-preset', ['selfhosted', 'cloud'] as const)];
  const ratePreset = RATE_PRESETS[oneOf('rate-preset', ['off', 'cloud'] as const)];
  const big = 1_000_000_000;
  const config: ServerConfig = {
    host: need(raw('host')),
    port: need(int('port', 0, 65535)),
    dataDir: need(raw('data-dir')),
    sqliteSync: oneOf('sqlite-sync', ['FULL', 'NORMAL'] as const),
    builtinEdges: need(int('builtin-edges', 0, 64)),
    edgeHost: need(raw('edge-host')),
    edgePort: need(int('edge-port', 0, 65535)),
    edgeAdminPort: need(int('edge-admin-port', 0, 65535)),
    edgeMaxBytes: need(int('edge-max-bytes', 1024 * 1024, 2 ** 40)),
    bootstrapAccount: need(raw('bootstrap-account')),
    bootstrapUser: need(raw('bootstrap-user')),
    bootstrapPassword: secret('bootstrap-password'),
    bootstrapAk: raw('bootstrap-ak'),
    bootstrapSk: secret('bootstrap-sk'),
    secretKeyFile: raw('secret-key-file'),
    maxUrlsPerRequest: need(int('max-urls', 1, 100_000)),
    maxDirsPerRequest: need(int('max-dirs', 1, 100_000)),
    bodyLimit: need(int('body-limit', 1024, 1024 * 1024 * 1024)),
    bodyTimeoutMs: need(int('body-timeout-ms', 100, 3600_000)),
    headerTimeoutMs: need(int('header-timeout-ms', 100, 3600_000)),
    bodyBudget: need(int('body-budget', 1024, 64 * 1024 * 1024 * 1024)),
    bodyBudgetPerAddress: int('body-budget-per-address', 1024, 64 * 1024 * 1024 * 1024) ?? 0,
    bodyBudgetPerKey: int('body-budget-per-key', 1024, 64 * 1024 * 1024 * 1024) ?? 0,
    quotas: {
      file_refresh: int('quota-file-refresh', 0, big) ?? preset.file_refresh,
      dir_refresh: int('quota-dir-refresh', 0, big) ?? preset.dir_refresh,
      preheat: int('quota-preheat', 0, big) ?? preset.preheat,
      domain: int('quota-domain', 0, big) ?? preset.domain,
    },
    rates: {
      create: int('rate-create', 0, big) ?? ratePreset.create,
      query: int('rate-query', 0, big) ?? ratePreset.query,
      urlTasks: int('rate-url-tasks', 0, big) ?? ratePreset.urlTasks,
      quota: int('rate-quota', 0, big) ?? ratePreset.quota,
    },
    login: {
      userFailures: need(int('login-failures', 1, 1_000_000)),
      addressFailures: need(int('login-address-failures', 1, 1_000_000)),
      baseDelayMs: need(int('login-delay-ms', 1, 3600_000)),
      maxDelayMs: need(int('login-max-delay-ms', 1, 24 * 3600_000)),
    },
    taskDeadlineMs: need(int('task-deadline-ms', 100, 7 * 24 * 3600_000)),
    prefetchTimeoutMs: need(int('prefetch-timeout-ms', PREFETCH_TIMEOUT_MIN_MS, PREFETCH_TIMEOUT_MAX_MS)),
    retryBaseMs: need(int('retry-base-ms', 1, 60_000)),
    maxTrackedUrls: need(int('max-tracked-urls', 10, 10_000_000)),
    logLevel: oneOf('log-level', LOG_LEVELS),
    logFormat: oneOf('log-format', LOG_FORMATS),
    databaseUrl: raw('database-url'),
    databasePoolSize: need(int('database-pool', 1, 1000)),
    role: oneOf('role', ['all', 'api', 'worker'] as const),
    leaseMs: need(int('lease-ms', 500, 3600_000)),
    claimPollMs: need(int('claim-poll-ms', 10, 60_000)),
    natsUrl: raw('nats-url'),
    natsPrefix: need(raw('nats-prefix')),
    originAllow: originAllow(need(raw('origin-allow')), name('origin-allow')),
    auditReads: oneOf('audit-reads', ['true', 'false', '1', '0'] as const, 'false') === 'true' || raw('audit-reads') === '1',
    auditRetentionDays: need(int('audit-retention-days', 0, 100_000)),
    metricsListen: listenAddress(raw('metrics-listen'), name('metrics-listen')),
    historyRetentionDays: need(int('history-retention-days', 0, 100_000)),
    shutdownTimeoutMs: need(int('shutdown-timeout-ms', 100, 3600_000)),
  };
  if (config.headerTimeoutMs > config.bodyTimeoutMs) throw new ConfigError(`${name('header-timeout-ms')} may not exceed ${name('body-timeout-ms')}: the second covers the headers too`);
  if (config.bodyBudget < config.bodyLimit) throw new ConfigError(`${name('body-budget')} must be at least ${name('body-limit')}, or no body of the largest size could be received`);
  // One client must not fill the budget alone; each share still takes one body of the largest size.
  const share = (given: number, flag: string, fraction: number): number => {
    if (given === 0) return Math.min(config.bodyBudget, Math.max(config.bodyLimit, Math.floor(config.bodyBudget * fraction)));
    if (given < config.bodyLimit || given > config.bodyBudget) throw new ConfigError(`${name(flag)} must be from ${name('body-limit')} to ${name('body-budget')} (got ${given})`);
    return given;
  };
  config.bodyBudgetPerAddress = share(config.bodyBudgetPerAddress, 'body-budget-per-address', 1 / 8);
  config.bodyBudgetPerKey = share(config.bodyBudgetPerKey, 'body-budget-per-key', 1 / 4);
  if (config.databaseUrl !== undefined && !/^postgres(ql)?:\/\/./.test(config.databaseUrl)) throw new ConfigError(`${name('database-url')} must be a postgres:// URL (got one starting '${config.databaseUrl.split(/[:/@]/)[0].slice(0, 20)}'; the rest is not shown: it may hold a password)`);
  if (config.role !== 'all' && config.databaseUrl === undefined) throw new ConfigError(`${name('role')} ${config.role} needs ${name('database-url')}: with the embedded SQLite one process does everything`);
  if (config.natsUrl !== undefined && !/^(nats|tls):\/\/./.test(config.natsUrl)) throw new ConfigError(`${name('nats-url')} must be a nats:// URL (got one starting '${config.natsUrl.split(/[:/@]/)[0].slice(0, 20)}'; the rest is not shown: it may hold a token)`);
  if (!BUS_TOKEN_RE.test(config.natsPrefix)) throw new ConfigError(`${name('nats-prefix')}: 1-32 letters, digits, '_' or '-'`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(config.bootstrapAccount)) throw new ConfigError(`${name('bootstrap-account')}: letters, digits, '_', '.', '-' only`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(config.bootstrapUser)) throw new ConfigError(`${name('bootstrap-user')}: letters, digits, '_', '.', '-' only`);
  if ((config.bootstrapAk === undefined) !== (config.bootstrapSk === undefined)) throw new ConfigError('set both CACHECTL_BOOTSTRAP_AK and CACHECTL_BOOTSTRAP_SK, or neither');
  return config;
}
