// How long a prefetch may take on a node, per URL host: the domain's own setting (cachectl's, set with
// PUT /cachectl/v1/domains/{name}/prefetch-timeout) or the server's --prefetch-timeout-ms. Read from the
// store now and then, so a change made through another serve process reaches this one too.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { listPrefetchTimeouts } from '../store/repositories/domain-repository.js';

const REFRESH_MS = 5000;

export class PrefetchTimeouts {
  private byName = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    readonly defaultMs: number,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  /** Loads the domains' settings, and again every few seconds until stop(). */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch((err: unknown) => this.log('reading prefetch timeouts failed', err)), REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async reload(): Promise<void> {
    const rows = await listPrefetchTimeouts(this.db);
    this.byName = new Map(rows.map((r) => [r.name, r.ms]));
  }

  /** The timeout for a URL host: its exact domain, else the nearest wildcard domain that covers it. */
  of(host: string): number {
    if (this.byName.size === 0) return this.defaultMs;
    const h = host.toLowerCase();
    const exact = this.byName.get(h);
    if (exact !== undefined) return exact;
    for (let dot = h.indexOf('.'); dot !== -1; dot = h.indexOf('.', dot + 1)) {
      const wild = this.byName.get(`*${h.slice(dot)}`);
      if (wild !== undefined) return wild;
    }
    return this.defaultMs;
  }
}
