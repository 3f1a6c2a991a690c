// Reading a refresh/prefetch URL the way the edges key their caches (huawei-cdn-api.md §9).
import { badParameter } from '../errors.js';

export interface ParsedTaskUrl {
  /** The URL as recorded and reported (after zh_url_encode when asked). */
  url: string;
  /** Lower-case host without port. */
  host: string;
  /** Path plus `?query`, exactly as given; for a directory, the path ending with '/'. */
  target: string;
}

/**
 * §9.2: percent-encode the non-ASCII characters only (UTF-8, upper-case hex), leaving ASCII — '%' and
 * reserved characters included — as it is.
 */
export function zhUrlEncode(url: string): string {
  let out = '';
  for (const ch of url) {
    if (ch.charCodeAt(0) < 0x80) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const WHITESPACE = /[\s\u0000-\u001f\u007f]/;
/**
 * With the `u` flag the surrogate range matches only lone surrogates, which JSON's \ud800 escapes can
 * produce and no UTF-8 can carry: the URL names no key a client can request, and zh_url_encode would
 * turn it into %EF%BF%BD. (Invalid UTF-8 in the body is refused before the body is parsed.)
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Parses without normalising: WHATWG URL would percent-encode and resolve dot segments, and the
 * edges key on the target exactly as clients send it.
 */
export function parseTaskUrl(raw: string, options: { directory: boolean; zhUrlEncode: boolean; maxLength: number }): ParsedTaskUrl {
  const url = options.zhUrlEncode ? zhUrlEncode(raw) : raw;
  if (raw.length > options.maxLength || url.length > options.maxLength) throw badParameter(`URL longer than ${options.maxLength} characters`);
  if (LONE_SURROGATE.test(raw)) throw badParameter('URL contains a lone surrogate (\\ud800-\\udfff without its pair), which is not a character');
  const scheme = /^https?:\/\//i.exec(url);
  if (!scheme) throw badParameter(`URL must start with http:// or https://: ${url.slice(0, 200)}`);
  if (WHITESPACE.test(url)) throw badParameter(`URL contains white space or control characters (percent-encode them): ${url.slice(0, 200)}`);
  const rest = url.slice(scheme[0].length);
  let end = rest.search(/[/?#]/);
  if (end < 0) end = rest.length;
  const authority = rest.slice(0, end);
  const m = /^([A-Za-z0-9.*-]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) throw badParameter(`URL has no valid host: ${url.slice(0, 200)}`);
  // Port 0 is no port a client can connect to, so no key anyone can request.
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) throw badParameter(`URL has an invalid port: ${url.slice(0, 200)}`);
  const host = m[1].toLowerCase().replace(/\.$/, '');
  let target = rest.slice(end);
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  if (target === '' || target.startsWith('?')) target = '/' + target;
  if (options.directory) {
    // A directory is a path prefix: its query string means nothing, and a missing final '/' is added
    // so that /img does not also match /images.
    const q = target.indexOf('?');
    if (q >= 0) target = target.slice(0, q);
    if (!target.endsWith('/')) target += '/';
  }
  return { url, host, target };
}

/** The names under which an account's domain may cover this host: itself, then wildcards, nearest first. */
export function domainCandidates(host: string): string[] {
  const out = [host];
  const labels = host.split('.');
  for (let i = 1; i < labels.length - 1; i++) out.push('*.' + labels.slice(i).join('.'));
  return out;
}
