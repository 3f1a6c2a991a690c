// EdgeDriver for an Apache Traffic Server on this machine, run inside the edge agent (`cachectl agent
// ats`): URL refresh is PURGE, directory refresh and revalidation are regex_revalidate rules loaded at once
// with `traffic_ctl config reload`, URL revalidation and prefetch are GETs with `Cache-Control: no-cache`
// (HEAD does not warm ATS), and a domain change is a rendered remap.config + parent.config and a reload,
// confirmed by a probe of the new version's remap rule.
import { execFile } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import type { DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { renderAts, versionHost, VERSION_PROBE_PATH } from './render-ats.js';
import { directoryRegex, formatRules, mergeRules, readRules, type Rule } from './revalidate-rules.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AtsEngineOptions {
  /** host:port of proxy.config.http.server_ports (the node's traffic address). */
  trafficListen: string;
  /** runroot.yaml, for traffic_ctl. */
  runroot: string;
  /** ATS's sysconfdir: remap.config, parent.config, regex_revalidate.config. */
  etcDir: string;
  /** regex_revalidate's --state-file: rewritten on every load of the rules. */
  stateFile: string;
  /** Loopback port of the version probe's origin (served by the agent); default: any free one. */
  probePort?: number;
  /** Lifetime of a directory rule; at least the longest TTL your origins send. Default 7 days. */
  ruleTtlSec?: number;
  trafficCtl?: string;
  /** One HTTP call to ATS. Default 5 s. */
  timeoutMs?: number;
  /** A config reload until it took effect (measured 1–3 s for remap/parent changes). Default 30 s. */
  reloadTimeoutMs?: number;
}

export class AtsEngine implements EdgeDriver {
  readonly capabilities: EdgeCapabilities = { maxBatch: 500, maxInFlight: 8 };
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly rulesFile: string;
  /** The domain set last applied (or found in remap.config at start). */
  private version: number;
  private hosts: string[];
  /** Domain pushes one at a time, and rule changes one at a time (each chain waits for its own reload only). */
  private readonly chains = { domains: Promise.resolve() as Promise<unknown>, rules: Promise.resolve() as Promise<unknown> };
  private rulesMtime = 0;
  /** When rules were last loaded (epoch s), and how many rule changes are queued or loading. */
  private lastRuleLoad = 0;
  private rulesPending = 0;
  /** Answers 200 to anything on a loopback port: the origin of the version probe host (render-ats.ts). */
  private readonly probeServer = createServer((_req, res) => res.writeHead(200, { 'cache-control': 'no-store' }).end('cachectl probe'));
  private readonly probeReady: Promise<number>;

