// The settings file (cachectl serve --config / CACHECTL_CONFIG) and --print-config, through the built
// CLI as a real process: the same settings by flags, by environment and by file print the same
// effective config; flag > environment > file > default; bad files are refused naming the key; secrets
// are masked; deploy/cachectl.example.yaml is the generated example and lists every setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { OPTIONS, loadServerConfig } from '../../src/config.js';
import { effectiveSettings } from '../../src/cli/print-config.js';
import { runCli } from './run-cli.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-config-file-'));

/** A settings file, 0600 (it may hold secrets); returns its path. */
function writeFile(name: string, text: string, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

async function printConfig(args: string[], env: Record<string, string> = {}): Promise<{ text: string; settings: Record<string, unknown> }> {
  const r = await runCli(['serve', ...args, '--print-config'], { env, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return { text: r.stdout, settings: parse(r.stdout) as Record<string, unknown> };
}

const SECRETS = { password: 'pw-Zq81-secret', sk: 'sk0123456789abcdefSECRET', dbPassword: 'db-Pw-77x' };

// One server's settings of each kind: numbers, text, a switch, a preset, secrets, a URL with a password.
const SETTINGS: Record<string, string | number | boolean> = {
  host: '0.0.0.0',
  port: 9000,
  'data-dir': path.join(dir, 'never-created'),
  'builtin-edges': 0,
  'rate-preset': 'cloud',
  'quota-preheat': 5,
  'audit-reads': true,
  'log-level': 'warn',
  'origin-allow': 'loopback,public',
  'metrics-listen': '127.0.0.1:9464',
  'history-retention-days': 30,
  'shutdown-timeout-ms': 5000,
  'bootstrap-password': SECRETS.password,
  'bootstrap-ak': 'AKCONFIGTEST',
  'bootstrap-sk': SECRETS.sk,
  'database-url': `postgres://cachectl:${SECRETS.dbPassword}@127.0.0.1:5432/cachectl`,
};
const envName = (flag: string) => OPTIONS.find((o) => o.flag === flag)!.env;
const asFlags = Object.entries(SETTINGS).flatMap(([k, v]) => (v === true ? [`--${k}`] : [`--${k}`, String(v)]));
const asEnv = Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [envName(k), String(v)]));
const asYaml = Object.entries(SETTINGS)
  .map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
  .join('\n');

test('the same settings by flags, by environment and by file print the same effective config, secrets masked, nothing started', async () => {
  const file = writeFile('same.yaml', asYaml);
  const byFlags = await printConfig(asFlags);
  const byEnv = await printConfig([], asEnv);
  const byFile = await printConfig(['--config', file]);
  const byFileEnv = await printConfig([], { CACHECTL_CONFIG: file });
  assert.equal(byEnv.text, byFlags.text);
  assert.equal(byFile.text, byFlags.text);
  assert.equal(byFileEnv.text, byFlags.text);
  const defaults = await printConfig([]);
  assert.notEqual(byFlags.text, defaults.text);
  const s = byFlags.settings;
  assert.deepEqual([s.host, s.port, s['audit-reads'], s['rate-create'], s['quota-preheat'], s['bootstrap-ak']], ['0.0.0.0', 9000, true, 30, 5, 'AKCONFIGTEST']);
  assert.deepEqual([s['metrics-listen'], s['history-retention-days'], s['shutdown-timeout-ms']], ['127.0.0.1:9464', 30, 5000]);
  assert.deepEqual([s['bootstrap-password'], s['bootstrap-sk'], s['database-url']], ['***', '***', 'postgres://cachectl:***@127.0.0.1:5432/cachectl']);
  for (const secret of Object.values(SECRETS)) assert.ok(!byFlags.text.includes(secret), `${secret} printed`);
  // Every setting is printed, under its flag name.
  assert.deepEqual(Object.keys(s), OPTIONS.map((o) => o.flag));
  assert.equal(fs.existsSync(SETTINGS['data-dir'] as string), false, '--print-config created the data directory');
});

test('a secret in a query string or a -file setting is masked too', async () => {
  const pwFile = writeFile('password.txt', `${SECRETS.password}\n`);
  const { text, settings } = await printConfig(['--bootstrap-password-file', pwFile, '--database-url', `postgres://h/db?user=u&password=${SECRETS.dbPassword}`]);
  assert.equal(settings['bootstrap-password'], '***');
  assert.equal(settings['bootstrap-password-file'], pwFile);
  assert.equal(settings['database-url'], 'postgres://h/db?user=u&password=***');
  for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret), `${secret} printed`);
});

test('flag > environment > file > default, and --config > CACHECTL_CONFIG', async () => {
  const file = writeFile('precedence.yaml', 'port: 9001\nlog-level: debug\nmax-urls: 50\n');
  const other = writeFile('other.yaml', 'port: 9004\n');
  const port = async (args: string[], env: Record<string, string> = {}) => (await printConfig(args, env)).settings.port;
  assert.equal(await port([]), 8080);
  assert.equal(await port(['--config', file]), 9001);
  assert.equal(await port(['--config', file], { CACHECTL_PORT: '9002' }), 9002);
  assert.equal(await port(['--config', file, '--port', '9003'], { CACHECTL_PORT: '9002' }), 9003);
  assert.equal(await port(['--config', file], { CACHECTL_CONFIG: other }), 9001);
  assert.equal(await port([], { CACHECTL_CONFIG: other }), 9004);
  // The others keys of the file still apply where nothing overrides them.
  const { settings } = await printConfig(['--config', file, '--port', '9003'], { CACHECTL_LOG_LEVEL: 'error' });
  assert.deepEqual([settings.port, settings['log-level'], settings['max-urls']], [9003, 'error', 50]);
});

