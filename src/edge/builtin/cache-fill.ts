// Cache fills: turning an origin answer (to a user's miss or revalidation, or to a prefetch) into a
// cache entry, stored unless a purge or a domain change overtook the fetch, or into an answer the edge
// will not store and the caller streams or discards.

import type { Flight } from './flight-table.js';
import type { OriginAnswer } from './origin-client.js';
import type { XCache } from './proxy-headers.js';
import { CacheEntry } from './edge-cache.js';
import type { EdgeCache } from './edge-cache.js';
import { checkStorable, flattenHeaders, originAgeSeconds, storedHeaders, varySignature } from './cache-policy.js';
import type { HeaderRecord } from './cache-policy.js';

export interface FillContext {
  /** The request's own host: the cache key's host, also when a wildcard domain serves it. */
  host: string;
  /** The name of the domain the answer was fetched for (`*.example.com` for a host the wildcard covers). */
  domain: string;
  target: string;
  /** The stale entry being revalidated, if any. */
  stale: CacheEntry | undefined;
  flight: Flight | null;
  authorized: boolean;
  /** The request's headers, for the Vary signature. */
  requestHeaders: HeaderRecord;
}

/** An origin answer the edge will not store; the caller streams (or discards) it. */
export interface Unstored {
  kind: 'unstored';
  reason: string;
  answer: OriginAnswer;
  /** Body chunks already read (when the size limit was only found out while reading), and the rest. */
  head: Buffer[];
  rest: AsyncIterator<Buffer> | null;
}

export interface Stored {
  kind: 'entry';
  entry: CacheEntry;
  xcache: XCache;
  stored: boolean;
  /** Not stored for other users, but the user who caused the fetch gets it. */
  setCookie: string | string[] | undefined;
}

/** The body of an Unstored answer, the chunks already read included. */
export function unstoredBody(u: Unstored): AsyncIterable<Buffer> {
  return u.rest === null ? u.answer.body : resume(u.head, u.rest);
}

export function discard(u: Unstored): void {
  if (u.rest !== null) u.answer.body.destroy();
  else u.answer.body.dump().catch(() => {});
}

async function* resume(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (;;) {
      const r = await rest.next();
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    await rest.return?.();
  }
}

type BodyRead = { kind: 'full'; body: Buffer } | { kind: 'overflow'; head: Buffer[]; rest: AsyncIterator<Buffer> };

/**
 * Reads a body up to `limit` bytes into one exactly-sized buffer (no pool slab retained by the cache).
 * With a declared length the buffer is allocated once and filled as the body arrives, so a large object
 * is held once, not twice (chunks plus copy).
 */
async function readBody(body: AsyncIterable<Buffer>, limit: number, declared: number): Promise<BodyRead> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let into = Number.isSafeInteger(declared) && declared >= 0 && declared <= limit ? Buffer.allocUnsafeSlow(declared) : null;
  for (;;) {
    const r = await it.next();
    if (r.done === true) break;
    if (into !== null && size + r.value.length <= into.length) {
      size += r.value.copy(into, size);
      continue;
    }
    if (into !== null) {
      // More than declared: go on with chunks from what was read so far.
      chunks.push(into.subarray(0, size));
      into = null;
    }
    chunks.push(r.value);
    size += r.value.length;
    if (size > limit) return { kind: 'overflow', head: chunks, rest: it };
  }
  if (into !== null) return { kind: 'full', body: size === into.length ? into : Buffer.from(into.subarray(0, size)) };
  const out = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for (const chunk of chunks) offset += chunk.copy(out, offset);
  return { kind: 'full', body: out };
}

export class CacheFill {
  constructor(
    private readonly cache: EdgeCache,
    /** Larger answers are passed through, not stored. */
    private readonly maxObjectBytes: number,
    /** The name of the domain that serves a host now, if any. */
    private readonly servedBy: (host: string) => string | undefined,
  ) {}

