// The bearer secret of an edge control endpoint (the built-in edge's admin port, the edge agent beside
// nginx or ATS): read from its file, checked in constant time, and required wherever the endpoint can
// be reached from beyond this machine. BuiltinDriver sends it as `Authorization: Bearer <secret>`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';

/** Shorter secrets are refused: a control endpoint that can be guessed is an open one. */
export const MIN_SECRET_LENGTH = 16;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The header value that carries a secret (surrounding whitespace is not part of it). */
export function bearer(secret: string): string {
  return `Bearer ${secret.trim()}`;
}

/**
 * A check of the `Authorization` header against the secret; with no secret, everything passes.
 * Compared as digests: constant time whatever the length of what was sent.
 */
export function bearerCheck(secret: string | undefined): (authorization: string | undefined) => boolean {
  if (!secret) return () => true;
  const expected = digest(bearer(secret));
  return (authorization) => timingSafeEqual(digest(authorization ?? ''), expected);
}

/** Reads a secret file (one line; a trailing newline is fine). Throws a one-line message on failure. */
export function readSecretFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const secret = text.trim();
  if (/[\r\n\0]/.test(secret)) throw new Error(`${file}: the secret must be one line`);
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${file}: the secret must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`);
  return secret;
}

/**
 * The secret in `file`, created (random, mode 0600) when the file does not exist yet: several processes
 * on one data directory, and restarts, share it.
 */
export function loadOrCreateSecretFile(file: string): string {
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readSecretFile(file);
}

/** Whether a listen address can only be reached from this machine (a name other than localhost cannot be known). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (!isIPv6(h)) return false;
  if (h === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1].startsWith('127.');
}

/** Why a control endpoint may not listen on `host` with this secret, or undefined when it may. */
export function anonymousControlRefusal(host: string, secret: string | undefined, hint: string): string | undefined {
  if (secret || isLoopbackHost(host)) return undefined;
  return `the control port would listen on ${host}, beyond loopback, without a secret: ${hint}`;
}
