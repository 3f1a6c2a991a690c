// Huawei Cloud `SDK-HMAC-SHA256` request signing (spec §13): the canonical request and its signature,
// shared by the clients (`signRequest`: our CLI, bench, tests) and the API's verification
// (src/api/auth/verify-signature.ts).
//
// Pure functions, no framework code. The server canonicalizes every API call, so the
// hot path avoids regexes and needless allocations: typical CDN paths and queries are plain ASCII and
// take the fast paths below.
//
// Internally, decoded URL components are held as "byte strings": JS strings whose every char code is
// 0-255 and stands for one byte. Comparing two byte strings with `<` is byte-order comparison, and
// re-encoding one needs no UTF-8 step, so invalid UTF-8 sent as %XX escapes round-trips the way the
// Go SDK (whose strings are bytes) would see it.
import crypto from 'node:crypto';
import { formatSdkDate } from './sdk-date.js';

export const SDK_ALGORITHM = 'SDK-HMAC-SHA256';

/** sha256 of no bytes: the HashedPayload of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const DATE_HEADER = 'x-sdk-date';
export const CONTENT_SHA256_HEADER = 'x-sdk-content-sha256';
/** The one X-Sdk-Content-Sha256 value the SDKs send (for non-JSON bodies, spec §13.2). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

// ---------------------------------------------------------------------------------------------------
// Character tables

/** 1 for the RFC 3986 unreserved set: A-Z a-z 0-9 - _ . ~ */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x7e
  ) {
    UNRESERVED[c] = 1;
  }
}

/** '%XX' (uppercase) for every byte. */
const PCT: string[] = [];
for (let b = 0; b < 256; b++) PCT.push('%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase());

/** Hex digit value, or -1. */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

// ---------------------------------------------------------------------------------------------------
// Encoding helpers

/** UTF-8 bytes of `text` as a byte string (identity for ASCII). */
function toByteString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.from(text, 'utf8').toString('latin1');
  }
  return text;
}

/** RFC 3986-encodes a byte string. */
function encodeBytes(bytes: string): string {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const c = bytes.charCodeAt(i);
    if (c >= 128 || UNRESERVED[c] === 0) break;
    i++;
  }
  if (i === n) return bytes;
  let out = bytes.slice(0, i);
  let run = i; // start of the pending run of unreserved chars
  for (; i < n; i++) {
    const c = bytes.charCodeAt(i);
    if (c < 128 && UNRESERVED[c] === 1) continue;
    if (run < i) out += bytes.slice(run, i);
    out += PCT[c & 0xff];
    run = i + 1;
  }
  if (run < n) out += bytes.slice(run);
  return out;
}

/**
 * Percent-decodes one raw URL component into a byte string. `plusIsSpace` for query components.
 * A '%' not followed by two hex digits is kept literally. Non-ASCII chars (never on the wire through
 * Node's HTTP parser, but possible from other callers) become their UTF-8 bytes.
 */
function decodeComponent(raw: string, plusIsSpace: boolean): string {
  const n = raw.length;
  let i = 0;
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 || c >= 0x80 || (plusIsSpace && c === 0x2b)) break;
    i++;
  }
  if (i === n) return raw;
  let out = raw.slice(0, i);
  let run = i;
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hi = i + 2 < n ? hexVal(raw.charCodeAt(i + 1)) : -1;
      const lo = hi >= 0 ? hexVal(raw.charCodeAt(i + 2)) : -1;
      if (lo >= 0) {
        if (run < i) out += raw.slice(run, i);
        out += String.fromCharCode((hi << 4) | lo);
        i += 3;
        run = i;
        continue;
      }
      i++; // malformed escape: keep the '%' literally
      continue;
    }
    if (plusIsSpace && c === 0x2b) {
      if (run < i) out += raw.slice(run, i);
      out += ' ';
      i++;
      run = i;
      continue;
    }
    if (c >= 0x80) {
      if (run < i) out += raw.slice(run, i);
      let j = i + 1;
      while (j < n && raw.charCodeAt(j) >= 0x80) j++;
      out += Buffer.from(raw.slice(i, j), 'utf8').toString('latin1');
      i = j;
      run = i;
      continue;
    }
    i++;
  }
  if (run < n) out += raw.slice(run);
  return out;
}

/** RFC 3986 encoding (keep A-Z a-z 0-9 - _ . ~), of the UTF-8 bytes, uppercase hex. */
export function rfc3986(text: string): string {
  return encodeBytes(toByteString(text));
}

// ---------------------------------------------------------------------------------------------------
// Canonical URI and query

/** true when every char is unreserved or '/': the canonical form is the path itself (+ '/'). */
function isPlainPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c !== 0x2f && (c >= 128 || UNRESERVED[c] === 0)) return false;
  }
  return true;
}

/** Canonical URI from the raw request path as received (percent-decoded per segment, then re-encoded; trailing '/' added). */
export function canonicalUri(rawPath: string): string {
  let out: string;
  if (isPlainPath(rawPath)) {
    out = rawPath;
  } else {
    out = '';
    let start = 0;
    for (;;) {
      const slash = rawPath.indexOf('/', start);
      const end = slash === -1 ? rawPath.length : slash;
      out += encodeBytes(decodeComponent(rawPath.slice(start, end), false));
      if (slash === -1) break;
      out += '/';
      start = slash + 1;
    }
  }
  return out.length > 0 && out.charCodeAt(out.length - 1) === 0x2f ? out : out + '/';
}

/** Sorts [key, value] byte-string pairs by key then value (byte order) and emits the canonical string. */
function canonicalFromPairs(pairs: Array<[string, string]>): string {
  if (pairs.length === 0) return '';
  if (pairs.length > 1) {
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (i > 0) out += '&';
    out += encodeBytes(p[0]) + '=' + encodeBytes(p[1]);
  }
  return out;
}

