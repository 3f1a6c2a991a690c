// Headers on the way through the built-in edge: the client's Host, what is forwarded to the origin, and
// what of the origin's answer is passed back to the client.

import type { IncomingMessage } from 'node:http';
import type { CacheEntry } from './edge-cache.js';
import { HOP_BY_HOP, connectionTokens } from './cache-policy.js';
import type { HeaderRecord } from './cache-policy.js';

/** The X-Cache value of an answer: how the cache was involved. */
export type XCache = 'HIT' | 'MISS' | 'REVALIDATED' | 'EXPIRED' | 'BYPASS';

/** Request headers never forwarded to an origin: connection-scoped ones, and what the edge sets itself. */
export const PASS_SKIP: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'expect']);
/**
 * A cache fill must get a full, unconditional answer whatever this particular client asked for; the
 * client's own conditionals are answered by the edge from the stored validators.
 */
export const FILL_SKIP: ReadonlySet<string> = new Set([
  ...PASS_SKIP,
  'content-length',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
]);

/** The host of a Host header value, lower case, without its port. */
export function hostOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let end = value.length;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = value.indexOf(':');
    if (colon !== -1) end = colon;
  }
  return (end === value.length ? value : value.slice(0, end)).toLowerCase();
}

/** The client's headers for the origin, minus `skip` and Connection-listed ones, with Host and X-Forwarded-For set. */
export function forwardHeaders(req: IncomingMessage, host: string, skip: ReadonlySet<string>, stale: CacheEntry | undefined): string[] {
  const raw = req.rawHeaders;
  const out: string[] = ['host', host];
  const connection = req.headers.connection;
  const listed = connection === undefined ? null : connectionTokens(connection);
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (skip.has(name) || (listed !== null && listed.includes(name))) continue;
    if (name === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
      continue;
    }
    out.push(raw[i], raw[i + 1]);
  }
  const peer = req.socket.remoteAddress ?? 'unknown';
  out.push('x-forwarded-for', xff === undefined ? peer : `${xff}, ${peer}`);
  if (stale?.etag !== undefined) out.push('if-none-match', stale.etag);
  if (stale?.lastModified !== undefined) out.push('if-modified-since', stale.lastModified);
  return out;
}

/** Origin response headers for a passed-through answer: all but the connection-scoped ones. */
export function passHeaders(headers: HeaderRecord, xcache: XCache): string[] {
  const connection = headers['connection'];
  const listed = connection === undefined ? null : connectionTokens(connection);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'x-cache' || (listed !== null && listed.includes(name))) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  out.push('x-cache', xcache);
  return out;
}
