// The client commands end to end: a real server in this process (SQLite, two built-in edges), a tiny
// origin, and the compiled CLI run as a child process against them. Plus the pure helpers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { formatTime, renderTable, displayWidth } from '../../src/cli/table.js';
import { ProgressBar, renderBar } from '../../src/cli/progress-bar.js';
import { parseTimeOption } from '../../src/cli/args.js';
import { parseOrigin } from '../../src/cli/commands/domain-lookup.js';
import { clientUsage } from '../../src/cli/commands/index.js';
import { loadClientCredentials, CredentialsError } from '../../src/cli/client-credentials.js';
import { jsonLines, runCli, type Run } from './run-cli.js';

let server: RunningServer;
let dataDir: string;
let emptyDir: string;
let origin: http.Server;
let originPort: number;
const originHits: string[] = [];
const host = 'www.cli.test';

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-cli-'));
  emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-cli-empty-'));
  server = await startServer(
    loadServerConfig(
      {
        'data-dir': dataDir,
        port: '0',
        'builtin-edges': '2',
        'edge-port': '0',
        'edge-admin-port': '0',
        'sqlite-sync': 'NORMAL',
        'log-level': 'warn',
        'origin-allow': 'loopback,public',
      },
      {},
    ),
  );
  origin = http.createServer((req, res) => {
    originHits.push(req.url ?? '');
    res.writeHead(200, { 'Cache-Control': 'max-age=3600', 'Last-Modified': new Date(Date.now() - 60_000).toUTCString() }).end(`body of ${req.url}`);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
});

