// What operators expect of a CLI, each against the built CLI: --version, a one-line answer to a
// mistyped command, URL lists from a file or stdin split at the API's limit, and the rest below.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { jsonLines, runCli, type CliOptions, type Run } from './run-cli.js';
import { freshDatabase } from '../support/postgres.js';
import { startTestServer } from '../support/test-server.js';

let server: RunningServer;
let dataDir: string;
let home: string;
let origin: http.Server;
const host = 'www.habits.test';

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-habits-'));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-habits-home-'));
  server = await startServer(
    loadServerConfig({ 'data-dir': dataDir, port: '0', 'builtin-edges': '1', 'edge-port': '0', 'edge-admin-port': '0', 'sqlite-sync': 'NORMAL', 'log-level': 'warn', 'origin-allow': 'loopback,public' }, {}),
  );
  // A URL under /missing/ is refused by the origin: prefetching it fails.
  origin = http.createServer((req, res) => {
    if (req.url?.startsWith('/missing/')) res.writeHead(404).end();
    else res.writeHead(200, { 'Cache-Control': 'max-age=3600' }).end(`body of ${req.url}`);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const add = await cli(['domains', 'add', host, '--origin', `127.0.0.1:${(origin.address() as AddressInfo).port}`, '--wait']);
  ok(add, 'domains add');
});