test('a bad file is refused at start with a message naming the key, and nothing printed', async () => {
  const cases: Array<[string, string, RegExp, number?]> = [
    ['unknown.yaml', 'port: 9000\nprot: 9001\n', /unknown\.yaml: unknown key 'prot'; did you mean 'port'\?/],
    ['unknown2.yaml', 'listen-address: x\n', /unknown key 'listen-address'/],
    ['quoted-number.yaml', 'port: "9000"\n', /key 'port' must be a number \(no quotes\), not text '9000'/],
    ['number-for-text.yaml', 'bootstrap-account: 0123\n', /key 'bootstrap-account' must be text \(quote it/],
    ['switch.yaml', 'audit-reads: yes\n', /key 'audit-reads' must be true or false, not text 'yes'/],
    ['secret-number.yaml', 'bootstrap-password: 73918264\n', /key 'bootstrap-password' must be text \(quote it: '0123'\), not a number$/m],
    ['list.yaml', 'host: [a, b]\n', /key 'host' must be text, not a list/],
    ['range.yaml', 'port: 70000\n', /key 'port' must be an integer from 0 to 65535 \(got '70000'\)/],
    ['fraction.yaml', 'retry-base-ms: 1.5\n', /key 'retry-base-ms' must be an integer from 1 to 60000/],
    ['choice.yaml', 'sqlite-sync: OFF\n', /key 'sqlite-sync' must be one of FULL, NORMAL/],
    ['together.yaml', 'header-timeout-ms: 50000\n', /key 'header-timeout-ms' may not exceed --body-timeout-ms/],
    ['syntax.yaml', 'port: 9000\nport: 9001\n', /syntax\.yaml: not valid YAML: .*unique/],
    ['not-a-map.yaml', '- port\n', /not-a-map\.yaml: must be a mapping of settings/],
    ['open.yaml', `bootstrap-password: ${SECRETS.password}\n`, /key 'bootstrap-password' holds a secret, but any user may read .*open\.yaml \(mode 0644\)/, 0o644],
    ['open-url.yaml', `database-url: postgres://u:${SECRETS.dbPassword}@h/db\n`, /key 'database-url' holds a secret, but any user may read/, 0o644],
    ['mask.yaml', 'bootstrap-sk: "***"\nbootstrap-ak: AK\n', /key 'bootstrap-sk' holds the mask that --print-config prints/],
  ];
  for (const [name, text, message, mode] of cases) {
    const file = writeFile(name, text, mode);
    const r = await runCli(['serve', '--config', file, '--print-config'], { cwd: dir });
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, message, name);
    assert.equal(r.stdout, '', name);
    for (const secret of [SECRETS.password, SECRETS.dbPassword, '73918264']) assert.ok(!r.stderr.includes(secret), `${name}: a secret in the message`);
  }
  const missing = await runCli(['serve', '--print-config'], { cwd: dir, env: { CACHECTL_CONFIG: path.join(dir, 'absent.yaml') } });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /CACHECTL_CONFIG: ENOENT/);
});

test('deploy/cachectl.example.yaml is the generated example: every setting with its default; uncommented it changes nothing', async () => {
  const r = await runCli(['serve', '--config-example']);
  assert.equal(r.code, 0, r.stderr);
  const example = fs.readFileSync(path.join(ROOT, 'deploy/cachectl.example.yaml'), 'utf8');
  assert.equal(example, r.stdout, 'deploy/cachectl.example.yaml is stale: regenerate it with cachectl serve --config-example > deploy/cachectl.example.yaml');
  for (const o of OPTIONS) {
    assert.match(example, new RegExp(`^#${o.flag}:${o.def === undefined && !o.boolean ? '' : ' '}`, 'm'), `${o.flag} missing`);
    assert.ok(example.includes(`# --${o.flag}, ${o.env}: `), `${o.flag}: its meaning missing`);
  }
  const uncommented = writeFile('uncommented.yaml', example.replace(/^#([a-z0-9-]+:)/gm, '$1'));
  assert.equal(Object.keys(parse(fs.readFileSync(uncommented, 'utf8')) as object).length, OPTIONS.length);
  assert.equal((await printConfig(['--config', uncommented])).text, (await printConfig([])).text);
});

test('every setting prints as one value (a setting held in a group of ServerConfig needs a line in print-config.ts)', () => {
  const settings = effectiveSettings(loadServerConfig({}, {}), {}, {});
  for (const o of OPTIONS) assert.ok(settings[o.flag] === null || ['string', 'number', 'boolean'].includes(typeof settings[o.flag]), `${o.flag}: ${JSON.stringify(settings[o.flag])}`);
  assert.equal(settings['quota-file-refresh'], 1_000_000);
  assert.equal(settings['origin-allow'], 'public');
});
