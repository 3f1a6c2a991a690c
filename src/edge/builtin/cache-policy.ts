// HTTP caching rules of the built-in edge (a shared cache, RFC 9111), as pure functions over lower-cased
// header records (what node:http and undici both hand out). They run once per origin answer, never on a
// cache hit, except the small request-side checks at the bottom.

/** Header records as node:http (IncomingHttpHeaders) and undici give them: lower-case names. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/** The only statuses the edge stores (a heuristic-free subset of RFC 9110's "cacheable by default"). */
const STORABLE_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

/** Connection-scoped headers (RFC 9110 §7.6.1 plus the usual proxy ones): never forwarded, never stored. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Response headers the cache recomputes (X-Cache: an upstream cache's own) or must not replay to other users. */
const NOT_STORED: ReadonlySet<string> = new Set(['content-length', 'age', 'x-cache', 'set-cookie']);

export interface CacheControl {
  noStore: boolean;
  noCache: boolean;
  private: boolean;
  public: boolean;
  mustRevalidate: boolean;
  /** Seconds; undefined when absent. An unparsable value counts as 0 (already stale). */
  maxAge: number | undefined;
  sMaxAge: number | undefined;
}

/** Parses one or more Cache-Control field values; unknown directives are ignored. */
export function parseCacheControl(value: string | string[] | undefined): CacheControl {
  const cc: CacheControl = {
    noStore: false,
    noCache: false,
    private: false,
    public: false,
    mustRevalidate: false,
    maxAge: undefined,
    sMaxAge: undefined,
  };
  if (value === undefined) return cc;
  const text = typeof value === 'string' ? value : value.join(',');
  // A small scanner rather than split(','): quoted arguments such as no-cache="a, b" may hold commas.
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    const nameStart = i;
    while (i < n && text[i] !== '=' && text[i] !== ',') i++;
    const name = text.slice(nameStart, i).trim().toLowerCase();
    let arg: string | undefined;
    if (i < n && text[i] === '=') {
      i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === '"') {
        const end = text.indexOf('"', i + 1);
        arg = text.slice(i + 1, end === -1 ? n : end);
        i = end === -1 ? n : end + 1;
        while (i < n && text[i] !== ',') i++;
      } else {
        const argStart = i;
        while (i < n && text[i] !== ',') i++;
        arg = text.slice(argStart, i).trim();
      }
    }
    switch (name) {
      case 'no-store':
        cc.noStore = true;
        break;
      // The field-name forms (no-cache="Set-Cookie", private="X") are treated as the plain directive:
      // the cautious reading for a cache that does not strip fields selectively.
      case 'no-cache':
        cc.noCache = true;
        break;
      case 'private':
        cc.private = true;
        break;
      case 'public':
        cc.public = true;
        break;
      case 'must-revalidate':
      case 'proxy-revalidate':
        cc.mustRevalidate = true;
        break;
      case 'max-age':
        cc.maxAge = deltaSeconds(arg);
        break;
      case 's-maxage':
        cc.sMaxAge = deltaSeconds(arg);
        break;
    }
  }
  return cc;
}

function deltaSeconds(arg: string | undefined): number {
  if (arg === undefined || !/^\d+$/.test(arg)) return 0;
  const n = Number(arg);
  return Number.isSafeInteger(n) ? n : 2 ** 31; // RFC 9111 §1.2.2: overflow means "a very long time"
}

