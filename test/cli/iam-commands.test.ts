// The identity commands end to end (users, groups, policies, projects, keys, domains project), on the
// store under test: the README's worked example — a CI key that may only refresh *.static.example.com and
// read the task history — then each command's --json answer and its refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { jsonLines, runCli, type Run } from './run-cli.js';
import { login } from '../support/iam-fixture.js';

let ts: TestServer;
let home: string;
let admin: Record<string, string>;

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '1' });
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-iam-cli-'));
  admin = { CACHECTL_AK: ts.server.bootstrap!.accessKey, CACHECTL_SK: ts.server.bootstrap!.secretKey };
});
after(async () => {
  await ts?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

/** The CLI with these keys (default: the admin's), against the test server, nothing of the machine's. */
const cli = (args: string[], env = admin): Promise<Run> => runCli([...args, '--api', ts.server.url], { env: { HOME: home, ...env }, cwd: home });
const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
const json = async (args: string[], env = admin) => {
  const r = await cli([...args, '--json'], env);
  ok(r, args.join(' '));
  return jsonLines(r.stdout)[0];
};

test('the worked example: a CI key that may only refresh *.static.example.com and read the history', async () => {
  for (const d of ['img.static.example.com', 'www.example.com']) ok(await cli(['domains', 'add', d, '--origin', '127.0.0.1:9']), `domains add ${d}`);
  ok(await cli(['groups', 'add', 'purgers', '--description', 'CI purges']), 'groups add');
  const user = await json(['users', 'add', 'ci', '--group', 'purgers']);
  assert.deepEqual([user.user.name, user.user.groups], ['ci', ['purgers']]);
  assert.equal(typeof user.password, 'string');

  const policyFile = path.join(home, 'static-purge.json');
  fs.writeFileSync(
    policyFile,
    JSON.stringify({
      Version: '1.1',
      Statement: [
        { Effect: 'Allow', Action: ['cdn:configuration:refreshCache'], Resource: ['CDN:*:*:domain:*.static.example.com'] },
        { Effect: 'Allow', Action: ['cdn:configuration:queryCacheHistoryTask', 'cdn:configuration:queryRefreshAndPreheatHistoryTask'] },
      ],
    }),
  );
  const policy = await json(['policies', 'add', 'static-purge', '--file', policyFile, '--description', 'purge static files']);
  assert.equal(policy.policy.type, 'custom');
  const attached = await json(['policies', 'attach', 'static-purge', '--group', 'purgers']);
  assert.deepEqual(attached.policies.map((p: any) => [p.policy, p.enterprise_project_id]), [['static-purge', '*']]);
  const key = await json(['keys', 'add', '--user', 'ci', '--description', 'pipeline']);
  assert.deepEqual([key.user, key.description], ['ci', 'pipeline']);
  const ci = { CACHECTL_AK: key.access_key, CACHECTL_SK: key.secret_key };

  const purged = await cli(['purge', 'http://img.static.example.com/app.js', '--json'], ci);
  ok(purged, 'purge of a static URL');
  assert.match(jsonLines(purged.stdout)[0].refresh_task, /^\d+$/);
  const history = await json(['tasks'], ci);
  assert.equal(history.total, 1, 'the history is readable');

  const refused = await cli(['purge', 'http://www.example.com/index.html'], ci);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error CDN\.0021: .*cdn:configuration:refreshCache on domain www\.example\.com/);
  const noDomains = await cli(['domains', 'list'], ci);
  assert.match(noDomains.stderr, /^error CDN\.0021: /);
  const noUsers = await cli(['users', 'list'], ci);
  assert.match(noUsers.stderr, /^error CDN\.0021: .*cachectl:users:list/);
  assert.equal((await json(['tasks'], ci)).total, 1, 'the refused purge created nothing');

  // The key is listed (never its secret), disabled (refused at once) and enabled again.
  const keys = await json(['keys', 'list', '--user', 'ci']);
  assert.deepEqual(keys.keys.map((k: any) => [k.access_key, k.user, k.enabled]), [[key.access_key, 'ci', true]]);
  const table = await cli(['keys', 'list', '--user', 'ci']);
  assert.match(table.stdout, /^ACCESS KEY\s+ACCOUNT\s+DESCRIPTION\s+CREATED\s+USER\s+ENABLED\s+LAST USED\s+EXPIRES$/m);
  assert.ok(!table.stdout.includes(key.secret_key));
  ok(await cli(['keys', 'disable', key.access_key]), 'keys disable');
  assert.match((await cli(['tasks'], ci)).stderr, /^error APIGW\.0301: /);
  ok(await cli(['keys', 'enable', key.access_key]), 'keys enable');
  ok(await cli(['tasks'], ci), 'tasks with the key enabled again');
  const dated = await json(['keys', 'set', key.access_key, '--expires', '2099-01-01']);
  assert.equal(dated.key.expires_at, Date.UTC(2099, 0, 1));
  assert.equal((await json(['keys', 'set', key.access_key, '--expires', 'never'])).key.expires_at, null);
  const second = await json(['keys', 'add', '--user', 'ci']);
  const third = await cli(['keys', 'add', '--user', 'ci']);
  assert.match(third.stderr, /^error CDN\.0001: user 'ci' has 2 access keys/);
  ok(await cli(['keys', 'rm', second.access_key]), 'keys rm');
});

test('users, groups, policies and projects: each command, its table and its --json answer', async () => {
  const made = await json(['users', 'add', 'ops', '--password', 'ops-password-1', '--description', 'operations']);
  assert.equal(made.password, undefined);
  ok(await cli(['groups', 'add', 'readers']), 'groups add');
  assert.deepEqual((await json(['groups', 'members', 'add', 'readers', 'ops'])).group.members, ['ops']);
  ok(await cli(['policies', 'attach', 'CDN ReadOnlyAccess', '--group', 'readers']), 'attach a system policy');
  const shown = await json(['groups', 'show', 'readers']);
  assert.deepEqual([shown.group.members, shown.policies.map((p: any) => p.policy)], [['ops'], ['CDN ReadOnlyAccess']]);
  const users = await cli(['users', 'list']);
  assert.match(users.stdout, /^NAME\s+ENABLED\s+GROUPS\s+DESCRIPTION\s+CREATED$/m);
  assert.match(users.stdout, /^ops\s+yes\s+readers\s+operations\s+\d{4}-/m);
  const fromStdin = await runCli(['users', 'set', 'ops', '--password', '-', '--api', ts.server.url], { env: { HOME: home, ...admin }, cwd: home, stdin: 'ops-password-2\n' });
  ok(fromStdin, 'users set --password -');
  assert.equal((await login(ts, ts.server.bootstrap!.account, 'ops', 'ops-password-2')).status, 201, 'the password read from stdin signs in');
  assert.equal((await json(['users', 'set', 'ops', '--disable'])).user.enabled, false);
  assert.equal((await json(['users', 'show', 'ops'])).user.enabled, false);
  const policies = await json(['policies', 'list']);
  assert.ok(policies.policies.some((p: any) => p.name === 'CDN RefreshAndPreheatAccess' && p.type === 'system'));
  const administrator = await cli(['policies', 'show', 'CDN Administrator']);
  assert.match(administrator.stdout, /"cdn:\*:\*"/);
  const broken = path.join(home, 'broken.json');
  fs.writeFileSync(broken, JSON.stringify({ Version: '1.1', Statement: [{ Effect: 'Permit', Action: ['*'] }] }));
  assert.match((await cli(['policies', 'add', 'broken', '--file', broken])).stderr, /^error CDN\.0001: policy: Statement\[0\]\.Effect must be "Allow" or "Deny"/);
  fs.writeFileSync(broken, '{ not json');
  const notJson = await cli(['policies', 'add', 'broken', '--file', broken]);
  assert.equal(notJson.code, 2, 'a file that is not JSON is a usage error');

  const project = await json(['projects', 'add', 'shop']);
  assert.match(project.project.id, /^[0-9a-f-]{36}$/);
  ok(await cli(['domains', 'add', 'shop.example.com', '--origin', '127.0.0.1:9']), 'domains add');
  const moved = await json(['domains', 'project', 'shop.example.com', 'shop']);
  assert.deepEqual(moved.domain, { domain_name: 'shop.example.com', enterprise_project_id: project.project.id, previous: '0' });
  ok(await cli(['policies', 'attach', 'CDN ReadOnlyAccess', '--group', 'readers', '--project', 'shop']), 'attach for one project');
  const busy = await cli(['projects', 'rm', 'shop']);
  assert.match(busy.stderr, /^error CDN\.0001: enterprise project 'shop' has 1 domain/);
  ok(await cli(['domains', 'project', 'shop.example.com', '0']), 'back to the default project');
  ok(await cli(['policies', 'detach', 'CDN ReadOnlyAccess', '--group', 'readers', '--project', 'shop']), 'detach for one project');
  ok(await cli(['projects', 'rm', 'shop']), 'projects rm');
  const projects = await cli(['projects', 'list']);
  assert.match(projects.stdout, /^0\s+default\s/m);
  assert.ok(!projects.stdout.includes('shop'));

  assert.match((await cli(['groups', 'rm', 'admin'])).stderr, /^error CDN\.0004: /);
  ok(await cli(['groups', 'members', 'rm', 'readers', 'ops']), 'groups members rm');
  ok(await cli(['groups', 'rm', 'readers']), 'groups rm');
  assert.deepEqual(await json(['users', 'rm', 'ops']), { deleted: 'ops', access_keys: [] });
  assert.equal((await cli(['users', 'show', 'ops'])).code, 1);
  assert.equal((await cli(['users', 'add'])).code, 2, 'a missing name is a usage error');
});