after(async () => {
  await server?.close();
  await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
  origin?.closeAllConnections();
  for (const d of [dataDir, home]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** The CLI against the test's server, keys from its data directory (unless `bare`). */
function cli(args: string[], options: CliOptions & { bare?: boolean } = {}): Promise<Run> {
  const where = options.bare ? [] : ['--data-dir', dataDir, '--api', server.url!];
  return runCli([...args, ...where], { ...options, env: { HOME: home, XDG_CONFIG_HOME: path.join(home, 'xdg'), ...options.env } });
}

const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

test('--version prints the package version', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../package.json'), 'utf8'));
  const res = await cli(['--version'], { bare: true });
  ok(res, '--version');
  assert.equal(res.stdout, `cachectl ${pkg.version}\n`);
});

test('an unknown command: one line naming it and the nearest command, exit 2', async () => {
  const [typo, far] = await Promise.all([cli(['purg', 'http://x/'], { bare: true }), cli(['xyzzy'], { bare: true })]);
  assert.equal(typo.code, 2);
  assert.equal(typo.stdout, '');
  assert.equal(typo.stderr.trim().split('\n').length, 1, typo.stderr);
  assert.match(typo.stderr, /unknown command 'purg'; did you mean 'purge'\?/);
  assert.equal(far.code, 2);
  assert.equal(far.stderr.trim().split('\n').length, 1, far.stderr);
  assert.match(far.stderr, /unknown command 'xyzzy'/);
  assert.doesNotMatch(far.stderr, /did you mean/);
  const sub = await cli(['domains', 'shwo', 'x.test'], { bare: true });
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /^cachectl domains: unknown sub-command 'shwo'; did you mean 'show'\?/);
});

test('purge --from-file: over the 1,000 limit becomes several tasks, waited for as one progress', async () => {
  const file = path.join(home, 'urls.txt');
  const urls = Array.from({ length: 2001 }, (_, i) => `http://${host}/f/${i}.txt`);
  fs.writeFileSync(file, `# to purge\n${urls.slice(1).join('\n')}\n\n`);
  const res = await cli(['purge', urls[0], '--from-file', file, '--wait']);
  ok(res, 'purge --from-file --wait');
  const ids = res.stdout.split('\n').filter((l) => /^\d+$/.test(l));
  assert.equal(ids.length, 3, res.stdout);
  // One progress for the three tasks, ending at all 2001 URLs.
  const progress = res.stdout.split('\n').filter((l) => l.startsWith('3 tasks: '));
  assert.ok(progress.length >= 1, res.stdout);
  assert.match(progress[progress.length - 1], /^3 tasks: 100% 2001\/2001  succeed 2001  failed 0  processing 0/);

  const listed = await cli(['tasks', '--json', '--page-size', '10']);
  const tasks = jsonLines(listed.stdout)[0].tasks.filter((t: any) => ids.includes(t.id));
  assert.deepEqual(tasks.map((t: any) => t.total).sort((a: number, b: number) => a - b), [1, 1000, 1000]);
});

test('prefetch --from-file - reads stdin; a failed URL among several tasks exits 1 and is named', async () => {
  const stdin = [`http://${host}/s/1.js`, `http://${host}/missing/2.js`, `http://${host}/s/3.js`].join('\n');
  const res = await cli(['prefetch', '--from-file', '-', '--batch', '2', '--wait', '--json'], { stdin });
  assert.equal(res.code, 1, res.stderr);
  const lines = jsonLines(res.stdout);
  const created = lines.filter((l) => 'preheating_task' in l);
  assert.equal(created.length, 2, 'two tasks of at most 2 URLs');
  const waited = lines.filter((l) => 'done' in l);
  assert.deepEqual(waited.map((w) => w.task.total), [2, 1]);
  const failed = lines.filter((l) => Array.isArray(l.urls));
  assert.deepEqual(failed.flatMap((d) => d.urls.map((u: any) => u.url)), [`http://${host}/missing/2.js`]);
  assert.match(res.stderr, /cachectl prefetch: 1 of 3 URLs failed/);
});

test('quota, url-tasks and domains show', async () => {
  const purge = await cli(['purge', `http://${host}/q/a.css`, `http://${host}/q/b.css`, '--wait']);
  ok(purge, 'purge');
  const id = purge.stdout.split('\n')[0];
  const [quota, quotaJson, urlTasks, urlTasksJson, show, showJson] = await Promise.all([
    cli(['quota']),
    cli(['quota', '--json']),
    cli(['url-tasks', '--url', `http://${host}/q/b.css`]),
    cli(['url-tasks', '--json', '--type', 'refresh', '--limit', '100']),
    cli(['domains', 'show', host]),
    cli(['domains', 'show', host, '--json']),
  ]);
  for (const [r, what] of [[quota, 'quota'], [quotaJson, 'quota --json'], [urlTasks, 'url-tasks'], [urlTasksJson, 'url-tasks --json'], [show, 'domains show'], [showJson, 'domains show --json']] as const) ok(r, what);

  const quotas = jsonLines(quotaJson.stdout)[0].quotas;
  const used = quotas.find((q: any) => q.type === 'file_refresh')?.used;
  assert.ok(used >= 2, quotaJson.stdout);
  assert.match(quota.stdout, /^TYPE\s+LIMIT\s+USED\s+LEFT$/m);
  assert.match(quota.stdout, new RegExp(`^file_refresh\\s+\\d+\\s+${used}\\s+\\d+$`, 'm'));

  assert.match(urlTasks.stdout, /^TASK\s+URL\s+TYPE\s+FILE TYPE\s+MODE\s+STATUS\s+CREATED\s+MODIFIED$/m);
  assert.match(urlTasks.stdout, new RegExp(`^${id}\\s+http://www\\.habits\\.test/q/b\\.css\\s+REFRESH\\s+file\\s+all\\s+succeed\\s`, 'm'));
  assert.doesNotMatch(urlTasks.stdout, /q\/a\.css/);
  const records = jsonLines(urlTasksJson.stdout)[0].result;
  assert.deepEqual(records.filter((r: any) => String(r.task_id) === id).map((r: any) => r.url).sort(), [`http://${host}/q/a.css`, `http://${host}/q/b.css`]);

  assert.match(show.stdout, /^domain:\s+www\.habits\.test$/m);
  assert.match(show.stdout, /^status:\s+online$/m);
  assert.match(show.stdout, /^origins:\s+127\.0\.0\.1:\d+$/m);
  assert.equal(jsonLines(showJson.stdout)[0].domain.domain_name, host);
});

test('task --watch exits 1 when URLs failed, 0 when none did', async () => {
  const bad = await cli(['prefetch', `http://${host}/missing/w.js`, `http://${host}/s/w.js`, '--json']);
  ok(bad, 'prefetch');
  const good = await cli(['prefetch', `http://${host}/s/w2.js`, '--json']);
  ok(good, 'prefetch');
  const [failed, fine] = await Promise.all([cli(['task', jsonLines(bad.stdout)[0].preheating_task, '--watch']), cli(['task', jsonLines(good.stdout)[0].preheating_task, '--watch'])]);
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /missing\/w\.js\s+failed\s/);
  assert.match(failed.stderr, /cachectl task: 1 of 2 URLs failed/);
  ok(fine, 'task --watch (all succeed)');
});

