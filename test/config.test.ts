// Settings are validated at start, and every message names the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, QUOTA_PRESETS, loadServerConfig } from '../src/config.js';
import { maskSetting } from '../src/setting-secrets.js';

test('defaults, and a flag wins over the environment', () => {
  const c = loadServerConfig({ port: '9000' }, { CACHECTL_PORT: '7000', CACHECTL_HOST: '0.0.0.0' });
  assert.equal(c.port, 9000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.builtinEdges, 2);
  assert.deepEqual(c.quotas, QUOTA_PRESETS.selfhosted);
  assert.deepEqual(c.rates, { create: 0, query: 0, urlTasks: 0, quota: 0 });
  assert.equal(c.prefetchTimeoutMs, 600_000);
  assert.equal(loadServerConfig({}, { CACHECTL_PREFETCH_TIMEOUT_MS: '90000' }).prefetchTimeoutMs, 90_000);
});

test('an empty variable counts as not set: the default applies (a blank line in a compose file or a unit)', () => {
  const c = loadServerConfig({}, { CACHECTL_PORT: '', CACHECTL_HOST: '', CACHECTL_LOG_LEVEL: '', CACHECTL_HISTORY_RETENTION_DAYS: '', CACHECTL_METRICS_LISTEN: '' });
  assert.deepEqual({ port: c.port, host: c.host, logLevel: c.logLevel, history: c.historyRetentionDays, metrics: c.metricsListen }, { port: 8080, host: '127.0.0.1', logLevel: 'info', history: 15, metrics: undefined });
  assert.equal(loadServerConfig({ port: '9000' }, { CACHECTL_PORT: '' }).port, 9000);
});

test('a NATS URL is never echoed with its token or password', () => {
  for (const url of ['nats:/s3cr3t-token@nats:4222', 'http://user:s3cr3t-token@nats:4222']) {
    assert.throws(() => loadServerConfig({ 'nats-url': url }, {}), (err: Error) => err instanceof ConfigError && !err.message.includes('s3cr3t-token'));
  }
  assert.equal(maskSetting('nats-url', 'nats://s3cr3t-token@nats:4222'), 'nats://***@nats:4222');
  assert.equal(maskSetting('nats-url', 'nats://user:s3cr3t-token@nats:4222'), 'nats://user:***@nats:4222');
  assert.equal(maskSetting('database-url', 'postgres://cachectl@db/cachectl'), 'postgres://cachectl@db/cachectl', 'a user name alone is no secret');
});

test('presets and single overrides', () => {
  const c = loadServerConfig({ 'quota-preset': 'cloud', 'rate-preset': 'cloud', 'quota-preheat': '5' }, {});
  assert.deepEqual(c.quotas, { file_refresh: 2000, dir_refresh: 100, preheat: 5, domain: 100 });
  assert.deepEqual(c.rates, { create: 30, query: 30, urlTasks: 5, quota: 5 });
});

test('bad values are refused with a message naming the setting', () => {
  const bad: Array<[Record<string, string>, Record<string, string>, RegExp]> = [
    [{ port: 'http' }, {}, /--port \/ CACHECTL_PORT must be an integer/],
    [{}, { CACHECTL_PORT: '70000' }, /CACHECTL_PORT must be an integer from 0 to 65535/],
    [{ 'sqlite-sync': 'OFF' }, {}, /CACHECTL_SQLITE_SYNC must be one of FULL, NORMAL/],
    [{ 'quota-preset': 'free' }, {}, /CACHECTL_QUOTA_PRESET must be one of selfhosted, cloud/],
    [{ 'bootstrap-account': 'a b' }, {}, /CACHECTL_BOOTSTRAP_ACCOUNT/],
    [{ 'bootstrap-ak': 'AK' }, {}, /both CACHECTL_BOOTSTRAP_AK and CACHECTL_BOOTSTRAP_SK/],
    [{ 'task-deadline-ms': '5' }, {}, /CACHECTL_TASK_DEADLINE_MS must be an integer from 100/],
    [{ 'prefetch-timeout-ms': '999' }, {}, /--prefetch-timeout-ms \/ CACHECTL_PREFETCH_TIMEOUT_MS must be an integer from 1000 to 86400000/],
    [{ 'prefetch-timeout-ms': '86400001' }, {}, /CACHECTL_PREFETCH_TIMEOUT_MS/],
  ];
  for (const [flags, env, message] of bad) assert.throws(() => loadServerConfig(flags, env), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(flags) + JSON.stringify(env));
});