/**
 * Canonical query from the RAW query string as received on the wire: split on '&' (empty parts
 * skipped), a bare key = empty value, '+' = space, percent-decode (malformed escapes kept literally),
 * sort keys by byte order and values per key, re-encode.
 */
export function canonicalQueryFromRaw(rawQuery: string): string {
  if (rawQuery.length === 0) return '';
  const pairs: Array<[string, string]> = [];
  let start = 0;
  const n = rawQuery.length;
  while (start <= n) {
    let amp = rawQuery.indexOf('&', start);
    if (amp === -1) amp = n;
    if (amp > start) {
      const eq = rawQuery.indexOf('=', start);
      if (eq === -1 || eq > amp) {
        pairs.push([decodeComponent(rawQuery.slice(start, amp), true), '']);
      } else {
        pairs.push([decodeComponent(rawQuery.slice(start, eq), true), decodeComponent(rawQuery.slice(eq + 1, amp), true)]);
      }
    }
    start = amp + 1;
  }
  return canonicalFromPairs(pairs);
}

// ---------------------------------------------------------------------------------------------------
// Canonical request, string to sign, signature

export interface SignableRequest {
  method: string;
  /** The path as received, before '?'. */
  rawPath: string;
  /** The query as received, after '?' (no '?'); '' when none. */
  rawQuery: string;
  /** Lower-case names as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** sha256 hex of the raw body bytes received. Always what the canonical request hashes, except for an empty body sent as UNSIGNED-PAYLOAD. */
  bodySha256Hex: string;
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

function buildCanonicalRequest(
  method: string,
  uri: string,
  query: string,
  headers: Record<string, string | string[] | undefined>,
  signedHeaders: string[],
  hashedPayload: string,
): string {
  let canonicalHeaders = '';
  for (let i = 0; i < signedHeaders.length; i++) {
    const name = signedHeaders[i];
    const v = headerValue(headers, name);
    canonicalHeaders += name + ':' + (v === undefined ? '' : v.trim()) + '\n';
  }
  return (
    method.toUpperCase() +
    '\n' +
    uri +
    '\n' +
    query +
    '\n' +
    canonicalHeaders +
    '\n' +
    signedHeaders.join(';') +
    '\n' +
    hashedPayload
  );
}

/**
 * The canonical request (spec §13.1 step 7) for `signedHeaders` (lower-case, in the order given, which
 * is the order the client signed them in: sorted). A listed header that is absent contributes `name:`.
 */
export function canonicalRequest(req: SignableRequest, signedHeaders: string[], hashedPayload = req.bodySha256Hex): string {
  return buildCanonicalRequest(req.method, canonicalUri(req.rawPath), canonicalQueryFromRaw(req.rawQuery), req.headers, signedHeaders, hashedPayload);
}

export function sha256Hex(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export function stringToSign(sdkDate: string, canonicalRequestText: string): string {
  return SDK_ALGORITHM + '\n' + sdkDate + '\n' + sha256Hex(canonicalRequestText);
}

export function signatureBytes(secretKey: string, sdkDate: string, canonicalRequestText: string): Buffer {
  return crypto.createHmac('sha256', secretKey).update(stringToSign(sdkDate, canonicalRequestText)).digest();
}

export function computeSignature(secretKey: string, sdkDate: string, canonicalRequestText: string): string {
  return signatureBytes(secretKey, sdkDate, canonicalRequestText).toString('hex');
}

// ---------------------------------------------------------------------------------------------------
// Signing (client side: our CLI, the bench and tests)

/**
 * Signs like the official Node SDK does: returns the headers to add (`X-Sdk-Date`, `Authorization`).
 *
 * - `headers`: the headers the request will carry, any case. Include `host` (host:port as the client
 *   connects) to have it signed, as the Node and Python SDKs do.
 * - `signedHeaders` default: all given header names lower-cased, plus `x-sdk-date`. An explicit list is
 *   used as given (lower-cased, de-duplicated, sorted); it is not forced to contain `x-sdk-date`.
 * - The date: `now` when given, else an `X-Sdk-Date` already in `headers`, else the current time.
 * - The body hash: an `X-Sdk-Content-Sha256` header in `headers` verbatim, else sha256 of `body`.
 */
export function signRequest(input: {
  method: string;
  path: string;
  query?: Array<[string, string]>;
  headers: Record<string, string>;
  body?: string | Buffer;
  accessKey: string;
  secretKey: string;
  now?: number;
  signedHeaders?: string[];
}): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const name of Object.keys(input.headers)) lower[name.toLowerCase()] = String(input.headers[name]);
  let date: string;
  if (input.now !== undefined) date = formatSdkDate(input.now);
  else if (lower[DATE_HEADER] !== undefined) date = lower[DATE_HEADER];
  else date = formatSdkDate(Date.now());
  lower[DATE_HEADER] = date;

  const names = [...new Set((input.signedHeaders ?? Object.keys(lower)).map((n) => n.toLowerCase()))].sort();
  const pairs: Array<[string, string]> = (input.query ?? []).map(([k, v]) => [toByteString(String(k)), toByteString(String(v))]);
  const body = input.body;
  const bodyHash = lower[CONTENT_SHA256_HEADER] ?? (body === undefined || body.length === 0 ? EMPTY_SHA256 : sha256Hex(body));
  const text = buildCanonicalRequest(input.method, canonicalUri(input.path), canonicalFromPairs(pairs), lower, names, bodyHash);
  const signature = computeSignature(input.secretKey, date, text);
  return {
    'X-Sdk-Date': date,
    Authorization: `${SDK_ALGORITHM} Access=${input.accessKey}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}