test('with --json, errors are one JSON line on stderr too', async () => {
  const [api, usage, keys, network, unknown] = await Promise.all([
    cli(['task', '999999999', '--json']),
    cli(['tasks', '--json', '--since', 'soon']),
    cli(['tasks', '--json', '--data-dir', home], { bare: true }),
    cli(['quota', '--json', '--data-dir', dataDir, '--api', 'http://127.0.0.1:1'], { bare: true }),
    cli(['qouta', '--json'], { bare: true }),
  ]);
  const errorOf = (r: Run) => {
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    return JSON.parse(lines[0]);
  };
  assert.equal(api.code, 1);
  const e = errorOf(api);
  assert.match(e.error_code, /^CDN\.\d{4}$/);
  assert.equal(typeof e.error_msg, 'string');
  assert.ok(e.status >= 400 && e.status < 500, String(e.status));
  assert.equal(usage.code, 2);
  assert.equal(errorOf(usage).error_code, 'CLI.USAGE');
  assert.match(errorOf(usage).error_msg, /--since/);
  assert.equal(keys.code, 2);
  assert.equal(errorOf(keys).error_code, 'CLI.CREDENTIALS');
  assert.equal(network.code, 1);
  assert.equal(errorOf(network).error_code, 'CLI.TRANSPORT');
  assert.equal(unknown.code, 2);
  assert.deepEqual(errorOf(unknown), { error_code: 'CLI.USAGE', error_msg: "unknown command 'qouta'; did you mean 'quota'? (cachectl help lists the commands)" });
});

test('profiles: saved 0600 under XDG_CONFIG_HOME, used with --profile and, outside a server directory, as default', async () => {
  const xdgFile = path.join(home, 'xdg', 'cachectl', 'config');
  const set = await cli(['profiles', 'set', 'work']);
  ok(set, 'profiles set work');
  assert.equal(fs.statSync(xdgFile).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(xdgFile)).mode & 0o777, 0o700);
  const text = fs.readFileSync(xdgFile, 'utf8');
  assert.match(text, /^\[work\]$/m);
  assert.match(text, new RegExp(`^api = ${server.url!.replace(/[.]/g, '\\.')}$`, 'm'));
  assert.match(text, new RegExp(`^access_key = ${server.bootstrap!.accessKey}$`, 'm'));

  // Elsewhere (a directory without data/credentials.json), by name only.
  const elsewhere = { bare: true, cwd: home };
  const [byName, noDefault, missing, listed] = await Promise.all([
    cli(['tasks', '--json', '--profile', 'work'], elsewhere),
    cli(['tasks'], elsewhere),
    cli(['tasks', '--profile', 'nope'], elsewhere),
    cli(['profiles', 'list'], elsewhere),
  ]);
  ok(byName, 'tasks --profile work');
  assert.equal(typeof jsonLines(byName.stdout)[0].total, 'number');
  assert.equal(noDefault.code, 2, 'no default profile yet');
  assert.match(noDefault.stderr, /no credentials/);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no profile 'nope'/);
  ok(listed, 'profiles list');
  assert.match(listed.stdout, new RegExp(`^work\\s+${server.url!.replace(/[.]/g, '\\.')}\\s+${server.bootstrap!.accessKey}$`, 'm'));
  assert.ok(!listed.stdout.includes(server.bootstrap!.secretKey), 'the secret key is never listed');

  // A default profile from an access key and the secret on stdin; ~/.config without XDG_CONFIG_HOME.
  const homeFile = path.join(home, '.config', 'cachectl', 'config');
  const noXdg = { ...elsewhere, env: { XDG_CONFIG_HOME: '' } };
  const setDefault = await cli(['profiles', 'set', 'default', '--api', server.url!, '--access-key', server.bootstrap!.accessKey], { ...noXdg, stdin: `${server.bootstrap!.secretKey}\n` });
  ok(setDefault, 'profiles set default');
  assert.equal(fs.statSync(homeFile).mode & 0o777, 0o600);
  const quota = await cli(['quota', '--json'], noXdg);
  ok(quota, 'quota with the default profile');
  assert.ok(Array.isArray(jsonLines(quota.stdout)[0].quotas));

  const rm = await cli(['profiles', 'rm', 'default'], noXdg);
  ok(rm, 'profiles rm');
  assert.equal((await cli(['quota'], noXdg)).code, 2, 'gone');
});