test('request timeouts and the body budget: defaults bound a slow client, and contradictions are refused', () => {
  const c = loadServerConfig({}, {});
  assert.deepEqual([c.bodyTimeoutMs, c.headerTimeoutMs, c.bodyBudget], [30_000, 10_000, 64 * 1024 * 1024]);
  assert.throws(() => loadServerConfig({ 'header-timeout-ms': '5000', 'body-timeout-ms': '1000' }, {}), (e: Error) => e instanceof ConfigError && /--header-timeout-ms/.test(e.message));
  assert.throws(() => loadServerConfig({ 'body-budget': '4096', 'body-limit': '8192' }, {}), (e: Error) => e instanceof ConfigError && /--body-budget/.test(e.message));
  // One address holds 1/8 of the budget and one key 1/4 by default, each at least one body of the largest size.
  assert.deepEqual([c.bodyBudgetPerAddress, c.bodyBudgetPerKey], [8 * 1024 * 1024, 16 * 1024 * 1024]);
  const small = loadServerConfig({ 'body-budget': String(10 * 1024 * 1024) }, {});
  assert.deepEqual([small.bodyBudgetPerAddress, small.bodyBudgetPerKey], [8 * 1024 * 1024, 8 * 1024 * 1024]);
  assert.equal(loadServerConfig({ 'body-budget-per-address': String(64 * 1024 * 1024) }, {}).bodyBudgetPerAddress, 64 * 1024 * 1024);
  assert.throws(() => loadServerConfig({ 'body-budget-per-address': '4096' }, {}), (e: Error) => e instanceof ConfigError && /--body-budget-per-address/.test(e.message));
  assert.throws(() => loadServerConfig({ 'body-budget-per-key': String(65 * 1024 * 1024) }, {}), (e: Error) => e instanceof ConfigError && /--body-budget-per-key/.test(e.message));
});

test('the audit settings: reads off and 180 days by default; the switch as a flag or a variable', () => {
  const c = loadServerConfig({}, {});
  assert.deepEqual([c.auditReads, c.auditRetentionDays], [false, 180]);
  assert.equal(loadServerConfig({ 'audit-reads': 'true' }, {}).auditReads, true);
  assert.equal(loadServerConfig({}, { CACHECTL_AUDIT_READS: '1' }).auditReads, true);
  assert.equal(loadServerConfig({}, { CACHECTL_AUDIT_READS: 'false' }).auditReads, false);
  assert.equal(loadServerConfig({ 'audit-retention-days': '0' }, {}).auditRetentionDays, 0);
  assert.throws(() => loadServerConfig({}, { CACHECTL_AUDIT_READS: 'yes' }), /CACHECTL_AUDIT_READS must be one of true, false, 1, 0/);
  assert.throws(() => loadServerConfig({ 'audit-retention-days': '-1' }, {}), /CACHECTL_AUDIT_RETENTION_DAYS must be an integer/);
});

test('the task history is kept 15 days by default (Huawei\'s detail window); 0 keeps it forever', () => {
  assert.equal(loadServerConfig({}, {}).historyRetentionDays, 15);
  assert.equal(loadServerConfig({ 'history-retention-days': '0' }, {}).historyRetentionDays, 0);
  assert.equal(loadServerConfig({}, { CACHECTL_HISTORY_RETENTION_DAYS: '30' }).historyRetentionDays, 30);
  assert.throws(() => loadServerConfig({ 'history-retention-days': '-1' }, {}), /CACHECTL_HISTORY_RETENTION_DAYS must be an integer/);
});

test('a malformed --database-url is refused without echoing it (it may hold a password)', () => {
  assert.throws(
    () => loadServerConfig({ 'database-url': 'mysql://cachectl:s3cret-Pw@127.0.0.1/db' }, {}),
    (e: Error) => e instanceof ConfigError && /--database-url/.test(e.message) && /'mysql'/.test(e.message) && !e.message.includes('s3cret-Pw'),
  );
});
