// The API's side of `SDK-HMAC-SHA256` (spec §13): parsing the Authorization header and verifying a
// received request against a key's secret. The canonical request and the signature itself are the
// signer's (src/signing/sdk-signature.ts), shared with the clients.
import crypto from 'node:crypto';
import { parseSdkDate } from '../../signing/sdk-date.js';
import {
  canonicalRequest,
  CONTENT_SHA256_HEADER,
  DATE_HEADER,
  EMPTY_SHA256,
  headerValue,
  SDK_ALGORITHM,
  signatureBytes,
  UNSIGNED_PAYLOAD,
  type SignableRequest,
} from '../../signing/sdk-signature.js';

export interface ParsedAuthorization {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

// ---------------------------------------------------------------------------------------------------
// Authorization header

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `name=` at `pos`? Returns the index after it, or -1. */
function expectLabel(header: string, pos: number, label: string): number {
  return header.startsWith(label, pos) ? pos + label.length : -1;
}

/**
 * Parses `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<64 lowercase hex>`.
 * null when the header is not well formed. Lenient about whitespace after the algorithm name and after
 * commas (none, or several spaces/tabs), and about surrounding whitespace; the names in SignedHeaders
 * are lower-cased; an empty name (`a;;b`) makes the header malformed.
 */
export function parseAuthorization(header: string): ParsedAuthorization | null {
  if (typeof header !== 'string') return null;
  let end = header.length;
  while (end > 0 && isWs(header.charCodeAt(end - 1))) end--;
  let pos = 0;
  while (pos < end && isWs(header.charCodeAt(pos))) pos++;
  if (!header.startsWith(SDK_ALGORITHM, pos)) return null;
  pos += SDK_ALGORITHM.length;
  if (pos >= end || !isWs(header.charCodeAt(pos))) return null;
  while (pos < end && isWs(header.charCodeAt(pos))) pos++;

  // Access=<not comma>+
  pos = expectLabel(header, pos, 'Access=');
  if (pos < 0) return null;
  let comma = header.indexOf(',', pos);
  if (comma === -1 || comma >= end || comma === pos) return null;
  const accessKey = header.slice(pos, comma);
  pos = comma + 1;
  while (pos < end && isWs(header.charCodeAt(pos))) pos++;

  // SignedHeaders=<not comma>+
  pos = expectLabel(header, pos, 'SignedHeaders=');
  if (pos < 0) return null;
  comma = header.indexOf(',', pos);
  if (comma === -1 || comma >= end || comma === pos) return null;
  const signedHeaders: string[] = [];
  let s = pos;
  for (;;) {
    let semi = header.indexOf(';', s);
    if (semi === -1 || semi > comma) semi = comma;
    if (semi === s) return null;
    const name = header.slice(s, semi);
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c <= 0x20 || c >= 0x7f) return null; // no whitespace or control chars inside a header name
    }
    signedHeaders.push(name.toLowerCase());
    if (semi === comma) break;
    s = semi + 1;
  }
  pos = comma + 1;
  while (pos < end && isWs(header.charCodeAt(pos))) pos++;

  // Signature=<64 lowercase hex> and nothing after
  pos = expectLabel(header, pos, 'Signature=');
  if (pos < 0 || end - pos !== 64) return null;
  for (let i = pos; i < end; i++) {
    const c = header.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return null;
  }
  return { accessKey, signedHeaders, signature: header.slice(pos, end) };
}

/**
 * The HashedPayload line the server uses: always the hash of the body received. The spec lets the
 * client put `X-Sdk-Content-Sha256` there instead (§13.1 step 6), but a header is not proof of the
 * body: taken verbatim, it let one signed request carry any other body for 15 minutes. So the header
 * is honoured only as `UNSIGNED-PAYLOAD` on a request with no body (nothing to swap); any other value
 * must be the received body's hash, and `UNSIGNED-PAYLOAD` with a body is refused (every API body is
 * JSON, which the SDKs always sign).
 */
function serverHashedPayload(headers: Record<string, string | string[] | undefined>, bodySha256Hex: string): string | 'unsigned_body' | 'hash_mismatch' {
  const claimed = headerValue(headers, CONTENT_SHA256_HEADER);
  if (claimed === undefined) return bodySha256Hex;
  if (claimed === UNSIGNED_PAYLOAD) return bodySha256Hex === EMPTY_SHA256 ? UNSIGNED_PAYLOAD : 'unsigned_body';
  return claimed.toLowerCase() === bodySha256Hex ? bodySha256Hex : 'hash_mismatch';
}

// ---------------------------------------------------------------------------------------------------
// Verification

export type VerifyFailure = 'malformed' | 'missing_date' | 'date_not_signed' | 'clock_skew' | 'unsigned_body' | 'hash_mismatch' | 'bad_signature';

/**
 * Verifies a request against a known secret key. Checks, in order: the signature is 64 lowercase hex
 * ('malformed'), X-Sdk-Date is present ('missing_date'), `x-sdk-date` is in SignedHeaders
 * ('date_not_signed'), X-Sdk-Date parses ('malformed'), it is within ±maxSkewMs of nowMs inclusive
 * ('clock_skew'), that an X-Sdk-Content-Sha256 header does not stand in for a body it does not describe
 * ('unsigned_body', 'hash_mismatch'), and finally the signature, compared in constant time ('bad_signature').
 */
export function verifySignature(
  req: SignableRequest,
  auth: ParsedAuthorization,
  secretKey: string,
  nowMs: number,
  maxSkewMs = 15 * 60_000,
): { ok: true } | { ok: false; reason: VerifyFailure } {
  const sig = auth.signature;
  if (typeof sig !== 'string' || sig.length !== 64) return { ok: false, reason: 'malformed' };
  for (let i = 0; i < 64; i++) {
    const c = sig.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return { ok: false, reason: 'malformed' };
  }
  const date = headerValue(req.headers, DATE_HEADER);
  if (date === undefined || date.length === 0) return { ok: false, reason: 'missing_date' };
  if (!auth.signedHeaders.includes(DATE_HEADER)) return { ok: false, reason: 'date_not_signed' };
  const dateTrimmed = date.trim();
  const dateMs = parseSdkDate(dateTrimmed);
  if (dateMs === null) return { ok: false, reason: 'malformed' };
  const skew = dateMs - nowMs;
  if (skew > maxSkewMs || skew < -maxSkewMs) return { ok: false, reason: 'clock_skew' };

  const hashedPayload = serverHashedPayload(req.headers, req.bodySha256Hex);
  if (hashedPayload === 'unsigned_body' || hashedPayload === 'hash_mismatch') return { ok: false, reason: hashedPayload };
  const text = canonicalRequest(req, auth.signedHeaders, hashedPayload);
  // The string to sign uses the X-Sdk-Date value as signed: the SDKs never pad it, so the trimmed value
  // (which also went into the canonical headers) is the one they used.
  const expected = signatureBytes(secretKey, dateTrimmed, text);
  const given = Buffer.from(sig, 'hex');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  return { ok: true };
}
