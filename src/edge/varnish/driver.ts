// EdgeDriver for Varnish 7.1 (+ varnish-modules): operations are HTTP requests with control methods to
// the traffic port (see render-vcl.ts), domain pushes go through the admin CLI (vcl.inline/use/discard).
import { Pool } from 'undici';
import { createHash } from 'node:crypto';
import type { CallOptions, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { renderVcl } from './render-vcl.js';
import { VarnishAdmin } from './varnish-admin.js';

export interface VarnishDriverOptions {
  trafficUrl: string;
  /** host:port of varnishd -T. */
  adminAddress: string;
  /** Contents of the varnishd -S secret file. */
  secret: string;
  timeoutMs?: number;
  /** How long a prefetch waits for its fill when the caller does not say (CallOptions.timeoutMs). Default 10 min. */
  prefetchTimeoutMs?: number;
}

const VCL_PREFIX = 'cachectl_';
const DEFAULT_PREFETCH_TIMEOUT_MS = 600_000;
/** Escapes a path prefix for the ban regex; whitespace/quotes cannot occur (paths are percent-encoded). */
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class VarnishDriver implements EdgeDriver {
  readonly capabilities: EdgeCapabilities = { maxBatch: 64, maxInFlight: 16 };
  private readonly pool: Pool;
  private readonly admin: VarnishAdmin;

  constructor(private readonly opts: VarnishDriverOptions) {
    const t = opts.timeoutMs ?? 5000;
    this.pool = new Pool(new URL(opts.trafficUrl).origin, { connections: 16, headersTimeout: t, bodyTimeout: t, connect: { timeout: t } });
    this.admin = new VarnishAdmin(opts.adminAddress, opts.secret, t);
  }

  purge(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.each(targets, (t) => this.call('PURGE', t), purgedResult('purged'));
  }

  purgeDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    // A ban reports no count: matching happens lazily at lookup or in the lurker.
    return this.each(targets, (t) => this.call('BAN', { host: t.host, path: '/' }, { 'x-ban-url-regex': reEscape(t.path) }),
      (s) => (s === 200 ? { ok: true, detail: 'ban added' } : undefined));
  }

  revalidate(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.each(targets, (t) => this.call('SOFTPURGE', t), purgedResult('marked'));
  }

  revalidateDirectory(targets: EdgeTarget[]): Promise<EdgeResult[]> {
    return this.each(targets, (t) => this.call('XKEYSOFT', { host: t.host, path: '/' }, { 'x-dir': t.path }), purgedResult('marked'));
  }

  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    // HEAD is enough: Varnish fetches with GET and stores the body; we only read the report headers,
    // which come once the whole object is stored. Varnish waits for the origin as long as we do.
    const timeoutMs = options?.timeoutMs ?? this.opts.prefetchTimeoutMs ?? DEFAULT_PREFETCH_TIMEOUT_MS;
    const headers = { 'x-prefetch': '1', 'x-prefetch-timeout': String(Math.ceil(timeoutMs)) };
    return this.each(targets, (t) => this.call('HEAD', t, headers, timeoutMs), (status, h) => {
      const origin = Number(h['x-origin-status'] ?? status);
      if (status === 404 && h['x-origin-status'] === undefined) return undefined;    // unknown host: synth 404
      if (origin >= 400) return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin ${origin}` };
      if (h['x-stored'] !== '1') return { ok: false, classify: 'ORIGIN_ERROR', retryable: false, message: `origin ${origin}, not stored (uncacheable)` };
      return { ok: true, detail: `origin ${origin}` };
    });
  }

  async health(): Promise<EdgeHealth> {
    try {
      await this.admin.command('ping');
      const { statusCode, body } = await this.pool.request({ method: 'GET', path: '/', headers: { host: 'cachectl-health.invalid' } });
      await body.dump();
      const active = await this.activeVcl();
      const m = active && /^cachectl_(\d+)_/.exec(active);
      return { up: statusCode === 404, domainsVersion: m ? Number(m[1]) : undefined, detail: `active vcl ${active ?? '?'}` };
    } catch (e) {
      return { up: false, detail: (e as Error).message };
    }
  }

  async applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    const vcl = renderVcl(domains);
    const name = `${VCL_PREFIX}${version}_${createHash('sha256').update(vcl).digest('hex').slice(0, 12)}`;
    const list = await this.listVcl();
    if (!list.some((v) => v.name === name)) await this.admin.vclInline(name, vcl);
    if (!list.some((v) => v.name === name && v.active)) await this.admin.command('vcl.use', name);
    // Discard the others; a busy one (still serving requests) may refuse, it goes next time.
    for (const v of list) {
      if (v.name !== name) await this.admin.command('vcl.discard', v.name).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.admin.close();
    await this.pool.close();
  }

  private async listVcl(): Promise<{ name: string; active: boolean }[]> {
    // "active   auto    warm         0    cachectl_3_ab..." : status, state, temperature, busy, name.
    return (await this.admin.command('vcl.list')).split('\n').map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 5).map((f) => ({ name: f[4], active: f[0] === 'active' }));
  }

  private async activeVcl(): Promise<string | undefined> {
    return (await this.listVcl()).find((v) => v.active)?.name;
  }

  private async call(method: string, t: EdgeTarget, headers: Record<string, string> = {}, timeoutMs?: number) {
    const bound = timeoutMs === undefined ? {} : { headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
    const { statusCode, headers: h, body } = await this.pool.request({ method, path: t.path, headers: { host: t.host, ...headers }, ...bound });
    await body.dump();
    const flat: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(h)) flat[k] = Array.isArray(v) ? v[0] : v;
    return { statusCode, headers: flat };
  }

  /** Issues every target concurrently (the pool bounds sockets); transport errors reject the batch. */
  private async each(targets: EdgeTarget[], send: (t: EdgeTarget) => ReturnType<VarnishDriver['call']>,
    map: (status: number, h: Record<string, string | undefined>) => EdgeResult | undefined): Promise<EdgeResult[]> {
    const answers = await Promise.all(targets.map(send));
    return answers.map(({ statusCode, headers }) => map(statusCode, headers) ?? {
      ok: false, classify: 'INNER_ERROR', retryable: statusCode >= 500, message: `varnish answered ${statusCode}`,
    });
  }
}

function purgedResult(word: string) {
  return (status: number, h: Record<string, string | undefined>): EdgeResult | undefined =>
    status === 200 ? { ok: true, detail: `${word} ${h['x-purged'] ?? 0}` } : undefined;
}
