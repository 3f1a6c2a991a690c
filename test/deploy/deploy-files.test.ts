// The files under deploy/ checked for what they must say, since neither Docker nor systemd runs in the
// tests: the image runs as a user of its own with a health check and no secret baked in; the compose file
// has its four services and takes passwords from the environment; each systemd unit is hardened and
// waits longer than cachectl's own shutdown timeout. (CI also runs systemd-analyze verify on the units.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OPTIONS } from '../../src/config.js';
import { DEFAULT_STOP_TIMEOUT_MS } from '../../src/cli/stop-signals.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const read = (file: string) => fs.readFileSync(path.join(root, 'deploy', file), 'utf8');
const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|_SK|_AK|PRIVATE)/i;

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

test('Dockerfile: multi-stage, slim LTS runtime, non-root user, health check on /healthz, only the runtime files', () => {
  const all = instructions(read('Dockerfile'));
  const froms = all.map((x, i) => ({ ...x, i })).filter((x) => x.op === 'FROM');
  assert.ok(froms.length >= 2, 'a build stage and a run stage');
  assert.match(froms[0].args, /^node:20[\w.-]* AS build$/);
  const run = all.slice(froms[froms.length - 1].i);
  assert.match(run[0].args, /^node:20[\w.-]*-slim$/, 'the runtime is the slim image');
  const users = run.filter((x) => x.op === 'USER').map((x) => x.args);
  assert.ok(users.length > 0 && !/^(root|0)(:|$)/.test(users[users.length - 1]), `runs as a user of its own: ${users}`);
  const health = run.find((x) => x.op === 'HEALTHCHECK');
  assert.ok(health && /\/healthz/.test(health.args), 'HEALTHCHECK on /healthz');
  const copies = run.filter((x) => x.op === 'COPY').map((x) => x.args.replace(/^--from=\S+\s+/, '').split(/\s+/)[0]);
  assert.deepEqual(copies.sort(), ['/src/dist/src', '/src/node_modules', '/src/package.json', 'engines']);
  for (const x of all.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
    for (const [name] of x.args.matchAll(/[A-Z_]+(?==)/g)) assert.doesNotMatch(name, SECRET_NAME, `no secret baked into the image: ${x.op} ${name}`);
  }
  assert.ok(all.some((x) => x.op === 'RUN' && /npm prune --omit=dev/.test(x.args)), 'production dependencies only');
});

test('compose.yaml: cachectl, PostgreSQL, NATS with JetStream and Varnish; passwords from the environment', () => {
  const text = read('compose.yaml');
  const services = text.slice(text.indexOf('\nservices:'), text.indexOf('\nvolumes:'));
  const names = [...services.matchAll(/^ {2}([\w-]+):$/gm)].map((m) => m[1]);
  assert.deepEqual(names, ['cachectl', 'postgres', 'nats', 'varnish']);
  assert.match(services, /--jetstream/);
  assert.match(services, /CACHECTL_DATABASE_URL: postgres:\/\/cachectl:\$\{POSTGRES_PASSWORD:\?/);
  assert.match(services, /CACHECTL_NATS_URL: nats:\/\/nats:4222/);
  assert.match(services, /dockerfile: deploy\/Dockerfile/);
  // Every value of a secret-named key is a reference to the environment, never a literal.
  for (const m of services.matchAll(/^\s+([A-Z_]+):\s*(.+)$/gm)) {
    if (SECRET_NAME.test(m[1])) assert.match(m[2], /^\$\{[A-Z_]+(:\?[^}]*)?\}$/, `${m[1]} comes from the environment`);
  }
  // The node is registered by the documented one-liner, with the secret from a file.
  assert.match(text, /cachectl nodes add varnish-1 --driver varnish[^\n]*\\\n#\s+--traffic [^\n]* --control 127\.0\.0\.1:6082 --secret-file \/run\/varnish\/secret/);
});

/** A unit's settings: key → values, in order (a key may repeat). */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1], [...(settings.get(m[1]) ?? []), m[2]]);
  }
  return settings;
}

for (const role of ['serve', 'agent', 'edge']) {
  test(`systemd: cachectl-${role}.service is hardened, restarts on failure and outlasts the shutdown timeout`, () => {
    const s = unitSettings(read(`systemd/cachectl-${role}.service`));
    const one = (key: string) => s.get(key)?.at(-1);
    assert.match(one('ExecStart') ?? '', new RegExp(`cachectl ${role}\\b`));
    assert.ok(one('DynamicUser') === 'yes' || (one('User') ?? 'root') !== 'root', 'not root');
    for (const [key, value] of Object.entries({ ProtectSystem: 'strict', NoNewPrivileges: 'yes', PrivateTmp: 'yes', ProtectHome: 'yes', CapabilityBoundingSet: '', Restart: 'on-failure' })) {
      assert.equal(one(key), value, `${key}=${value}`);
    }
    assert.match(one('RestrictAddressFamilies') ?? '', /^AF_INET AF_INET6 AF_UNIX$/);
    assert.ok(s.has('EnvironmentFile'), 'settings from an EnvironmentFile');
    assert.ok(Number(one('TimeoutStopSec')) * 1000 > DEFAULT_STOP_TIMEOUT_MS, 'systemd waits longer than cachectl does');
    assert.ok(!s.has('MemoryDenyWriteExecute'), "V8's JIT needs writable executable memory");
  });
}

test('systemd: the serve unit can write its data directory and nothing else', () => {
  const s = unitSettings(read('systemd/cachectl-serve.service'));
  const dataDir = s.get('Environment')?.find((e) => e.startsWith('CACHECTL_DATA_DIR='))?.split('=')[1];
  assert.equal(dataDir, '/var/lib/cachectl');
  assert.deepEqual(s.get('ReadWritePaths')?.join(' ').split(' '), [dataDir, '/var/lib/cachectl-keys']);
  assert.equal(OPTIONS.find((o) => o.flag === 'shutdown-timeout-ms')?.def, String(DEFAULT_STOP_TIMEOUT_MS), 'the units assume the default shutdown timeout');
});