test('completion: bash completes commands, sub-commands, options and profile names; zsh runs the same function', async () => {
  const [bash, zsh, bad] = await Promise.all([cli(['completion', 'bash'], { bare: true }), cli(['completion', 'zsh'], { bare: true }), cli(['completion', 'fish'], { bare: true })]);
  ok(bash, 'completion bash');
  ok(zsh, 'completion zsh');
  assert.equal(bad.code, 2);
  const script = path.join(home, 'cachectl.bash');
  fs.writeFileSync(script, bash.stdout);
  const xdg = path.join(home, 'completion-xdg');
  fs.mkdirSync(path.join(xdg, 'cachectl'), { recursive: true });
  fs.writeFileSync(path.join(xdg, 'cachectl', 'config'), '[prod]\napi = http://a\n[staging]\napi = http://b\n');
  /** What bash offers for the words typed so far (the last one is being completed). */
  const complete = (...typed: string[]): string[] => {
    const words = ['cachectl', ...typed].map((w) => `'${w}'`).join(' ');
    const out = execFileSync('bash', ['-c', `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _cachectl; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      env: { PATH: process.env.PATH, XDG_CONFIG_HOME: xdg },
      encoding: 'utf8',
    });
    return out.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(complete('dom'), ['domains']);
  assert.deepEqual(complete('ta'), ['task', 'tasks']);
  assert.deepEqual(complete('domains', 's'), ['show']);
  assert.deepEqual(complete('purge', '--fr'), ['--from-file']);
  assert.ok(complete('task', '--').includes('--watch'));
  assert.ok(complete('task', '--').includes('--profile'), 'the client options too');
  assert.deepEqual(complete('tasks', '--profile', ''), ['prod', 'staging']);
  assert.deepEqual(complete('completion', ''), ['bash', 'zsh']);

  // zsh: a #compdef file that loads bashcompinit and defines the very same function.
  assert.match(zsh.stdout, /^#compdef cachectl\n/);
  assert.match(zsh.stdout, /^autoload -U \+X bashcompinit && bashcompinit$/m);
  const fn = (text: string) => text.slice(text.indexOf('_cachectl() {'), text.indexOf('\n}\n') + 2);
  assert.equal(fn(zsh.stdout), fn(bash.stdout));
  assert.match(zsh.stdout, /^complete -o default -F _cachectl cachectl$/m);
});

test('accounts rm: the account and its keys go; the admin account, one with domains, and unknown ones are refused', async () => {
  const add = await cli(['accounts', 'add', 'carol', '--json']);
  ok(add, 'accounts add');
  const carol = jsonLines(add.stdout)[0];
  const carolEnv = { env: { CACHECTL_AK: carol.access_key, CACHECTL_SK: carol.secret_key }, bare: true, cwd: home };
  ok(await cli(['quota', '--api', server.url!], carolEnv), "carol's key works");
  const domain = await cli(['domains', 'add', 'carol.habits.test', '--origin', '127.0.0.1:9', '--api', server.url!], carolEnv);
  ok(domain, 'domains add as carol');

  const [busy, admin, unknown] = await Promise.all([cli(['accounts', 'rm', 'carol']), cli(['accounts', 'rm', 'admin']), cli(['accounts', 'rm', 'nobody'])]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /^error CDN\.0001: account 'carol' has 1 domain: delete them first/);
  assert.equal(admin.code, 1);
  assert.match(admin.stderr, /is the admin account/);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error CDN\.0003: no account 'nobody'/);

  for (const step of ['disable', 'rm']) ok(await cli(['domains', step, 'carol.habits.test', '--api', server.url!], carolEnv), `domains ${step}`);
  const rm = await cli(['accounts', 'rm', 'carol']);
  ok(rm, 'accounts rm');
  assert.equal(rm.stdout, 'deleted account carol and its 1 access key\n');
  const [list, refused] = await Promise.all([cli(['accounts', 'list', '--json']), cli(['quota', '--api', server.url!], carolEnv)]);
  assert.deepEqual(jsonLines(list.stdout)[0].accounts.map((a: any) => a.name).filter((n: string) => n === 'carol'), []);
  assert.equal(refused.code, 1, "carol's key is gone");
  assert.match(refused.stderr, /^error APIGW\.0301: /);
});

test('accounts rm on PostgreSQL: refused while the account has a domain, then done', async () => {
  const db = await freshDatabase();
  const pg = await startTestServer({ 'database-url': db.url, 'builtin-edges': '1' });
  try {
    const admin = { env: { CACHECTL_AK: pg.server.bootstrap!.accessKey, CACHECTL_SK: pg.server.bootstrap!.secretKey }, bare: true, cwd: home };
    const at = ['--api', pg.server.url!];
    const dave = jsonLines((await cli(['accounts', 'add', 'dave', '--json', ...at], admin)).stdout)[0];
    const daveEnv = { ...admin, env: { CACHECTL_AK: dave.access_key, CACHECTL_SK: dave.secret_key } };
    ok(await cli(['domains', 'add', 'dave.habits.test', '--origin', '127.0.0.1:9', ...at], daveEnv), 'domains add as dave');
    const busy = await cli(['accounts', 'rm', 'dave', ...at], admin);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /has 1 domain/);
    for (const step of ['disable', 'rm']) ok(await cli(['domains', step, 'dave.habits.test', ...at], daveEnv), `domains ${step}`);
    ok(await cli(['accounts', 'rm', 'dave', ...at], admin), 'accounts rm');
    assert.equal((await cli(['quota', ...at], daveEnv)).code, 1, "dave's key is gone");
  } finally {
    await pg.close();
    await db.drop();
  }
});
