// The README's "Try it" commands, run as written (from a directory whose data/ holds the server's
// credentials.json, as after `npm start`), with only what names this machine's parts replaced: the
// origin's port, the task id, the API of a profile, the key files.
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
import { runCli } from './run-cli.js';

const README = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../README.md');

let server: RunningServer;
let dir: string;
let origin: http.Server;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-readme-'));
  server = await startServer(
    loadServerConfig({ 'data-dir': path.join(dir, 'data'), port: '0', 'builtin-edges': '2', 'edge-port': '0', 'edge-admin-port': '0', 'sqlite-sync': 'NORMAL', 'log-level': 'warn', 'origin-allow': 'loopback,public' }, {}),
  );
  origin = http.createServer((req, res) => res.writeHead(200, { 'Cache-Control': 'max-age=3600' }).end(`body of ${req.url}`));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
});

after(async () => {
  await server?.close();
  await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
  origin?.closeAllConnections();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The lines of the sh blocks between "## Try it" and the next "### With" heading. */
function tryItCommands(): string[] {
  const text = fs.readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Try it'), text.indexOf('### With the official SDK'));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

test("the README's Try it commands run as written", async () => {
  const commands = tryItCommands();
  const cachectl = commands.filter((c) => c.startsWith('cachectl ') || c.startsWith('source <(cachectl '));
  assert.ok(cachectl.length >= 15, `found ${cachectl.length} commands: ${commands.join(' | ')}`);
  fs.writeFileSync(path.join(dir, 'urls.txt'), ['http://www.example.test/u/1.html', 'http://www.example.test/u/2.html'].join('\n'));
  fs.writeFileSync(path.join(dir, 'sk.txt'), `${server.bootstrap!.secretKey}\n`);
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({ Version: '1.1', Statement: [{ Effect: 'Allow', Action: ['cdn:configuration:refreshCache'], Resource: ['CDN:*:*:domain:*.static.example.com'] }] }));
  const env = { HOME: path.join(dir, 'home'), XDG_CONFIG_HOME: path.join(dir, 'xdg') };
  const port = (origin.address() as AddressInfo).port;
  let lastTask = '';
  const ran: string[] = [];
  for (const line of commands) {
    if (line.startsWith('alias ') || line.startsWith('curl ')) continue;
    if (line.startsWith('source <(cachectl completion ')) {
      const shell = /completion (\w+)/.exec(line)![1];
      const res = await runCli(['completion', shell], { cwd: dir, env });
      assert.equal(res.code, 0, line);
      execFileSync('bash', ['-n'], { input: res.stdout });
      ran.push(line);
      continue;
    }
    assert.match(line, /^cachectl /, `a command the test does not know how to run: ${line}`);
    let stdin: string | undefined;
    const rewritten = line
      .replace('127.0.0.1:3000', `127.0.0.1:${port}`)
      .replace(/^cachectl task 17\b/, `cachectl task ${lastTask}`)
      .replace('https://cdn-api.example.net', server.url!)
      .replace('--access-key AK', `--access-key ${server.bootstrap!.accessKey}`)
      .replace(/\s*<\s*(\S+)$/, (_, file: string) => {
        stdin = fs.readFileSync(path.join(dir, file), 'utf8');
        return '';
      });
    const args = rewritten.split(/\s+/).slice(1);
    const res = await runCli(args, { cwd: dir, env, stdin });
    assert.equal(res.code, 0, `${line}\n→ ${args.join(' ')}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    if (/^cachectl (purge|prefetch) /.test(line)) lastTask = res.stdout.split('\n')[0];
    ran.push(line);
  }
  assert.ok(ran.some((l) => l.startsWith('cachectl task ')), 'task --watch ran');
  assert.ok(ran.some((l) => l.includes('--profile prod')), 'the profile example ran');
});
