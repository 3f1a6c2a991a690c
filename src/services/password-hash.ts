// Password hashing with node:crypto scrypt, and helpers for secrets and token digests.
//
// Stored form: 'scrypt$N$r$p$saltB64$hashB64' (standard base64 with padding; verification also
// accepts base64url). Verification reads N, r, p and the hash length from the stored string, so the
// parameters can be raised later without invalidating old hashes.
import crypto from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Bounds on parameters read back from storage, so that a corrupted or hostile stored value cannot make
// verification allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEM_BYTES = 256 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, keylen: number, n: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs about 128 * N * r bytes (+ 128 * r * p); leave headroom above Node's 32 MiB default.
  const maxmem = Math.min(MAX_MEM_BYTES, 256 * n * r + 256 * r * p + 1024 * 1024);
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, keylen, { N: n, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, KEY_BYTES, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parseIntStrict(text: string): number {
  if (text.length === 0 || text.length > 8) return NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
  }
  return Number(text);
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Constant time in the comparison; false (never a throw) on a malformed stored value. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (typeof password !== 'string' || typeof stored !== 'string') return false;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const n = parseIntStrict(parts[1]);
  const r = parseIntStrict(parts[2]);
  const p = parseIntStrict(parts[3]);
  if (!(n >= 2 && n <= MAX_N && (n & (n - 1)) === 0)) return false;
  if (!(r >= 1 && r <= MAX_R) || !(p >= 1 && p <= MAX_P)) return false;
  if (!BASE64.test(parts[4]) || !BASE64.test(parts[5])) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (salt.length < 8 || expected.length < 16 || expected.length > 128) return false;
  let actual: Buffer;
  try {
    actual = await scrypt(password, salt, expected.length, n, r, p);
  } catch {
    return false;
  }
  return crypto.timingSafeEqual(actual, expected);
}

/** `bytes` random bytes as URL-safe base64 without padding. */
export function newSecret(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`newSecret: bytes must be a positive integer, got ${bytes}`);
  return crypto.randomBytes(bytes).toString('base64url');
}

/** sha256 hex of a token, so that only a hash of IAM tokens is stored. */
export function tokenDigest(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}
