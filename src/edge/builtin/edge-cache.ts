// The built-in edge's object store: entries indexed by host, then by request target, with one LRU list
// across all hosts bounded by bytes. Entries are immutable apart from their list links and the stale
// mark; a refresh (a new body, or new headers after a 304) replaces the entry object.

import type { HeaderRecord } from './cache-policy.js';

/** Per-entry bookkeeping not covered by body and headers (object, links, map slots), roughly. */
const ENTRY_OVERHEAD_BYTES = 160;

export interface EntryInit {
  host: string;
  /** The request target exactly as received: path plus `?query`. */
  target: string;
  status: number;
  /** Stored origin headers (see storedHeaders), kept for 304 merges. */
  headers: HeaderRecord;
  /** The same headers flattened for res.writeHead. */
  headerList: string[];
  /** Approximate size of the headers in bytes. */
  headerBytes: number;
  body: Buffer;
  /** When the entry was stored or last revalidated (ms since epoch). */
  storedAt: number;
  /** Freshness lifetime in ms, already reduced by the origin's Age. */
  lifetimeMs: number;
  /** Origin's Age at storedAt, in seconds (added to the Age the edge reports). */
  ageBase: number;
  /** Cache-Control: no-cache: stored, but revalidated before every use. */
  noCache: boolean;
  /** Vary field names of the answer, and the signature of the request it was stored for. */
  varyNames: string[] | null;
  varySig: string;
}

export class CacheEntry {
  readonly host: string;
  readonly target: string;
  readonly status: number;
  readonly headers: HeaderRecord;
  readonly headerList: string[];
  readonly body: Buffer;
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly ageBase: number;
  readonly noCache: boolean;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  readonly varyNames: string[] | null;
  readonly varySig: string;
  /** Precomputed so a hit does not format it again. */
  readonly contentLength: string;
  readonly size: number;
  /** Set by an admin revalidate: the next use revalidates whatever the freshness says. */
  stale = false;
  /** LRU links; `prev` is towards the most recently used end. */
  prev: CacheEntry | null = null;
  next: CacheEntry | null = null;

  constructor(init: EntryInit) {
    this.host = init.host;
    this.target = init.target;
    this.status = init.status;
    this.headers = init.headers;
    this.headerList = init.headerList;
    this.body = init.body;
    this.storedAt = init.storedAt;
    this.freshUntil = init.storedAt + init.lifetimeMs;
    this.ageBase = init.ageBase;
    this.noCache = init.noCache;
    const etag = init.headers['etag'];
    const lastModified = init.headers['last-modified'];
    this.etag = typeof etag === 'string' ? etag : etag?.[0];
    this.lastModified = typeof lastModified === 'string' ? lastModified : lastModified?.[0];
    this.varyNames = init.varyNames;
    this.varySig = init.varySig;
    this.contentLength = String(init.body.length);
    this.size = init.body.length + init.headerBytes + init.target.length + ENTRY_OVERHEAD_BYTES;
  }

  /** Usable without asking the origin. */
  isFresh(now: number): boolean {
    return !this.stale && !this.noCache && now < this.freshUntil;
  }

  /** The Age header value: whole seconds since stored or revalidated, plus the origin's own Age. */
  ageSeconds(now: number): number {
    return this.ageBase + Math.max(0, Math.floor((now - this.storedAt) / 1000));
  }
}

export class EdgeCache {
  private readonly byHost = new Map<string, Map<string, CacheEntry>>();
  /** Most recently used. */
  private head: CacheEntry | null = null;
  /** Least recently used: evicted first. */
  private tail: CacheEntry | null = null;
  private totalBytes = 0;
  private count = 0;

  constructor(readonly maxBytes: number) {}

  get entries(): number {
    return this.count;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Looks an entry up and marks it most recently used. */
  get(host: string, target: string): CacheEntry | undefined {
    const entry = this.byHost.get(host)?.get(target);
    if (entry !== undefined && entry !== this.head) {
      this.unlink(entry);
      this.pushFront(entry);
    }
    return entry;
  }

  /** Stores an entry, replacing the one under the same key, then evicts to fit. false if it can never fit. */
  set(entry: CacheEntry): boolean {
    if (entry.size > this.maxBytes) return false;
    let targets = this.byHost.get(entry.host);
    if (targets === undefined) {
      targets = new Map();
      this.byHost.set(entry.host, targets);
    }
    const previous = targets.get(entry.target);
    if (previous !== undefined) this.forget(previous);
    targets.set(entry.target, entry);
    this.pushFront(entry);
    this.totalBytes += entry.size;
    this.count++;
    while (this.totalBytes > this.maxBytes && this.tail !== null) this.remove(this.tail);
    return true;
  }

  /** Removes this very entry if it is still the stored one for its key (not a newer replacement). */
  remove(entry: CacheEntry): boolean {
    const targets = this.byHost.get(entry.host);
    if (targets === undefined || targets.get(entry.target) !== entry) return false;
    targets.delete(entry.target);
    if (targets.size === 0) this.byHost.delete(entry.host);
    this.forget(entry);
    return true;
  }

  /** Evicts one key; returns how many entries went (0 or 1). */
  purge(host: string, target: string): number {
    const entry = this.byHost.get(host)?.get(target);
    return entry !== undefined && this.remove(entry) ? 1 : 0;
  }

  /** Evicts every key of the host whose target starts with the prefix; walks only that host's entries. */
  purgePrefix(host: string, prefix: string): number {
    const targets = this.byHost.get(host);
    if (targets === undefined) return 0;
    let n = 0;
    for (const entry of targets.values()) {
      if (entry.target.startsWith(prefix) && this.remove(entry)) n++;
    }
    return n;
  }

  /** Marks one key stale; returns how many entries were marked (0 or 1). */
  markStale(host: string, target: string): number {
    const entry = this.byHost.get(host)?.get(target);
    if (entry === undefined) return 0;
    entry.stale = true;
    return 1;
  }

  markStalePrefix(host: string, prefix: string): number {
    const targets = this.byHost.get(host);
    if (targets === undefined) return 0;
    let n = 0;
    for (const entry of targets.values()) {
      if (entry.target.startsWith(prefix)) {
        entry.stale = true;
        n++;
      }
    }
    return n;
  }

  /** The hosts that have entries (a snapshot: dropping hosts while walking it is fine). */
  hosts(): string[] {
    return [...this.byHost.keys()];
  }

  /** Drops everything of one host (a host the node no longer serves, or now serves from another domain). */
  dropHost(host: string): number {
    const targets = this.byHost.get(host);
    if (targets === undefined) return 0;
    const n = targets.size;
    for (const entry of targets.values()) this.forget(entry);
    this.byHost.delete(host);
    return n;
  }

  clear(): void {
    this.byHost.clear();
    this.head = this.tail = null;
    this.totalBytes = 0;
    this.count = 0;
  }

  /** Takes an entry off the LRU list and the byte count (the caller updates the index). */
  private forget(entry: CacheEntry): void {
    this.unlink(entry);
    this.totalBytes -= entry.size;
    this.count--;
  }

  private pushFront(entry: CacheEntry): void {
    entry.prev = null;
    entry.next = this.head;
    if (this.head !== null) this.head.prev = entry;
    this.head = entry;
    if (this.tail === null) this.tail = entry;
  }

  private unlink(entry: CacheEntry): void {
    if (entry.prev !== null) entry.prev.next = entry.next;
    else if (this.head === entry) this.head = entry.next;
    if (entry.next !== null) entry.next.prev = entry.prev;
    else if (this.tail === entry) this.tail = entry.prev;
    entry.prev = entry.next = null;
  }
}