  constructor(private readonly opts: AtsEngineOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    const t = this.timeoutMs;
    this.pool = new Pool(`http://${opts.trafficListen}`, { connections: 32, headersTimeout: t, bodyTimeout: t, connect: { timeout: t } });
    this.rulesFile = join(opts.etcDir, 'regex_revalidate.config');
    this.probeReady = new Promise((resolve, reject) => {
      this.probeServer.once('error', reject).listen(opts.probePort ?? 0, '127.0.0.1', () => resolve((this.probeServer.address() as AddressInfo).port));
    });
    const remap = (() => {
      try {
        return readFileSync(join(opts.etcDir, 'remap.config'), 'utf8');
      } catch {
        return '';
      }
    })();
    this.version = Number(/domain set version (\d+)/.exec(remap)?.[1] ?? -1);
    this.hosts = [...remap.matchAll(/^map http:\/\/([^/]+)\/ http:\/\/\1\//gm)].map((m) => m[1]);
    for (const m of remap.matchAll(/^regex_map http:\/\/\(\.\+\)\\\.(\S+)\//gm)) this.hosts.push(`*.${m[1].replace(/\\\./g, '.')}`);
  }

  private serves(host: string): boolean {
    const h = host.toLowerCase();
    return this.hosts.some((d) => (d.startsWith('*.') ? h.endsWith(d.slice(1)) && h.length > d.length - 1 : d === h));
  }

  private notServed(host: string): EdgeResult {
    return { ok: false, classify: 'INNER_ERROR', retryable: true, message: `domain ${host} is not configured on this ATS` };
  }

  async purge(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return Promise.all(
      targets.map(async (t): Promise<EdgeResult> => {
        const { statusCode, body } = await this.pool.request({ method: 'PURGE', path: t.path, headers: { host: t.host } });
        const text = await body.text();
        if (statusCode === 200) return { ok: true, detail: 'purged 1' };
        // An empty 404 is "not cached"; a 404 with a body is ATS's own "Not Found on Accelerator": no
        // remap rule for the host, the purge went nowhere.
        if (statusCode === 404 && text.length === 0) return { ok: true, detail: 'purged 0' };
        if (statusCode === 404) return this.notServed(t.host);
        return { ok: false, classify: 'INNER_ERROR', retryable: statusCode >= 500, message: `ATS purge answered ${statusCode}` };
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
        // A conditional request to the origin now: the body comes again only when it changed.
        const { statusCode } = await this.get(t, { 'cache-control': 'no-cache' });
        if (statusCode === 502 || statusCode === 504) return { ok: false, classify: 'ORIGIN_ERROR', retryable: true, message: `origin unreachable (ATS answered ${statusCode})` };
        return { ok: true, detail: `revalidated (${statusCode})` };
      }),
    );
  }

  async prefetch(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return Promise.all(
      targets.map(async (t): Promise<EdgeResult> => {
        if (!this.serves(t.host)) return this.notServed(t.host);
        // A directory rule being loaded now would invalidate this fetch: let it land first.
        await this.chains.rules;
        let fetched = await this.fetchAndCheck(t);
        // A rule loaded in this second invalidates what is stored in the same second (its Date is not
        // after the rule's time, at 1 s resolution): fetch again once the second has passed.
        if (fetched.status < 400 && !fetched.stored && (this.rulesPending > 0 || Date.now() / 1000 - this.lastRuleLoad < 2)) {
          await this.chains.rules;
          await sleep(1000 - (Date.now() % 1000) + 20);
          fetched = await this.fetchAndCheck(t);
        }
        const { status, stored } = fetched;
        if (status >= 400) return { ok: false, classify: 'ORIGIN_ERROR', retryable: status === 502 || status === 504, message: `origin answered ${status}` };
        if (!stored) return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin ${status}, not stored (uncacheable: no explicit freshness, no-store or private)` };
        return { ok: true, detail: `origin ${status}` };
      }),
    );
  }

  /** GET with no-cache (a fresh copy replaces the cached one; a 304 keeps the body), then: is it stored? */
  private async fetchAndCheck(t: EdgeTarget): Promise<{ status: number; stored: boolean }> {
    const { statusCode } = await this.get(t, { 'cache-control': 'no-cache' });
    if (statusCode >= 400) return { status: statusCode, stored: false };
    // only-if-cached never goes to the origin: 504 when ATS did not keep the answer.
    const check = await this.pool.request({ method: 'HEAD', path: t.path, headers: { host: t.host, 'cache-control': 'only-if-cached' } });
    await check.body.dump();
    return { status: statusCode, stored: check.statusCode === 200 };
  }

  async health(): Promise<EdgeHealth> {
    try {
      const up = this.version >= 0 && (await this.probe(this.version));
      return { up: true, ...(up && { domainsVersion: this.version }), directPurge: { url: `http://${this.opts.trafficListen}`, method: 'PURGE', pathPrefix: '', emptyNotFound: true }, detail: `${this.hosts.length} domains, ${(await readRules(this.rulesFile)).length} revalidate rules` };
    } catch (err) {
      return { up: false, detail: (err as Error).message };
    }
  }

  applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    return this.exclusive('domains', async () => {
      const { remap, parent } = renderAts(domains, version, await this.probeReady);
      const current = await fsp.readFile(join(this.opts.etcDir, 'remap.config'), 'utf8').catch(() => '');
      // The same set again (a repeated push): no reload, each costs ATS a second or more.
      if (current === remap && (await this.probe(version).catch(() => false))) return;
      const files: Array<[string, string]> = [
        ['parent.config', parent],
        ['remap.config', remap],
      ];
      for (const [name, text] of files) {
        const file = join(this.opts.etcDir, name);
        await fsp.writeFile(`${file}.new`, text);
        await fsp.rename(`${file}.new`, file);
      }
      await this.reload();
      const wait = this.opts.reloadTimeoutMs ?? 30_000;
      const deadline = Date.now() + wait;
      while (!(await this.probe(version).catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`ATS did not take up domain set ${version} within ${wait} ms (see its log/diags.log)`);
        await sleep(20);
      }
      this.version = version;
      this.hosts = domains.map((d) => d.name.toLowerCase());
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
    this.probeServer.closeAllConnections();
    await new Promise((r) => this.probeServer.close(r));
  }

  private async get(t: EdgeTarget, headers: Record<string, string>): Promise<{ statusCode: number }> {
    const { statusCode, body } = await this.pool.request({ method: 'GET', path: t.path, headers: { host: t.host, 'user-agent': 'cachectl-agent', ...headers } });
    // Read to the end: ATS stores what it passed on completely.
    await body.dump({ limit: Number.MAX_SAFE_INTEGER });
    return { statusCode };
  }

  private async probe(version: number): Promise<boolean> {
    const { statusCode, body } = await this.pool.request({ method: 'GET', path: VERSION_PROBE_PATH, headers: { host: versionHost(version) } });
    await body.dump();
    return statusCode === 200;
  }

  private exclusive<T>(chain: 'domains' | 'rules', fn: () => Promise<T>): Promise<T> {
    const next = this.chains[chain].then(fn, fn);
    this.chains[chain] = next.catch(() => undefined);
    return next;
  }

  private addRules(targets: EdgeTarget[], type: Rule['type']): Promise<EdgeResult[]> {
    this.rulesPending++;
    return this.exclusive('rules', async () => {
      const now = Math.floor(Date.now() / 1000);
      const results: EdgeResult[] = [];
      const added: Rule[] = [];
      for (const t of targets) {
        if (!this.serves(t.host)) {
          results.push(this.notServed(t.host));
          continue;
        }
        added.push({ regex: directoryRegex(t.host, t.path), expiry: now + (this.opts.ruleTtlSec ?? 7 * 86_400), type });
        results.push({ ok: true, detail: type === 'MISS' ? 'rule MISS loaded' : 'rule STALE loaded' });
      }
      if (added.length === 0) return results;
      const rules = mergeRules(await readRules(this.rulesFile), added, now);
      await fsp.writeFile(this.rulesFile, formatRules(rules));
      // The plugin reloads the file only when its mtime (1 s resolution) is newer than at the last load:
      // give every write a later second than the one before.
      this.rulesMtime = Math.max(now, this.rulesMtime + 1);
      await fsp.utimes(this.rulesFile, this.rulesMtime, this.rulesMtime);
      const before = await fsp.stat(this.opts.stateFile).then((s) => s.mtimeMs, () => 0);
      await this.reload();
      // Confirmed when the plugin rewrote its state file (it does on every load).
      const wait = this.opts.reloadTimeoutMs ?? 30_000;
      const deadline = Date.now() + wait;
      while ((await fsp.stat(this.opts.stateFile).then((s) => s.mtimeMs, () => 0)) === before) {
        if (Date.now() > deadline) throw new Error(`regex_revalidate did not load the new rules within ${wait} ms`);
        await sleep(5);
      }
      this.lastRuleLoad = Date.now() / 1000;
      return results;
    }).finally(() => this.rulesPending--);
  }

  private async reload(): Promise<void> {
    // traffic_ctl exits 0 even when it could not reach traffic_manager: check what it printed.
    const { stdout, stderr } = await run(this.opts.trafficCtl ?? 'traffic_ctl', [`--run-root=${this.opts.runroot}`, 'config', 'reload'], { timeout: this.opts.reloadTimeoutMs ?? 30_000 });
    const said = `${stdout}${stderr}`.trim();
    if (/error|fail|cannot|could not/i.test(said)) throw new Error(`traffic_ctl config reload: ${said}`);
  }
}