after(async () => {
  await server?.close();
  await new Promise<void>((r) => {
    if (!origin) return r();
    origin.close(() => r());
    origin.closeAllConnections();
  });
  for (const d of [dataDir, emptyDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs the built CLI without any key in its environment (unless `env` gives one). */
function cli(args: string[], options: { env?: Record<string, string>; dataDir?: string; api?: string | null } = {}): Promise<Run> {
  const api = options.api === undefined ? server.url : options.api;
  return runCli([...args, '--data-dir', options.dataDir ?? dataDir, ...(api === null ? [] : ['--api', api])], { env: { HOME: emptyDir, ...options.env } });
}

const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
// ---------------------------------------------------------------------------------------------------
// Pure helpers

test('tables: aligned columns, numbers right-aligned, UTC times, no trailing spaces', () => {
  const text = renderTable(
    [{ header: 'ID' }, { header: 'N', align: 'right' }, { header: 'WHEN' }],
    [
      ['1', 5, formatTime(Date.UTC(2026, 10, 28, 15, 4, 5, 678))],
      ['12345', 123, undefined],
    ],
  );
  assert.equal(text, ['ID       N  WHEN', '1        5  2026-11-28 15:04:05Z', '12345  123  -'].join('\n'));
  assert.equal(displayWidth('刷新a'), 5);
  const wide = renderTable([{ header: 'URL' }, { header: 'S' }], [['http://x/刷新', 'ok'], ['http://x/ab', 'ok']]).split('\n');
  assert.equal(displayWidth(wide[1].slice(0, wide[1].indexOf('ok'))), displayWidth(wide[2].slice(0, wide[2].indexOf('ok'))));
  assert.equal(formatTime(undefined), '-');
});

test('origins, times and credentials are parsed as documented', () => {
  assert.deepEqual(parseOrigin('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseOrigin('origin.example.com'), { host: 'origin.example.com' });
  assert.deepEqual(parseOrigin('[::1]:81'), { host: '::1', port: 81 });
  assert.deepEqual(parseOrigin('::1'), { host: '::1' });
  assert.equal(parseOrigin('a:0'), undefined);
  assert.equal(parseOrigin('a:x'), undefined);
  assert.equal(parseTimeOption('1735689600000'), 1735689600000);
  assert.equal(parseTimeOption('2025-01-01'), Date.UTC(2025, 0, 1));
  assert.equal(parseTimeOption('2025-01-01 08:00:00Z'), Date.UTC(2025, 0, 1, 8));
  assert.equal(parseTimeOption('2025-01-01T08:00'), Date.UTC(2025, 0, 1, 8), 'no zone means UTC');
  assert.equal(parseTimeOption('2025-01-01T08:00:00+08:00'), Date.UTC(2025, 0, 1, 0));
  assert.equal(parseTimeOption('yesterday'), undefined);

  const env = { CACHECTL_AK: 'AK1', CACHECTL_SK: 'SK1', HUAWEICLOUD_SDK_AK: 'AK2', HUAWEICLOUD_SDK_SK: 'SK2', CACHECTL_API: 'http://h:1/' };
  assert.deepEqual(
    (({ api, accessKey, secretKey }) => ({ api, accessKey, secretKey }))(loadClientCredentials({ dataDir: emptyDir, env })),
    { api: 'http://h:1', accessKey: 'AK1', secretKey: 'SK1' },
  );
  assert.equal(loadClientCredentials({ dataDir: emptyDir, env: { HUAWEICLOUD_SDK_AK: 'AK2', HUAWEICLOUD_SDK_SK: 'SK2' } }).accessKey, 'AK2');
  assert.throws(() => loadClientCredentials({ dataDir: emptyDir, env: { CACHECTL_AK: 'AK1' } }), CredentialsError);
  assert.throws(() => loadClientCredentials({ dataDir: emptyDir, env: {} }), /no credentials/);
  const fromFile = loadClientCredentials({ dataDir, env: {} });
  assert.equal(fromFile.api, server.url);
  assert.equal(fromFile.accessKey, server.bootstrap!.accessKey);
  assert.match(clientUsage, /cachectl purge <url…>/);
  assert.match(clientUsage, /cachectl keys rm <access key>/);
});

test('progress: redrawn in place on a terminal, plain rate-limited lines otherwise', () => {
  assert.equal(renderBar(1, 4, 8), '[##......]');
  let clock = 0;
  const tty = { text: '', isTTY: true, columns: 100, write(s: string) { this.text += s; } };
  const bar = new ProgressBar(tty, { label: 'task 7', now: () => clock });
  bar.update({ total: 4, succeed: 1, failed: 0, processing: 3 });
  clock = 500;
  bar.finish({ total: 4, succeed: 3, failed: 1, processing: 0 });
  assert.match(tty.text, /^\rtask 7 \[#+\.+\]  25%  1\/4/);
  assert.match(tty.text, /\rtask 7 \[#+\] 100%  4\/4  succeed 3  failed 1  processing 0  0\.5s\x1b\[K\n$/);
  assert.ok(!tty.text.slice(0, -1).includes('\n'), 'one line, rewritten');

  clock = 0;
  const pipe = { text: '', write(s: string) { this.text += s; } };
  const plain = new ProgressBar(pipe, { label: 'task 8', now: () => clock, intervalMs: 1000 });
  plain.update({ total: 2, succeed: 0, failed: 0, processing: 2 });
  clock = 100;
  plain.update({ total: 2, succeed: 1, failed: 0, processing: 1 }); // too soon: skipped
  clock = 1200;
  plain.update({ total: 2, succeed: 1, failed: 0, processing: 1 });
  plain.finish({ total: 2, succeed: 2, failed: 0, processing: 0 });
  assert.deepEqual(pipe.text.trim().split('\n'), [
    'task 8: 0% 0/2  succeed 0  failed 0  processing 2  0.0s',
    'task 8: 50% 1/2  succeed 1  failed 0  processing 1  1.2s',
    'task 8: 100% 2/2  succeed 2  failed 0  processing 0  1.2s',
  ]);
  assert.ok(!pipe.text.includes('\r'));
});

// ---------------------------------------------------------------------------------------------------
// Against the server

test('domains add --wait, then list shows it online', async () => {
  const add = await cli(['domains', 'add', host, '--origin', `127.0.0.1:${originPort}`, '--standby', 'backup.example.net:8081', '--wait']);
  ok(add, 'domains add');
  assert.match(add.stdout, new RegExp(`${host.replace(/\./g, '\\.')}\\s+web\\s+online\\s+127\\.0\\.0\\.1:${originPort}, backup\\.example\\.net:8081 \\(standby\\)`));

  const [list, table] = await Promise.all([cli(['domains', 'list', '--json', '--name', host, '--exact']), cli(['domains', 'list'])]);
  ok(list, 'domains list');
  const [answer] = jsonLines(list.stdout);
  assert.equal(answer.total, 1);
  const d = answer.domains[0];
  assert.equal(d.domain_name, host);
  assert.equal(d.domain_status, 'online');
  assert.deepEqual(
    d.sources.map((s: any) => [s.ip_or_domain, s.origin_type, s.active_standby, s.http_port]),
    [
      ['127.0.0.1', 'ipaddr', 1, originPort],
      ['backup.example.net', 'domain', 0, 8081],
    ],
  );

  ok(table, 'domains list (table)');
  assert.match(table.stdout, /^ID\s+NAME\s+TYPE\s+STATUS\s+ORIGINS\s+CREATED/);
  // Each origin with the port it was given.
  assert.match(table.stdout, new RegExp(`www\\.cli\\.test\\s+web\\s+online\\s+127\\.0\\.0\\.1:${originPort}, backup\\.example\\.net:8081 \\(standby\\)\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z`));
});

let purgeId = '';

test('purge --wait prints the done task; tasks and task show it', async () => {
  const purge = await cli(['purge', `http://${host}/a.txt`, `http://${host}/b.txt`, '--wait']);
  ok(purge, 'purge --wait');
  const lines = purge.stdout.trim().split('\n');
  assert.match(lines[0], /^\d+$/, 'the task id first');
  purgeId = lines[0];
  assert.match(purge.stdout, new RegExp(`\\n${purgeId}\\s+refresh\\s+file\\s+task_done\\s+2\\s+2\\s+0\\s+0\\s`));

  const [tasks, none, table, detail, filtered] = await Promise.all([
    cli(['tasks', '--json', '--type', 'refresh', '--status', 'task_done']),
    cli(['tasks', '--json', '--type', 'preheating', '--until', '2000-01-01']),
    cli(['tasks', '--sort', 'total:asc', '--page-size', '5']),
    cli(['task', purgeId, '--json']),
    cli(['task', purgeId, '--json', '--url', `http://${host}/b.txt`]),
  ]);
  ok(tasks, 'tasks --json');
  const [list] = jsonLines(tasks.stdout);
  const t = list.tasks.find((x: any) => x.id === purgeId);
  assert.ok(t, `task ${purgeId} listed: ${tasks.stdout}`);
  assert.deepEqual([t.status, t.total, t.succeed, t.failed], ['task_done', 2, 2, 0]);

  ok(none, 'tasks --until');
  assert.equal(jsonLines(none.stdout)[0].total, 0, 'filters reach the server');

  ok(table, 'tasks (table)');
  assert.match(table.stdout, /^ID\s+TYPE\s+FILE TYPE\s+STATUS\s+TOTAL\s+SUCCEED\s+FAILED\s+PROCESSING\s+CREATED/);
  assert.match(table.stdout, /page 1 of 1, \d+ tasks?/);

  ok(detail, 'task --json');
  const [d] = jsonLines(detail.stdout);
  assert.equal(d.id, purgeId);
  assert.deepEqual(
    d.urls.map((u: any) => [u.url, u.status]).sort(),
    [
      [`http://${host}/a.txt`, 'succeed'],
      [`http://${host}/b.txt`, 'succeed'],
    ],
  );

  ok(filtered, 'task --url');
  assert.deepEqual(
    jsonLines(filtered.stdout)[0].urls.map((u: any) => u.url),
    [`http://${host}/b.txt`],
  );
});

test('task --watch without a terminal: plain progress lines, then the URL table', async () => {
  const purge = await cli(['purge', `http://${host}/dir/`, '--dir', '--changed-only', '--json']);
  ok(purge, 'purge --dir');
  const id = jsonLines(purge.stdout)[0].refresh_task;
  assert.match(id, /^\d+$/);
  const watch = await cli(['task', id, '--watch']);
  ok(watch, 'task --watch');
  assert.ok(!watch.stdout.includes('\r'), 'no in-place redraws on a pipe');
  assert.match(watch.stdout, new RegExp(`^task ${id}: 100% 1/1  succeed 1  failed 0  processing 0`, 'm'));
  assert.match(watch.stdout, /^status:\s+task_done$/m);
  assert.match(watch.stdout, /^URL\s+STATUS\s+FAIL CLASSIFY\s+FAIL DESC$/m);
  assert.match(watch.stdout, new RegExp(`^http://www\\.cli\\.test/dir/\\s+succeed\\s+-\\s+-$`, 'm'));

  const dirs = await cli(['tasks', '--json', '--file-type', 'directory']);
  ok(dirs, 'tasks --file-type');
  assert.deepEqual(
    jsonLines(dirs.stdout)[0].tasks.map((t: any) => t.id),
    [id],
  );
});

test('prefetch --wait fetches from the origin', async () => {
  const before = originHits.filter((u) => u === '/p.js').length;
  const res = await cli(['prefetch', `http://${host}/p.js`, '--wait', '--json']);
  ok(res, 'prefetch --wait');
  const [created, waited] = jsonLines(res.stdout);
  assert.match(created.preheating_task, /^\d+$/);
  assert.equal(waited.done, true);
  assert.equal(waited.task.id, created.preheating_task);
  assert.deepEqual([waited.task.task_type, waited.task.status, waited.task.succeed], ['preheating', 'task_done', 1]);
  assert.ok(originHits.filter((u) => u === '/p.js').length > before, 'the origin was asked');
});

test('accounts and keys (admin): add, list, rm; a plain account is refused', async () => {
  const add = await cli(['accounts', 'add', 'bob', '--user', 'bobby', '--json']);
  ok(add, 'accounts add');
  const [acct] = jsonLines(add.stdout);
  assert.equal(acct.account.name, 'bob');
  assert.equal(acct.user, 'bobby');
  assert.match(acct.access_key, /^[A-Z0-9]{20}$/);

  const [accounts, key] = await Promise.all([cli(['accounts', 'list']), cli(['keys', 'add', '--account', 'bob', '--description', 'ci key'])]);
  ok(accounts, 'accounts list');
  assert.match(accounts.stdout, /^ID\s+NAME\s+ADMIN/);
  assert.match(accounts.stdout, /\sadmin\s+yes\s/);
  assert.match(accounts.stdout, /\sbob\s+no\s/);

  ok(key, 'keys add');
  const ak = /^access key:\s+([A-Z0-9]{20})$/m.exec(key.stdout)?.[1];
  const sk = /^secret key:\s+(\S+)$/m.exec(key.stdout)?.[1];
  assert.ok(ak && sk, key.stdout);

  // bob's new key works for bob's own calls (from the environment), but not for admin commands.
  const bobEnv = { CACHECTL_AK: ak!, CACHECTL_SK: sk! };
  const [keys, keysTable, bobTasks, refused] = await Promise.all([
    cli(['keys', 'list', '--account', 'bob', '--json']),
    cli(['keys', 'list']),
    cli(['tasks', '--json'], { env: bobEnv, dataDir: emptyDir }),
    cli(['accounts', 'list'], { env: bobEnv, dataDir: emptyDir }),
  ]);
  ok(keys, 'keys list');
  assert.deepEqual(jsonLines(keys.stdout)[0].keys.map((k: any) => k.access_key).sort(), [acct.access_key, ak].sort());
  ok(keysTable, 'keys list (table)');
  assert.match(keysTable.stdout, new RegExp(`^${ak}\\s+bob\\s+ci key\\s+\\d{4}-`, 'm'));

  ok(bobTasks, 'tasks as bob');
  assert.equal(jsonLines(bobTasks.stdout)[0].total, 0, "bob sees none of the admin's tasks");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error CDN\.0004: /);

  const rm = await cli(['keys', 'rm', ak!]);
  ok(rm, 'keys rm');
  assert.match(rm.stdout, new RegExp(`deleted access key ${ak}`));
  const [after, gone] = await Promise.all([cli(['keys', 'list', '--account', 'bob', '--json']), cli(['tasks'], { env: bobEnv, dataDir: emptyDir })]);
  assert.deepEqual(jsonLines(after.stdout)[0].keys.map((k: any) => k.access_key), [acct.access_key]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error APIGW\.0301: /);
});

test('nodes (admin): add with a secret file and labels, list, check, rm; task --nodes shows each node', async () => {
  const { startBuiltinEdge } = await import('../../src/edge/builtin/edge-server.js');
  const { OriginAllowList } = await import('../../src/edge/origin-allow.js');
  const secret = 'cli-node-secret-'.padEnd(40, 'q');
  const edge = await startBuiltinEdge({ name: 'cli-x', host: '127.0.0.1', trafficPort: 0, adminPort: 0, secret, maxBytes: 1 << 20, originAllow: OriginAllowList.parse('loopback') });
  const secretFile = path.join(emptyDir, 'node-secret');
  fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  try {
    // Without the secret the edge refuses the control plane: the node is added, and down.
    const anonymous = await cli(['nodes', 'add', 'cli-anon', '--driver', 'builtin', '--traffic', edge.trafficUrl, '--control', edge.controlUrl]);
    ok(anonymous, 'nodes add without secret');
    assert.match(anonymous.stdout, /^cli-anon\s+builtin\s+DOWN\s.*401/m);
    ok(await cli(['nodes', 'rm', 'cli-anon']), 'nodes rm');
    const add = await cli(['nodes', 'add', 'cli-x', '--driver', 'builtin', '--traffic', edge.trafficUrl, '--control', edge.controlUrl, '--label', 'pop=fra1', '--label', 'tier=1', '--secret-file', secretFile]);
    ok(add, 'nodes add');
    assert.match(add.stdout, /added node cli-x$/m);
    const list = await cli(['nodes', 'list']);
    ok(list, 'nodes list');
    const listJson = await cli(['nodes', 'list', '--json']);
    ok(listJson, 'nodes list --json');
    for (const out of [add, list, listJson]) assert.ok(!out.stdout.includes(secret) && !out.stderr.includes(secret), 'the secret is never shown');
    assert.match(list.stdout, /^NAME\s+DRIVER\s+STATE/);
    assert.match(list.stdout, /^edge-1 \(built-in\)\s+builtin\s+up\s/m);
    assert.match(list.stdout, /^cli-x\s+builtin\s+up\s.*pop=fra1,tier=1/m);
    const bad = await cli(['nodes', 'add', 'x y', '--driver', 'builtin', '--traffic', edge.trafficUrl, '--control', edge.controlUrl]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error CDN\.0001: node name/);
    const usage = await cli(['nodes', 'add', 'y', '--driver', 'squid', '--traffic', 'http://a', '--control', 'http://b']);
    assert.equal(usage.code, 2);

    const purge = await cli(['purge', `http://${host}/n.txt`, '--wait']);
    ok(purge, 'purge');
    const id = purge.stdout.trim().split('\n')[0];
    const perNode = await cli(['task', String(id), '--nodes']);
    ok(perNode, 'task --nodes');
    assert.match(perNode.stdout, /^URL\s+STATUS\s+NODE\s+RESULT\s+MS\s+DETAIL \/ ERROR/);
    for (const name of ['edge-1', 'edge-2', 'cli-x']) assert.match(perNode.stdout, new RegExp(`\\s${name}\\s+ok\\s+\\d+\\s+purged`));

    await edge.close();
    const check = await cli(['nodes', 'check', 'cli-x']);
    assert.equal(check.code, 1, 'a down node exits 1');
    assert.match(check.stdout, /^cli-x\s+builtin\s+DOWN\s/m);
    const rm = await cli(['nodes', 'rm', 'cli-x']);
    ok(rm, 'nodes rm');
    assert.doesNotMatch((await cli(['nodes', 'list'])).stdout, /cli-x/);
  } finally {
    await edge.close().catch(() => undefined);
  }
});

test('domains disable and rm by name', async () => {
  const other = 'static.cli.test';
  const [added, unknown] = await Promise.all([
    cli(['domains', 'add', other, '--origin', `127.0.0.1:${originPort}`, '--type', 'download', '--wait']),
    cli(['domains', 'enable', 'nope.cli.test']),
  ]);
  ok(added, 'domains add');
  const busy = await cli(['domains', 'rm', other]);
  assert.equal(busy.code, 1, 'an online domain cannot be deleted');
  assert.match(busy.stderr, /^error CDN\.0126: /);
  const disable = await cli(['domains', 'disable', other]);
  ok(disable, 'domains disable');
  assert.match(disable.stdout, /static\.cli\.test\s+download\s+offline/);
  const rm = await cli(['domains', 'rm', other]);
  ok(rm, 'domains rm');
  assert.match(rm.stdout, /^deleted static\.cli\.test \([0-9a-f]+\)/);
  const list = await cli(['domains', 'list', '--json', '--name', other, '--exact']);
  assert.equal(jsonLines(list.stdout)[0].total, 0);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error CDN\.0105: /);
});

test('domains origin: replaces the origins by name, --wait until applied; a bad origin is the API error', async () => {
  const name = 'origin.cli.test';
  ok(await cli(['domains', 'add', name, '--origin', `127.0.0.1:${originPort}`, '--wait']), 'domains add');
  const changed = await cli(['domains', 'origin', name, '--origin', '127.0.0.1:8089', '--standby', 'backup.example.net', '--wait']);
  ok(changed, 'domains origin');
  assert.match(changed.stdout, /origin\.cli\.test\s+web\s+online\s+127\.0\.0\.1:8089, backup\.example\.net:80 \(standby\)/);
  const [answer] = jsonLines((await cli(['domains', 'list', '--json', '--name', name, '--exact'])).stdout);
  assert.deepEqual(answer.domains[0].sources.map((s: any) => [s.ip_or_domain, s.active_standby, s.http_port]), [['127.0.0.1', 1, 8089], ['backup.example.net', 0, 80]]);
  const itself = await cli(['domains', 'origin', name, '--origin', name]);
  assert.equal(itself.code, 1);
  assert.match(itself.stderr, /^error CDN\.0109: /);
  const usage = await cli(['domains', 'origin', name]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--origin is required/);
});

test('no credentials: a clear message and exit 2', async () => {
  const res = await cli(['tasks'], { dataDir: emptyDir, api: null });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /no credentials/);
  assert.match(res.stderr, /CACHECTL_AK/);
  assert.equal(res.stdout, '');
});

test('an API error: error CODE: message on stderr, exit 1', async () => {
  const [res, bad] = await Promise.all([cli(['purge', 'http://www.not-ours.example/x']), cli(['task', '999999999'])]);
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, /^error CDN\.0108: \S/);
  assert.equal(res.stdout, '');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error CDN\.\d{4}: /);
});

test('usage errors exit 2; --help exits 0', async () => {
  const cases = [['purge'], ['tasks', '--since', 'soon'], ['domains', 'frob'], ['domains', 'add', 'x.cli.test'], ['task', '1', '--bogus']];
  const [help, top, ...results] = await Promise.all([cli(['purge', '--help']), cli(['help'], { api: null }), ...cases.map((args) => cli(args))]);
  for (const [i, args] of cases.entries()) {
    const res = results[i];
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, /Usage:/, args.join(' '));
  }
  ok(help, 'purge --help');
  assert.match(help.stdout, /cachectl purge <url…>/);
  ok(top, 'help');
  assert.match(top.stdout, /cachectl domains add <name> --origin/);
});

test('edge --help and agent --help print their usage and exit 0', async () => {
  const [edge, agent, nats] = await Promise.all([runCli(['edge', '--help']), runCli(['agent', '--help']), runCli(['agent', '--nats', 'nats://127.0.0.1:1', '-h'])]);
  ok(edge, 'edge --help');
  assert.match(edge.stdout, /^Usage:\n  cachectl edge \[--name N\]/);
  assert.match(edge.stdout, /--origin-allow LIST/);
  assert.doesNotMatch(edge.stdout, /cachectl (serve|agent|purge)/, 'only the edge');
  for (const [res, what] of [[agent, 'agent --help'], [nats, 'agent --nats … -h']] as const) {
    ok(res, what);
    assert.match(res.stdout, /cachectl agent nginx\|ats --config <engine\.json>/, what);
    assert.match(res.stdout, /cachectl agent --nats <url> --pop <name> .*--metrics-listen H:P/, what);
    assert.doesNotMatch(res.stdout, /cachectl (serve|edge|cluster|purge)/, what);
  }
});

test('an unknown option of serve, edge or agent is a usage error: exit 2, one line naming it', async () => {
  for (const args of [['edge', '--bogus'], ['agent', 'nginx', '--bogus'], ['serve', '--bogus']]) {
    const res = await runCli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, /^cachectl: Unknown option '--bogus'/, args.join(' '));
  }
});
