// Single store: SQLite only (a copy of the SQLite file is read for secrets at rest).
// Secret keys sealed at rest under --secret-key-file (issue 11.6): a copy of the database holds no usable
// secret key, a store of an older version is sealed at start, and a server without the key refuses a
// sealed store instead of answering every signature with "unknown key".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { client } from '../support/signed-client.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-seal-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const dataDir = path.join(root, 'data');
const keyFile = path.join(root, 'keys', 'secret.key');

function start(flags: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(loadServerConfig({ 'data-dir': dataDir, port: '0', 'builtin-edges': '0', 'sqlite-sync': 'NORMAL', 'log-level': 'warn', ...flags }, {}));
}

/** Asserts that a start fails with `message` (a start that succeeds is closed again, so a failing test does not hang). */
async function refusesToStart(flags: Record<string, string>, message: RegExp): Promise<void> {
  let server: RunningServer;
  try {
    server = await start(flags);
  } catch (err) {
    assert.match((err as Error).message, message);
    return;
  }
  await server.close();
  assert.fail(`started, expected a refusal matching ${message}`);
}

function storedSecrets(): string[] {
  const db = new Database(path.join(dataDir, 'cachectl.db'), { readonly: true });
  try {
    return (db.prepare('select secret_key from access_keys order by created_at').all() as Array<{ secret_key: string }>).map((r) => r.secret_key);
  } finally {
    db.close();
  }
}

test('an older plain store is sealed at start, signatures still verify, and the file holds no secret', async () => {
  // First start without a key file: stored plain, as before.
  let server = await start();
  const { accessKey, secretKey } = server.bootstrap!;
  await server.close();
  assert.deepEqual(storedSecrets(), [secretKey]);

  server = await start({ 'secret-key-file': keyFile });
  try {
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
    const call = client(server.url, { accessKey, secretKey });
    assert.equal((await call('GET', '/v1.0/cdn/quota')).status, 200);
    // A key made now is sealed as it is stored.
    const made = await call('POST', '/cachectl/v1/keys', { body: { account: 'admin' } });
    assert.equal(made.status, 200, made.text);
    const second = client(server.url, { accessKey: made.json.access_key, secretKey: made.json.secret_key });
    assert.equal((await second('GET', '/v1.0/cdn/quota')).status, 200);
    const stored = storedSecrets();
    assert.equal(stored.length, 2);
    for (const value of stored) assert.match(value, /^sealed:v1:/);
    await server.close();
    const file = fs.readFileSync(path.join(dataDir, 'cachectl.db'));
    for (const secret of [secretKey, made.json.secret_key as string]) assert.equal(file.includes(secret), false, 'the database file holds a secret key in clear');
  } finally {
    await server.close().catch(() => undefined);
  }
});

test('without the key file, or with another key, a sealed store refuses to start', async () => {
  await refusesToStart({}, /sealed secret keys: start with --secret-key-file/);
  const other = path.join(root, 'other.key');
  fs.writeFileSync(other, 'ab'.repeat(32) + '\n', { mode: 0o600 });
  await refusesToStart({ 'secret-key-file': other }, /does not open with the --secret-key-file key/);
  // The right key still opens it.
  const server = await start({ 'secret-key-file': keyFile });
  await server.close();
});

test('a sealed value moved to another access key does not open', async () => {
  const db = new Database(path.join(dataDir, 'cachectl.db'));
  const rows = db.prepare('select access_key, secret_key from access_keys order by created_at').all() as Array<{ access_key: string; secret_key: string }>;
  db.prepare('update access_keys set secret_key = ? where access_key = ?').run(rows[0].secret_key, rows[1].access_key);
  db.close();
  await refusesToStart({ 'secret-key-file': keyFile }, new RegExp(`secret key of ${rows[1].access_key} does not open`));
});

test('a key file made in an existing folder leaves that folder as it was; a new folder is made 0700', async () => {
  const { SecretSealer } = await import('../../src/services/secret-sealer.js');
  const shared = path.join(root, 'shared-etc');
  fs.mkdirSync(shared, { mode: 0o755 });
  fs.chmodSync(shared, 0o755);
  const warnings: string[] = [];
  const a = SecretSealer.fromKeyFile(path.join(shared, 'cachectl.key'), (m) => warnings.push(m));
  assert.equal(fs.statSync(shared).mode & 0o777, 0o755, 'an existing folder (say /etc) must not be made 0700');
  assert.equal(fs.statSync(path.join(shared, 'cachectl.key')).mode & 0o777, 0o600);
  // A second start reads the key the first one made (and so opens what it sealed).
  const b = SecretSealer.fromKeyFile(path.join(shared, 'cachectl.key'), (m) => warnings.push(m));
  assert.equal(b.open('AK1', a.seal('AK1', 'the secret')), 'the secret');
  assert.equal(warnings.filter((w) => w.includes('created a new')).length, 1);
  const fresh = path.join(root, 'fresh', 'dir');
  SecretSealer.fromKeyFile(path.join(fresh, 'k'), () => undefined);
  assert.equal(fs.statSync(fresh).mode & 0o777, 0o700);
});