  /**
   * Turns an origin answer into a cache entry (stored unless a purge overtook the flight) or an Unstored
   * answer the caller must stream or discard.
   */
  async absorb(ctx: FillContext, answer: OriginAnswer): Promise<Stored | Unstored> {
    const now = Date.now();
    const { statusCode, headers } = answer;
    const stale = ctx.stale;
    if (statusCode === 304 && stale !== undefined) {
      await answer.body.dump();
      // RFC 9111 §4.3.4: the 304's headers update the stored ones; the body stays.
      const merged: HeaderRecord = { ...stale.headers, ...storedHeaders(headers, false) };
      const verdict = checkStorable(stale.status, merged, ctx.authorized, now);
      const entry = verdict.storable
        ? this.makeEntry(ctx, stale.status, merged, stale.body, verdict.lifetimeMs, verdict.noCache, verdict.varyNames, originAgeSeconds(headers), now)
        : this.makeEntry(ctx, stale.status, merged, stale.body, 0, true, null, 0, now);
      let stored = false;
      if (verdict.storable) stored = this.store(ctx, entry);
      else this.cache.remove(stale);
      return { kind: 'entry', entry, xcache: 'REVALIDATED', stored, setCookie: headers['set-cookie'] };
    }
    const verdict = checkStorable(statusCode, headers, ctx.authorized, now);
    if (!verdict.storable) return this.unstored(ctx, answer, verdict.reason, [], null);
    const length = Number(headers['content-length']);
    if (length > this.maxObjectBytes) return this.unstored(ctx, answer, this.tooLarge(length), [], null);
    const read = await readBody(answer.body, this.maxObjectBytes, length);
    if (read.kind === 'overflow') return this.unstored(ctx, answer, this.tooLarge(undefined), read.head, read.rest);
    const entry = this.makeEntry(
      ctx,
      statusCode,
      storedHeaders(headers),
      read.body,
      verdict.lifetimeMs,
      verdict.noCache,
      verdict.varyNames,
      originAgeSeconds(headers),
      now,
    );
    const stored = this.store(ctx, entry);
    return { kind: 'entry', entry, xcache: stale === undefined ? 'MISS' : 'EXPIRED', stored, setCookie: headers['set-cookie'] };
  }

  private unstored(ctx: FillContext, answer: OriginAnswer, reason: string, head: Buffer[], rest: AsyncIterator<Buffer> | null): Unstored {
    // The origin's newer answer supersedes a stale copy even though it cannot replace it.
    if (ctx.stale !== undefined) this.cache.remove(ctx.stale);
    return { kind: 'unstored', reason, answer, head, rest };
  }

  private tooLarge(length: number | undefined): string {
    return `origin response is too large to cache (${length === undefined ? 'more than' : `${length} bytes >`} ${this.maxObjectBytes} bytes)`;
  }

  private makeEntry(
    ctx: FillContext,
    status: number,
    headers: HeaderRecord,
    body: Buffer,
    lifetimeMs: number,
    noCache: boolean,
    varyNames: string[] | null,
    ageBase: number,
    now: number,
  ): CacheEntry {
    const flat = flattenHeaders(headers);
    return new CacheEntry({
      host: ctx.host,
      target: ctx.target,
      status,
      headers,
      headerList: flat.list,
      headerBytes: flat.bytes,
      body,
      storedAt: now,
      lifetimeMs: Math.max(0, lifetimeMs - ageBase * 1000),
      ageBase,
      noCache,
      varyNames,
      varySig: varyNames === null ? '' : varySignature(varyNames, ctx.requestHeaders),
    });
  }

  /**
   * Stores a fetched entry unless the admin API purged the key meanwhile, or the host is no longer
   * served by the domain the answer came from (the domain was dropped, or another one now covers the host).
   */
  private store(ctx: FillContext, entry: CacheEntry): boolean {
    const invalidated = ctx.flight?.invalidated ?? null;
    if (invalidated === 'purge' || this.servedBy(ctx.host) !== ctx.domain) {
      if (ctx.stale !== undefined) this.cache.remove(ctx.stale);
      return false;
    }
    if (invalidated === 'stale') entry.stale = true;
    return this.cache.set(entry);
  }
}
