// EdgeDriver for an nginx on this machine, run inside the edge agent (`cachectl agent nginx`): exact
// purges go to nginx's purge location, directory purges and revalidations edit the cache files (see
// cache-files.ts, cache-scan.ts), prefetch is a GET with a cache bypass that stores the answer, checked
// on the cache file, and a domain change is a rendered include, `nginx -t`, SIGHUP, and a probe until
// the new version answers.
//
// Vary: nginx keeps one variant of a key in the key's own file and the others in files named after
// the variant, which ngx_cache_purge never touches (and it misses the key's own file too when the purge
// request's headers select another variant). So when the key's file has a Vary header, its variants
// are found by one walk of the cache for the batch.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { CallOptions, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { CacheLayoutError, keyFile, markStale, readHead, removeFile } from './cache-files.js';
import { CacheScanner, type ScanRule } from './cache-scan.js';
import { inner, Tally, type Failure } from './tally.js';
import { installServers, masterPid, recentErrors } from './nginx-reload.js';
import { isHostName, parseVersionAnswer, PURGE_PREFIX, renderNginx, stampOf, UNKNOWN_HOST_HEADER, VERSION_PATH } from './render-nginx.js';

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
  /** proxy_cache_path's directory. */
  cacheDir: string;
  /** proxy_cache_path's levels (the shipped config: 1:2). */
  cacheLevels?: number[];
  /** nginx's pid file, for the reload signal. */
  pidFile: string;
  nginxBin?: string;
  /** Control requests (purge, version probe, nginx -t) and the wait for a reload. */
  timeoutMs?: number;
  /** How long a prefetch waits for its fill when the caller does not say (CallOptions.timeoutMs).
   *  Default 10 min, as cachectl's --prefetch-timeout-ms. */
  prefetchTimeoutMs?: number;
}

/** proxy_cache_key is $scheme$host$request_uri, and users reach the traffic port over http. */
const SCHEME = 'http';
/** How long a prefetch looks for the stored file after the answer ended (nginx renames it in place
 *  as the origin's answer ends, which can be just after the last byte reached us). */
const STORE_WAIT_MS = 200;
const PATH_RE = /^\/[\x21-\x7e]*$/;
const DEFAULT_PREFETCH_TIMEOUT_MS = 600_000;

const notConfigured = (host: string) => inner(`domain ${host} is not configured on this nginx`);
/** A file that could not be changed: a layout this code does not know will not fix itself. */
const fileFailure = (what: string, err: unknown) => inner(`${what}: ${(err as Error).message}`, !(err instanceof CacheLayoutError));

/** Walk rules of a batch, each with the index of its target. */
type Sweep = Array<{ at: number; rule: ScanRule }>;

/** A target nginx can be asked about: a host name and a request target without spaces or controls. */
function badTarget(t: EdgeTarget): Failure | undefined {
  if (!isHostName(t.host.toLowerCase())) return inner(`invalid host ${JSON.stringify(t.host)}`, false);
  if (!PATH_RE.test(t.path)) return inner(`invalid path ${JSON.stringify(t.path)}: must start with / and be percent-encoded`, false);
  return undefined;
}

