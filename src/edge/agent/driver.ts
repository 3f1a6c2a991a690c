// The control plane's driver for a node behind an edge agent (nginx, ATS). Everything goes through the
// agent, except small batches of exact purges once the agent has named the engine's own purge endpoint
// in its health answer: those go straight to the engine, one hop less (measured: the agent hop tripled
// the time a node took for a single purge on a busy 2-core machine). If the engine cannot be reached
// directly, the agent does it.
import { Pool } from 'undici';
import type { CallOptions, DirectPurge, DomainConfig, EdgeCapabilities, EdgeDriver, EdgeHealth, EdgeResult, EdgeTarget } from '../edge-driver.js';
import { BuiltinDriver } from '../builtin/driver.js';

const LOOPBACK = /^(127\.|\[::1\]|localhost$)/;
/** A wildcard listen address names no machine: connecting to it would reach our own. */
const UNSPECIFIED = /^(0\.0\.0\.0|\[::\])$/;

class RefusedDirect extends Error {}
const DIRECT_MAX_BATCH = 16;

export class AgentDriver implements EdgeDriver {
  private readonly agent: BuiltinDriver;
  private direct: { spec: DirectPurge; pool: Pool } | null = null;
  private readonly agentIsLocal: boolean;
  private refusedUrl: string | null = null;

  constructor(
    controlUrl: string,
    secret: string | undefined,
    private readonly timeoutMs = 5000,
  ) {
    this.agent = new BuiltinDriver(controlUrl, { secret, connections: 16, timeoutMs });
    this.agentIsLocal = LOOPBACK.test(new URL(controlUrl).hostname);
  }

  get capabilities(): EdgeCapabilities {
    return this.agent.capabilities;
  }

  async purge(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    const direct = this.direct;
    // Small batches (a burst of single purges: latency) go direct; big ones (1000-URL tasks: throughput)
    // go to the agent, which does the per-URL requests on its own core instead of cachectl's thread.
    if (!direct || targets.length > DIRECT_MAX_BATCH) return this.agent.purge(targets, options);
    try {
      return await Promise.all(targets.map((t) => this.purgeDirect(direct, t, options)));
    } catch (err) {
      if (err instanceof RefusedDirect) {
        // Not allowed from here: stop trying this endpoint (until the agent names another).
        this.refusedUrl = direct.spec.url;
        await this.dropDirect();
      }
      return this.agent.purge(targets, options);
    }
  }

  private async purgeDirect({ spec, pool }: NonNullable<AgentDriver['direct']>, t: EdgeTarget, options?: CallOptions): Promise<EdgeResult> {
    const timeout = Math.min(this.timeoutMs, options?.timeoutMs ?? Infinity);
    const { statusCode, body } = await pool.request({ method: spec.method as 'GET', path: `${spec.pathPrefix}${t.path}`, headers: { host: t.host }, headersTimeout: timeout, bodyTimeout: timeout });
    const text = await body.text();
    if (statusCode === 200) return { ok: true, detail: 'purged 1' };
    if (statusCode === 404 && (!spec.emptyNotFound || text.length === 0)) return { ok: true, detail: 'purged 0' };
    if (statusCode === 404) return { ok: false, classify: 'INNER_ERROR', retryable: true, message: `domain ${t.host} is not configured on this node` };
    // Not allowed from our address (nginx `allow`, ATS ip_allow): the agent, beside the engine, is.
    if (statusCode === 403 || statusCode === 405) throw new RefusedDirect(`direct purge refused with ${statusCode}`);
    return { ok: false, classify: 'INNER_ERROR', retryable: statusCode >= 500, message: `purge answered ${statusCode}` };
  }

  purgeDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.agent.purgeDirectory(targets, options);
  }

  revalidate(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.agent.revalidate(targets, options);
  }

  revalidateDirectory(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.agent.revalidateDirectory(targets, options);
  }

  prefetch(targets: EdgeTarget[], options?: CallOptions): Promise<EdgeResult[]> {
    return this.agent.prefetch(targets, options);
  }

  async health(): Promise<EdgeHealth> {
    const h = await this.agent.health();
    const spec = h.directPurge;
    // A loopback address named by a remote agent is that agent's machine, not ours: never use it.
    const host = spec && URL.canParse(spec.url) ? new URL(spec.url).hostname : undefined;
    const usable = spec && host !== undefined && spec.url !== this.refusedUrl && !UNSPECIFIED.test(host) && (this.agentIsLocal || !LOOPBACK.test(host));
    if (!usable) {
      await this.dropDirect();
    } else if (this.direct?.spec.url !== spec.url || this.direct.spec.method !== spec.method || this.direct.spec.pathPrefix !== spec.pathPrefix) {
      await this.dropDirect();
      const t = this.timeoutMs;
      this.direct = { spec, pool: new Pool(new URL(spec.url).origin, { connections: 16, headersTimeout: t, bodyTimeout: t, connect: { timeout: t } }) };
    }
    return h;
  }

  applyDomains(domains: DomainConfig[], version: number): Promise<void> {
    return this.agent.applyDomains(domains, version);
  }

  async close(): Promise<void> {
    await this.dropDirect();
    await this.agent.close();
  }

  private async dropDirect(): Promise<void> {
    const d = this.direct;
    this.direct = null;
    await d?.pool.close().catch(() => undefined);
  }
}
