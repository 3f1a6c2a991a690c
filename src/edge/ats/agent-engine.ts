// EdgeDriver for an Apache Traffic Server 9.2 on this machine (it reads and writes ATS's config directory
// and runs traffic_ctl), run inside the edge agent (`cachectl agent ats`):
// - URL refresh: PURGE on the traffic port with the public Host.
// - Directory refresh / revalidation: regex_revalidate MISS / STALE rules (revalidate-rules.ts), loaded at
//   once through traffic_manager and confirmed by the plugin's state file (rule-loader.ts).
// - URL revalidation and prefetch: GET with `Cache-Control: no-cache` (a conditional request now; HEAD
//   does not store anything in ATS), checked with `Cache-Control: only-if-cached` (answered from the
//   cache alone: 504 when ATS holds no fresh copy).
// - Domains: rendered remap.config + parent.config (render-ats.ts) and a reload, confirmed when ATS's own
//   version probe answers with the new version.
import { execFile } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import type { CallOptions, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { parseRemap, renderAts, VERSION_HOST, versionFromLocation } from './render-ats.js';
import { directoryRegex, type Rule, type RuleType } from './revalidate-rules.js';
import { RuleLoader } from './rule-loader.js';

const run = promisify(execFile);
const DEFAULT_PREFETCH_TIMEOUT_MS = 600_000;
/** Marks the agent's prefetch GET: engines/ats/prefetch.config lifts ATS's origin timeouts for it. */
const PREFETCH_HEADER = 'x-cachectl-prefetch';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AtsEngineOptions {
  /** host:port of proxy.config.http.server_ports (the node's traffic address, loopback is fine). */
  trafficListen: string;
  /** runroot.yaml of this ATS, for traffic_ctl (and where traffic_manager's socket is); none: the packaged layout. */
  runroot?: string;
  /** ATS's sysconfdir: AtsEngine owns remap.config, parent.config and regex_revalidate.config there. */
  etcDir: string;
  /** regex_revalidate's --state-file (plugin.config): rewritten by the plugin on every load of the rules. */
  stateFile: string;
  /**
   * false when ATS runs without traffic_manager (not root): directory rules then take effect only when
   * the plugin's 60 s timer reloads them, and domain changes need an ATS restart. Default true.
   */
  manager?: boolean;
  /**
   * Lifetime of a directory rule, seconds. Must be at least records.config's
   * proxy.config.http.cache.guaranteed_max_lifetime (shipped: 86400), the longest an object stays fresh.
   * Default 86400 + 60.
   */
  ruleTtlSec?: number;
  trafficCtl?: string;
  /** One HTTP call to ATS. Default 5 s. */
  timeoutMs?: number;
  /** How long a prefetch waits for its fill when the caller does not say (CallOptions.timeoutMs). Default 10 min. */
  prefetchTimeoutMs?: number;
  /** A reload until it took effect: rules take milliseconds, domain sets 0–5 s (traffic_manager pushes config changes to traffic_server every 5 s). Default 30 s (manager: false: 90 s for rules). */
  reloadTimeoutMs?: number;
}

export class AtsEngine implements EdgeDriver {
  readonly capabilities: EdgeCapabilities = { maxBatch: 500, maxInFlight: 8 };
  private readonly pool: Pool;
  private readonly manager: boolean;
  private readonly rules: RuleLoader;
  private readonly remapFile: string;
  private readonly managerSocket: string | undefined;
  /** The domain set in remap.config (read at start, replaced by applyDomains). */
  private served: { version: number; names: string[] } | undefined;
  /** Domain pushes one at a time. */
  private domainChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AtsEngineOptions) {
    const t = opts.timeoutMs ?? 5000;
    this.manager = opts.manager ?? true;
    this.pool = new Pool(`http://${opts.trafficListen}`, { connections: 32, headersTimeout: t, bodyTimeout: t, connect: { timeout: t } });
    this.remapFile = join(opts.etcDir, 'remap.config');
    this.served = parseRemap(readText(this.remapFile));
    // traffic_ctl talks to traffic_manager over <runtimedir>/mgmtapi.sock: health() checks it answers.
    const runtimedir = opts.runroot ? /^runtimedir:\s*(\S+)\s*$/m.exec(readText(opts.runroot))?.[1] : '/run/trafficserver';
    this.managerSocket = runtimedir && join(runtimedir, 'mgmtapi.sock');
    this.rules = new RuleLoader({
      rulesFile: join(opts.etcDir, 'regex_revalidate.config'),
      stateFile: opts.stateFile,
      reload: () => (this.manager ? this.reload() : Promise.resolve()),
      timeoutMs: opts.reloadTimeoutMs ?? (this.manager ? 30_000 : 90_000),
    });
  }

  async purge(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return Promise.all(
      targets.map(async (t): Promise<EdgeResult> => {
        const { statusCode, body } = await this.pool.request({ method: 'PURGE', path: t.path, headers: { host: t.host } });
        const text = await body.text();
        if (statusCode === 200) return { ok: true, detail: 'purged 1' };
        // An empty 404 is "not cached". A 404 with a body is ATS's own "Not Found on Accelerator": no remap
        // rule for this host (the domain set has not reached this node yet), the purge went nowhere.
        if (statusCode === 404 && text.length === 0) return { ok: true, detail: 'purged 0' };
        if (statusCode === 404) return this.notServed(t.host);
        return { ok: false, classify: 'INNER_ERROR', retryable: statusCode >= 500, message: `ATS answered PURGE with ${statusCode}` };
      }),
    );
  }

  purgeDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.addRules(targets, 'MISS');
  }

  revalidateDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.addRules(targets, 'STALE');
  }

  async revalidate(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return Promise.all(
      targets.map(async (t): Promise<EdgeResult> => {
        if (!this.serves(t.host)) return this.notServed(t.host);
        // Not cached (or already stale): nothing to mark, and a GET would fetch and store it.
        const cached = await this.cached(t);
        if (cached === 'unrouted') return this.notServed(t.host);
        if (cached === 'no') return { ok: true, detail: 'not cached' };
        // A conditional request to the origin now: a 304 keeps the body, a changed object replaces it.
        const status = await this.get(t, { 'cache-control': 'no-cache' });
        if (status === 'unrouted') return this.notServed(t.host);
        if (status === 502 || status === 504) return { ok: false, classify: 'ORIGIN_ERROR', retryable: true, message: `origin unreachable (ATS answered ${status})` };
        return { ok: true, detail: `revalidated (${status})` };
      }),
    );
  }

  async prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    const timeoutMs = options?.timeoutMs ?? this.opts.prefetchTimeoutMs ?? DEFAULT_PREFETCH_TIMEOUT_MS;
    return Promise.all(
      targets.map(async (t): Promise<EdgeResult> => {
        if (!this.serves(t.host)) return this.notServed(t.host);
        // A directory rule being loaded now would invalidate this fetch: let it land first.
        await this.rules.idle();
        let fetched = await this.fetchAndCheck(t, timeoutMs);
        if (fetched === 'unrouted') return this.notServed(t.host);
        // A rule invalidates what was stored up to the second it loaded in (Date <= its epoch, 1 s
        // resolution): an object fetched in that same second counts as cached before the rule. Fetch
        // again once that second has passed.
        if (fetched.status < 400 && !fetched.stored && (this.rules.busy || Date.now() / 1000 < this.rules.lastEpoch + 2)) {
          await this.rules.idle();
          await sleep(Math.max(0, (this.rules.lastEpoch + 1) * 1000 - Date.now()) + 20);
          const again = await this.fetchAndCheck(t, timeoutMs);
          if (again === 'unrouted') return this.notServed(t.host);
          fetched = again;
        }
        const { status, stored } = fetched;
        if (status >= 400) return { ok: false, classify: 'ORIGIN_ERROR', retryable: status === 502 || status === 504, message: `origin answered ${status}` };
        if (!stored) return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin ${status}, not stored (uncacheable: no explicit freshness, no-store or private)` };
        return { ok: true, detail: `origin ${status}` };
      }),
    );
  }

  async health(): Promise<EdgeHealth> {
    try {
      const live = await this.liveVersion();
      const managerDown = this.manager && !(await this.managerAnswers());
      const rules = await this.rules.count();
      return {
        up: !managerDown,
        ...(live !== undefined && { domainsVersion: live.version }),
        directPurge: { url: `http://${this.opts.trafficListen}`, method: 'PURGE', pathPrefix: '', emptyNotFound: true },
        detail: managerDown
          ? 'traffic_server answers, traffic_manager does not (no reloads possible)'
          : `${this.served?.names.length ?? 0} domains, ${rules} revalidate rules${this.manager ? '' : ', no traffic_manager (rules take up to 60 s)'}`,
      };
    } catch (err) {
      return { up: false, detail: `ATS at ${this.opts.trafficListen}: ${(err as Error).message}` };
    }
  }

  applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    const next = this.domainChain.then(() => this.pushDomains(domains, version));
    this.domainChain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.rules.idle();
    await this.pool.close();
  }

  private async pushDomains(domains: DomainConfig[], version: number): Promise<void> {
    const { remap, parent, stamp } = renderAts(domains, version);
    // Asked first: when ATS is down this rejects before any file changes.
    const live = await this.liveVersion();
    // The same set again (a repeated push): no reload.
    if (live?.stamp === stamp && readText(this.remapFile) === remap) return;
    // parent.config first: when the new remap rules load, their parents are there (one reload does both).
    await writeAtomic(join(this.opts.etcDir, 'parent.config'), parent);
    await writeAtomic(this.remapFile, remap);
    if (!this.manager) {
      throw new Error(`ATS runs without traffic_manager: restart it to serve domain set ${version} (remap.config is written)`);
    }
    await this.reload();
    const wait = this.opts.reloadTimeoutMs ?? 30_000;
    const deadline = Date.now() + wait;
    while ((await this.liveVersion())?.stamp !== stamp) {
      if (Date.now() > deadline) throw new Error(`ATS did not take up domain set ${version} within ${wait} ms (see its log/diags.log)`);
      await sleep(25);
    }
    this.served = parseRemap(remap);
  }

  private serves(host: string): boolean {
    const h = host.toLowerCase();
    return (this.served?.names ?? []).some((d) => (d.startsWith('*.') ? h.endsWith(d.slice(1)) && h.length > d.length - 1 : d === h));
  }

  private notServed(host: string): EdgeResult {
    // Retryable: the usual cause is a domain set that has not reached this node yet.
    return { ok: false, classify: 'INNER_ERROR', retryable: true, message: `domain ${host} is not configured on this ATS` };
  }

  private async addRules(targets: EdgeTarget[], type: RuleType): Promise<EdgeResult[]> {
    const expiry = Math.floor(Date.now() / 1000) + (this.opts.ruleTtlSec ?? 86_400 + 60);
    const results: EdgeResult[] = [];
    const added: Rule[] = [];
    for (const t of targets) {
      if (!this.serves(t.host)) {
        results.push(this.notServed(t.host));
        continue;
      }
      added.push({ regex: directoryRegex(t.host, t.path), expiry, type });
      results.push({ ok: true });
    }
    if (added.length === 0) return results;
    const epoch = await this.rules.add(added);
    const detail = `rule ${type} live since ${epoch}`;
    return results.map((r) => (r.ok ? { ok: true, detail } : r));
  }

  /** GET with no-cache (a fresh copy replaces the cached one; a 304 keeps the body), then: is it stored? */
  private async fetchAndCheck(t: EdgeTarget, timeoutMs: number): Promise<{ status: number; stored: boolean } | 'unrouted'> {
    // X-Cachectl-Prefetch: ATS waits for the origin as long as we do (prefetch.config, header_rewrite).
    const status = await this.get(t, { 'cache-control': 'no-cache', [PREFETCH_HEADER]: '1' }, timeoutMs);
    if (status === 'unrouted') return status;
    if (status >= 400) return { status, stored: false };
    // ATS finishes the cache write just after the client got the last byte: look a few times.
    for (let i = 0; i < 5; i++) {
      if ((await this.cached(t)) === 'yes') return { status, stored: true };
      await sleep(20 * (i + 1));
    }
    return { status, stored: false };
  }

  /**
   * only-if-cached is answered from the cache alone: 200 for a fresh copy, 504 otherwise. A 404 is ATS's
   * own "no remap rule" (negative caching is off, so no cached 404 can answer).
   */
  private async cached(t: EdgeTarget): Promise<'yes' | 'no' | 'unrouted'> {
    const { statusCode, body } = await this.pool.request({ method: 'HEAD', path: t.path, headers: { host: t.host, 'cache-control': 'only-if-cached' } });
    await body.dump();
    return statusCode === 200 ? 'yes' : statusCode === 404 ? 'unrouted' : 'no';
  }

  /** The status of a GET, or 'unrouted' when ATS itself answered that no remap rule matches the host. */
  private async get(t: EdgeTarget, headers: Record<string, string>, timeoutMs?: number): Promise<number | 'unrouted'> {
    const bound = timeoutMs === undefined ? {} : { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) };
    const { statusCode, body } = await this.pool.request({ method: 'GET', path: t.path, headers: { host: t.host, 'user-agent': 'cachectl-agent', ...headers }, ...bound });
    if (statusCode === 404) return /Not Found on Accelerator/.test(await body.text()) ? 'unrouted' : 404;
    // Read to the end: ATS stores what it passed on completely.
    await body.dump({ limit: Number.MAX_SAFE_INTEGER });
    return statusCode;
  }

  /** The domain set version ATS serves now (its version probe's redirect), or undefined (none of ours). */
  private async liveVersion(): Promise<{ version: number; stamp: string } | undefined> {
    const { statusCode, headers, body } = await this.pool.request({ method: 'GET', path: '/', headers: { host: VERSION_HOST } });
    await body.dump();
    const location = Array.isArray(headers.location) ? headers.location[0] : headers.location;
    return statusCode === 301 ? versionFromLocation(location) : undefined;
  }

  private managerAnswers(): Promise<boolean> {
    const path = this.managerSocket;
    if (!path) return Promise.resolve(false);
    return new Promise((resolve) => {
      const s = connect(path, () => { s.destroy(); resolve(true); });
      s.setTimeout(this.opts.timeoutMs ?? 5000, () => { s.destroy(); resolve(false); });
      s.on('error', () => resolve(false));
    });
  }

  private async reload(): Promise<void> {
    // traffic_ctl exits 0 even when it could not reach traffic_manager: check what it printed too.
    const args = [...(this.opts.runroot ? [`--run-root=${this.opts.runroot}`] : []), 'config', 'reload'];
    const { stdout, stderr } = await run(this.opts.trafficCtl ?? 'traffic_ctl', args, { timeout: this.opts.timeoutMs ?? 5000 }).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`traffic_ctl config reload: ${(err.stderr || err.message).trim()}`);
    });
    const said = `${stdout}${stderr}`.replace(/^NOTE: using command line path as RUNROOT\s*$/gm, '').trim();
    if (/error|fail|cannot|could not|unable/i.test(said)) throw new Error(`traffic_ctl config reload: ${said}`);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Replaces a file in one step, with an mtime at least a second later than the old one's: traffic_manager
 * reloads only the files whose mtime changed, and two pushes may come within one second.
 */
async function writeAtomic(file: string, text: string): Promise<void> {
  const old = await fsp.stat(file).then((s) => Math.floor(s.mtimeMs / 1000), () => 0);
  const mtime = Math.max(Math.floor(Date.now() / 1000), old + 1);
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, text);
  await fsp.utimes(tmp, mtime, mtime);
  await fsp.rename(tmp, file);
}