export class NginxEngine implements EdgeDriver {
  // Directory operations walk the cache, and concurrent calls share a walk: let them pile up.
  readonly capabilities: EdgeCapabilities = { maxBatch: 500, maxInFlight: 8 };
  private readonly traffic: Pool;
  private readonly control: Pool;
  private readonly timeoutMs: number;
  private readonly prefetchTimeoutMs: number;
  private readonly scanner: CacheScanner;
  /** applyDomains calls, one after the other. */
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly opts: NginxEngineOptions) {
    const t = (this.timeoutMs = opts.timeoutMs ?? 5000);
    this.prefetchTimeoutMs = opts.prefetchTimeoutMs ?? DEFAULT_PREFETCH_TIMEOUT_MS;
    // 64 sockets: a batch of 500 exact purges keeps as many in flight as nginx takes (measured: 32 left
    // the agent waiting at 41 % of raw-PURGE throughput, 64 gave 58 %).
    this.control = new Pool(`http://${opts.controlListen}`, { connections: 64, headersTimeout: t, bodyTimeout: t, connect: { timeout: t } });
    this.traffic = new Pool(`http://${opts.trafficListen}`, { connections: 32, connect: { timeout: t } });
    this.scanner = new CacheScanner(opts.cacheDir);
    // nginx.conf includes the file: before the first push it must exist (serving no domain).
    if (!existsSync(opts.serversFile)) writeFileSync(opts.serversFile, renderNginx([], 0, { traffic: opts.trafficListen, control: opts.controlListen }));
  }

  private key(host: string, path: string): string {
    return `${SCHEME}${host.toLowerCase()}${path}`;
  }

  private file(key: string): string {
    return keyFile(this.opts.cacheDir, key, this.opts.cacheLevels);
  }

  async purge(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    const tally = new Tally(targets.length);
    const sweeps: Sweep = [];
    await Promise.all(
      targets.map(async (t, at) => {
        const failure = badTarget(t) ?? (await this.purgeOne(t, at, tally, sweeps));
        if (failure) tally.fail(at, failure);
      }),
    );
    await this.sweep(sweeps, tally, 'removing variants');
    return tally.results('purged');
  }

  private async purgeOne(t: EdgeTarget, at: number, tally: Tally, sweeps: Sweep): Promise<Failure | undefined> {
    const key = this.key(t.host, t.path);
    const file = this.file(key);
    let vary: boolean;
    try {
      vary = (readHead(file)?.vary ?? '') !== '';
    } catch (err) {
      return fileFailure(`reading the cache file of ${key}`, err);
    }
    let status: number;
    try {
      const res = await this.control.request({ method: 'GET', path: `${PURGE_PREFIX}${t.path}`, headers: { host: t.host.toLowerCase() } });
      await res.body.dump();
      status = res.statusCode;
    } catch (err) {
      return inner(`nginx purge location did not answer: ${(err as Error).message}`);
    }
    // 200: removed; 404: not cached. Both leave the key uncached.
    if (status !== 200 && status !== 404) return inner(`nginx purge answered ${status}`, status >= 500);
    if (status === 200) tally.counts[at]++;
    if (vary) {
      // The module may have looked at another variant: remove the key's own file, then the others.
      try {
        if (removeFile(file)) tally.counts[at]++;
      } catch (err) {
        return fileFailure(`removing ${file}`, err);
      }
      sweeps.push({ at, rule: { key, exact: true, action: 'remove' } });
    }
    return undefined;
  }

  async purgeDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.underDirectories(targets, 'remove', 'purged');
  }

  async revalidate(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    await this.ensureUp();
    const tally = new Tally(targets.length);
    const sweeps: Sweep = [];
    targets.forEach((t, at) => {
      const bad = badTarget(t);
      if (bad) return tally.fail(at, bad);
      const key = this.key(t.host, t.path);
      const file = this.file(key);
      try {
        const head = readHead(file);
        // Not cached (head null): nothing to revalidate, which is what was asked.
        // With Vary, the walk marks the key's own file along with the other variants, and counts it.
        if (head?.vary) sweeps.push({ at, rule: { key, exact: true, action: 'stale' } });
        else if (head && markStale(file)) tally.counts[at]++;
      } catch (err) {
        tally.fail(at, fileFailure(`marking ${key} stale`, err));
      }
    });
    await this.sweep(sweeps, tally, 'marking variants stale');
    return tally.results('marked');
  }

  async revalidateDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.underDirectories(targets, 'stale', 'marked');
  }

  async prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    const sweeps: Sweep = [];
    const timeoutMs = options?.timeoutMs ?? this.prefetchTimeoutMs;
    const results = await Promise.all(targets.map((t, at) => this.prefetchOne(t, timeoutMs, (rule) => sweeps.push({ at, rule }))));
    // Variants stored before hold the old copy: drop them, the new one replaces every variant.
    const tally = new Tally(targets.length);
    await this.sweep(sweeps, tally, 'removing old variants');
    return results.map((r, at) => tally.failures[at] ?? r);
  }

  private async prefetchOne(t: EdgeTarget, timeoutMs: number, sweepVariants: (rule: ScanRule) => void): Promise<EdgeResult> {
    const bad = badTarget(t);
    if (bad) return bad;
    const key = this.key(t.host, t.path);
    const file = this.file(key);
    let before;
    try {
      before = statSync(file, { throwIfNoEntry: false });
    } catch (err) {
      return fileFailure(`reading the cache file of ${key}`, err);
    }
    let status: number;
    let unknownHost: boolean;
    try {
      // Bounded by the whole wait, not per read: the agent gives up when the caller does.
      const res = await this.traffic.request({
        method: 'GET',
        path: t.path,
        headers: { host: t.host.toLowerCase(), 'x-prefetch': '1', 'user-agent': 'cachectl-prefetch' },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // To the end: nginx stores the object as the origin's answer ends.
      await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      status = res.statusCode;
      unknownHost = res.headers[UNKNOWN_HOST_HEADER] !== undefined;
    } catch (err) {
      return inner(`nginx did not answer the prefetch: ${(err as Error).message}`);
    }
    if (unknownHost) return notConfigured(t.host);
    if (status >= 400) {
      // 502/504 are nginx's own: the origin could not be reached in time, and may come back.
      return { ok: false, classify: 'ORIGIN_ERROR', retryable: status === 502 || status === 504, message: `origin answered ${status}` };
    }
    // Stored means: the key's file was replaced (nginx renames a new file into place: a new inode).
    const deadline = Date.now() + STORE_WAIT_MS;
    for (;;) {
      const now = statSync(file, { throwIfNoEntry: false });
      if (now && (!before || now.ino !== before.ino || now.mtimeMs > before.mtimeMs)) break;
      if (Date.now() > deadline) {
        // Not stored: Cache-Control no-store/private/no-cache/max-age=0, Set-Cookie, or no explicit
        // freshness at all (no max-age or Expires: nginx.conf has no proxy_cache_valid, as the
        // built-in edge stores only answers with explicit freshness).
        return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin ${status}, not stored (uncacheable: no-store, private or no explicit freshness)` };
      }
      await sleep(5);
    }
    try {
      if ((readHead(file)?.vary ?? '') !== '') sweepVariants({ key, exact: true, action: 'remove', except: file });
    } catch {
      // A variant left behind is older, not wrong for this prefetch; the next purge sweeps it.
    }
    return { ok: true, detail: `origin ${status}` };
  }

  /** One walk for the whole batch: every key under each directory is removed or marked stale. */
  private async underDirectories(targets: EdgeTarget[], action: 'remove' | 'stale', word: string): Promise<EdgeResult[]> {
    await this.ensureUp();
    const tally = new Tally(targets.length);
    const sweeps: Sweep = [];
    targets.forEach((t, at) => {
      const bad = badTarget(t);
      if (bad) return tally.fail(at, bad);
      // A directory is a prefix ending with '/': /d must not take /d2 along.
      const dir = t.path.endsWith('/') ? t.path : `${t.path}/`;
      sweeps.push({ at, rule: { key: this.key(t.host, dir), action } });
    });
    await this.sweep(sweeps, tally, action === 'remove' ? 'removing cache files' : 'marking cache files stale');
    return tally.results(word);
  }

  /** Runs the rules in one walk (shared with concurrent calls) and adds each rule's count to its target. */
  private async sweep(sweeps: Sweep, tally: Tally, what: string): Promise<void> {
    if (sweeps.length === 0) return;
    const outcomes = await this.scanner.run(sweeps.map((r) => r.rule));
    sweeps.forEach(({ at }, i) => tally.add(at, outcomes[i], what));
  }

  async health(): Promise<EdgeHealth> {
    try {
      const { version } = await this.version();
      const scan = this.scanner.lastScan;
      return {
        up: true,
        domainsVersion: version,
        // No directPurge: nginx's purge location removes one file, not the other Vary variants of the key,
        // which this engine finds on the cache files; so every purge goes through the agent.
        detail: `nginx pid ${masterPid(this.opts.pidFile)}${scan ? `, last cache walk ${scan.files} files in ${scan.ms} ms` : ''}`,
      };
    } catch (err) {
      return { up: false, detail: (err as Error).message };
    }
  }

  applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    const next = this.applying.then(() => this.apply(domains, version));
    this.applying = next.catch(() => undefined);
    return next;
  }

  private async apply(domains: DomainConfig[], version: number): Promise<void> {
    const text = renderNginx(domains, version, { traffic: this.opts.trafficListen, control: this.opts.controlListen });
    // Down: refuse before touching anything (the pid file may be stale, and nothing would confirm).
    const served = await this.version();
    const current = await readFile(this.opts.serversFile, 'utf8').catch(() => '');
    const stamp = stampOf(text);
    if (current === text && served.stamp === stamp) return;
    await installServers(this.opts, text, current, this.timeoutMs);
    const signalled = Date.now();
    process.kill(masterPid(this.opts.pidFile), 'SIGHUP');
    // The reload is asynchronous: new workers answer with the new version once it took effect (if
    // the new config cannot be applied, e.g. a port in use, the old workers go on serving the old one).
    const deadline = signalled + this.timeoutMs;
    for (;;) {
      const seen = await this.version().catch(() => undefined);
      if (seen?.stamp === stamp) return;
      if (Date.now() > deadline) {
        throw new Error(`nginx did not take up domain set ${version} within ${this.timeoutMs} ms (it serves ${seen?.version ?? 'nothing'})${recentErrors(this.opts.prefix, signalled)}`);
      }
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.traffic.close(), this.control.close()]);
  }

  private async version(): Promise<{ version: number; stamp: string }> {
    let statusCode: number;
    let text: string;
    try {
      const res = await this.control.request({ method: 'GET', path: VERSION_PATH, headers: { host: 'cachectl-control' } });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new Error(`nginx control server ${this.opts.controlListen} did not answer: ${(err as Error).message}`);
    }
    const answer = statusCode === 200 ? parseVersionAnswer(text) : undefined;
    if (!answer) throw new Error(`nginx control server answered ${statusCode} to ${VERSION_PATH}`);
    return answer;
  }

  /** File edits on a stopped nginx would be reported as done to a node that is down: ask first. */
  private async ensureUp(): Promise<void> {
    await this.version();
  }
}