function first(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

/**
 * The explicit freshness lifetime in ms: s-maxage, else max-age, else Expires − Date (Date defaulting to
 * `now`, an unparsable Expires meaning "already expired"). undefined when the origin gave none.
 */
export function freshnessLifetimeMs(cc: CacheControl, headers: HeaderRecord, now: number): number | undefined {
  if (cc.sMaxAge !== undefined) return cc.sMaxAge * 1000;
  if (cc.maxAge !== undefined) return cc.maxAge * 1000;
  const expires = first(headers['expires']);
  if (expires === undefined) return undefined;
  const exp = Date.parse(expires);
  if (Number.isNaN(exp)) return 0;
  const dateHeader = first(headers['date']);
  const date = dateHeader === undefined ? NaN : Date.parse(dateHeader);
  return Math.max(0, exp - (Number.isNaN(date) ? now : date));
}

/** The origin's Age header in seconds (0 when absent or malformed). */
export function originAgeSeconds(headers: HeaderRecord): number {
  const age = first(headers['age']);
  if (age === undefined || !/^\d+$/.test(age)) return 0;
  return Number(age);
}

export type Storability =
  | { storable: true; lifetimeMs: number; noCache: boolean; varyNames: string[] | null }
  | { storable: false; reason: string };

/**
 * May the edge store this origin answer, and for how long is it fresh? `authorized`: the request carried
 * Authorization (RFC 9111 §3.5: a shared cache then stores only with public, s-maxage or must-revalidate).
 * Answers that would be stale on arrival and carry no validator are refused: every use would refetch
 * them in full, so storing them only wastes memory.
 */
export function checkStorable(status: number, headers: HeaderRecord, authorized: boolean, now: number): Storability {
  if (!STORABLE_STATUSES.has(status)) return { storable: false, reason: `status ${status} may not be cached` };
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.noStore) return { storable: false, reason: 'origin response may not be cached (Cache-Control: no-store)' };
  if (cc.private) return { storable: false, reason: 'origin response may not be cached (Cache-Control: private)' };
  if (authorized && !cc.public && cc.sMaxAge === undefined && !cc.mustRevalidate) {
    return { storable: false, reason: 'response to an authorized request is not marked public' };
  }
  const varyNames = parseVary(headers['vary']);
  if (varyNames === '*') return { storable: false, reason: 'origin response varies on everything (Vary: *)' };
  // no-cache is explicit enough on its own: "store, but it is stale from the start".
  const lifetimeMs = freshnessLifetimeMs(cc, headers, now) ?? (cc.noCache ? 0 : undefined);
  if (lifetimeMs === undefined) {
    return { storable: false, reason: 'origin response has no explicit freshness (no Cache-Control max-age/s-maxage, no Expires)' };
  }
  if ((cc.noCache || lifetimeMs === 0) && headers['etag'] === undefined && headers['last-modified'] === undefined) {
    return { storable: false, reason: 'origin response must be revalidated on every use but has no ETag or Last-Modified' };
  }
  return { storable: true, lifetimeMs, noCache: cc.noCache, varyNames };
}

/** Lower-cased field names of Vary, '*' for Vary: *, null when the answer does not vary. */
export function parseVary(value: string | string[] | undefined): string[] | '*' | null {
  if (value === undefined) return null;
  const names: string[] = [];
  for (const part of (typeof value === 'string' ? value : value.join(',')).split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*') return '*';
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  return names.length === 0 ? null : names;
}

/** The request's values of the Vary fields, joined so that two requests compare with one string test. */
export function varySignature(names: readonly string[], requestHeaders: HeaderRecord): string {
  let sig = '';
  for (const name of names) {
    const v = requestHeaders[name];
    sig += (v === undefined ? '\u0000' : typeof v === 'string' ? v : v.join(',')) + '\u0001';
  }
  return sig;
}

/**
 * The origin headers worth storing (kept as a record for 304 merges and later policy decisions).
 * `contentHeadersToo: false` drops Content-* (used for a 304, whose headers must not redefine the body).
 */
export function storedHeaders(headers: HeaderRecord, contentHeadersToo = true): HeaderRecord {
  const connection = headers['connection'];
  const listed = connection === undefined ? null : connectionTokens(connection);
  const out: HeaderRecord = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_STORED.has(name)) continue;
    if (listed !== null && listed.includes(name)) continue;
    if (!contentHeadersToo && name.startsWith('content-')) continue;
    out[name] = value;
  }
  return out;
}

/** Flattens a header record for res.writeHead, and measures it (for the cache's byte accounting). */
export function flattenHeaders(headers: HeaderRecord): { list: string[]; bytes: number } {
  const list: string[] = [];
  let bytes = 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') {
      list.push(name, value);
      bytes += name.length + value.length + 4;
    } else {
      for (const v of value) {
        list.push(name, v);
        bytes += name.length + v.length + 4;
      }
    }
  }
  return { list, bytes };
}

/** The lower-cased tokens of a Connection header: more hop-by-hop field names for this message. */
export function connectionTokens(value: string | string[]): string[] {
  const text = typeof value === 'string' ? value : value.join(',');
  return text.split(',').map((t) => t.trim().toLowerCase());
}

/**
 * Whether a client's conditional GET is satisfied by what the edge holds (RFC 9110 §13.2.2 order:
 * If-None-Match, when present, decides; If-Modified-Since only without it). Only for 200 answers.
 */
export function clientNotModified(
  requestHeaders: HeaderRecord,
  status: number,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  if (status !== 200) return false;
  const inm = requestHeaders['if-none-match'];
  if (inm !== undefined) return etag !== undefined && etagListMatches(typeof inm === 'string' ? inm : inm.join(','), etag);
  const ims = first(requestHeaders['if-modified-since']);
  if (ims === undefined || lastModified === undefined) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

/** Weak comparison (W/"x" equals "x"), as If-None-Match uses. */
function etagListMatches(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  const want = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of list.split(',')) {
    const tag = part.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === want) return true;
  }
  return false;
}
