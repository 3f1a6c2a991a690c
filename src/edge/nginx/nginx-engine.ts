// EdgeDriver for an nginx on this machine, run inside the edge agent (`cachectl agent nginx`): exact
// purges go to nginx's purge location, directory purges and revalidations edit the cache files (see
// cache-files.ts), prefetch is a GET with a cache bypass that stores the answer, and a domain change is a
// rendered include, `nginx -t`, SIGHUP, and a probe until the new version answers.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';

import { promisify } from 'node:util';
import { Pool } from 'undici';
import type { DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { forEachKeyUnder, keyFile, markStale, removeFile } from './cache-files.js';
import { PURGE_PREFIX, UNKNOWN_HOST_HEADER, VERSION_PATH, renderNginx } from './render-nginx.js';

const run = promisify(execFile);

export interface NginxEngineOptions {
  /** host:port the rendered servers listen on for users (the node's traffic address). */
  trafficListen: string;
  /** host:port of the loopback control server (purge location, version probe). */
  controlListen: string;
  /** nginx -p and -c, for `nginx -t`. */
  prefix: string;
  conf: string;
  /** The include cachectl renders (cachectl/servers.conf under the prefix). */
  serversFile: string;
  /** proxy_cache_path's directory (levels=1:2). */
  cacheDir: string;
  /** nginx's pid file, for the reload signal. */
  pidFile: string;
  nginxBin?: string;
  timeoutMs?: number;
}

const SCHEME = 'http';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const notConfigured = (host: string): EdgeResult => ({ ok: false, classify: 'INNER_ERROR', retryable: true, message: `domain ${host} is not configured on this nginx` });

export class NginxEngine implements EdgeDriver {
  // Directory operations walk the cache: a batch shares one walk, so let them pile up.
  readonly capabilities: EdgeCapabilities = { maxBatch: 500, maxInFlight: 8 };
  private readonly traffic: Pool;
  private readonly control: Pool;
  private readonly timeoutMs: number;

  constructor(private readonly opts: NginxEngineOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    const t = this.timeoutMs;
    const pool = (hostPort: string) => new Pool(`http://${hostPort}`, { connections: 32, headersTimeout: t, bodyTimeout: t, connect: { timeout: t } });
    this.traffic = pool(opts.trafficListen);
    this.control = pool(opts.controlListen);
    // nginx.conf includes the file: before the first push it must exist (serving no domain).
    if (!existsSync(opts.serversFile)) writeFileSync(opts.serversFile, renderNginx([], 0, { traffic: opts.trafficListen, control: opts.controlListen }));
  }

  private key(t: EdgeTarget): string {
    return `${SCHEME}${t.host.toLowerCase()}${t.path}`;
  }

  async purge(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return Promise.all(
      targets.map(async (t): Promise<EdgeResult> => {
        const { statusCode, body } = await this.control.request({ method: 'GET', path: `${PURGE_PREFIX}${t.path}`, headers: { host: t.host } });
        await body.dump();
        // 200: removed; 404: not cached. Both leave the key uncached.
        if (statusCode === 200) return { ok: true, detail: 'purged 1' };
        if (statusCode === 404) return { ok: true, detail: 'purged 0' };
        return { ok: false, classify: 'INNER_ERROR', retryable: statusCode >= 500, message: `nginx purge answered ${statusCode}` };
      }),
    );
  }

  async purgeDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    await this.ensureUp();
    const counts = await forEachKeyUnder(this.opts.cacheDir, targets.map((t) => this.key(t)), removeFile);
    return counts.map((n) => ({ ok: true, detail: `purged ${n}` }));
  }

  async revalidate(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    await this.ensureUp();
    return Promise.all(targets.map(async (t): Promise<EdgeResult> => ({ ok: true, detail: `marked ${(await markStale(keyFile(this.opts.cacheDir, this.key(t)))) ? 1 : 0}` })));
  }

  async revalidateDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    await this.ensureUp();
    const counts = await forEachKeyUnder(this.opts.cacheDir, targets.map((t) => this.key(t)), markStale);
    return counts.map((n) => ({ ok: true, detail: `marked ${n}` }));
  }

  async prefetch(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return Promise.all(targets.map((t) => this.prefetchOne(t)));
  }

  private async prefetchOne(t: EdgeTarget): Promise<EdgeResult> {
    const started = Date.now();
    const { statusCode, headers, body } = await this.traffic.request({ method: 'GET', path: t.path, headers: { host: t.host, 'x-prefetch': '1', 'user-agent': 'cachectl-prefetch' } });
    await body.dump({ limit: Number.MAX_SAFE_INTEGER });
    if (headers[UNKNOWN_HOST_HEADER] !== undefined) return notConfigured(t.host);
    if (statusCode >= 400) {
      // 502/504 are nginx's own: the origin could not be reached (it may come back).
      return { ok: false, classify: 'ORIGIN_ERROR', retryable: statusCode === 502 || statusCode === 504, message: `origin answered ${statusCode}` };
    }
    // Stored means: the key's file was (re)written by this fetch. nginx renames it into place as the
    // answer ends, so give it a moment.
    const file = keyFile(this.opts.cacheDir, this.key(t));
    for (let i = 0; i < 20; i++) {
      const st = await fsp.stat(file).catch(() => null);
      if (st && st.mtimeMs >= started - 10) return { ok: true, detail: `origin ${statusCode}` };
      await sleep(5);
    }
    return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin ${statusCode}, not stored (uncacheable: no explicit freshness, no-store or private)` };
  }

  async health(): Promise<EdgeHealth> {
    try {
      const version = await this.version();
      return { up: true, domainsVersion: version, detail: `nginx pid ${this.pid()}`, directPurge: { url: `http://${this.opts.controlListen}`, method: 'GET', pathPrefix: PURGE_PREFIX } };
    } catch (err) {
      return { up: false, detail: (err as Error).message };
    }
  }

  async applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    const text = renderNginx(domains, version, { traffic: this.opts.trafficListen, control: this.opts.controlListen });
    const current = await fsp.readFile(this.opts.serversFile, 'utf8').catch(() => '');
    if (current === text && (await this.version().catch(() => -1)) === version) return;
    // Write beside and rename: nginx never reads half a file. Test before the swap-in takes effect.
    const tmp = `${this.opts.serversFile}.new`;
    await fsp.writeFile(tmp, text);
    await fsp.rename(tmp, this.opts.serversFile);
    try {
      await run(this.opts.nginxBin ?? 'nginx', ['-t', '-q', '-p', `${this.opts.prefix.replace(/\/?$/, '/')}`, '-c', this.opts.conf, '-e', 'stderr'], { timeout: this.timeoutMs });
    } catch (err) {
      // Keep nginx on the old config: put it back, so a later restart does not load the bad one.
      await fsp.writeFile(this.opts.serversFile, current);
      const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
      throw new Error(`nginx -t refused the rendered config: ${stderr.trim().split('\n').slice(-2).join(' ')}`);
    }
    process.kill(this.pid(), 'SIGHUP');
    // The reload is asynchronous: new workers answer with the new version once it took effect.
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const seen = await this.version().catch(() => -1);
      if (seen === version) return;
      if (Date.now() > deadline) throw new Error(`nginx did not take up domain set ${version} within ${this.timeoutMs} ms (it serves ${seen})`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.traffic.close(), this.control.close()]);
  }

  private pid(): number {
    const pid = Number(readFileSync(this.opts.pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no nginx pid in ${this.opts.pidFile}`);
    return pid;
  }

  private async version(): Promise<number> {
    const { statusCode, body } = await this.control.request({ method: 'GET', path: VERSION_PATH, headers: { host: 'cachectl-control' } });
    const text = await body.text();
    if (statusCode !== 200 || !/^\d+$/.test(text)) throw new Error(`nginx control answered ${statusCode}`);
    return Number(text);
  }

  /** File edits on a stopped nginx would be reported as done and then meet a cold restart: ask first. */
  private async ensureUp(): Promise<void> {
    await this.version();
  }
}

