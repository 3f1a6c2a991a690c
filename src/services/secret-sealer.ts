// Secret keys sealed at rest (AES-256-GCM) under a key kept in a file of the operator's choosing.
//
// What it protects: a copy of the database (a backup, a dump, a stolen disk or PostgreSQL replica) no
// longer holds usable secret keys. What it cannot: request signatures are HMACs, so a running server
// must hold each secret in plain form; whoever controls the process or can read the key file can open
// them. A key file kept in the data directory protects nothing against a copy of that directory, so
// the operator names its place (another disk, a secrets mount) with --secret-key-file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, fixPrivateFile, type Warn } from '../private-files.js';

const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_HEX = /^[0-9a-f]{64}$/;

export class SealError extends Error {}

/** Closes a key file open to others; one that cannot be changed (a read-only secrets mount) is used with a warning. */
function closeToOthers(file: string, warn: Warn): void {
  try {
    fixPrivateFile(file, warn);
  } catch (err) {
    warn(`${file} is readable by other users and cannot be made 0600 (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); using it as it is`);
  }
}

export class SecretSealer {
  private constructor(private readonly key: Buffer | undefined) {}

  /** No key file: secrets are stored as given (and sealed ones cannot be opened). */
  static none(): SecretSealer {
    return new SecretSealer(undefined);
  }

  /**
   * The key in `file` (64 hex characters on one line). An absent file is created 0600 with a new
   * random key, and its parent 0700 if it has to be made; an existing one open to others is closed.
   */
  static fromKeyFile(file: string, warn: Warn): SecretSealer {
    const dir = path.dirname(file);
    // A folder made for it is the owner's only; an existing one (/etc, a secrets mount) is left as it is.
    if (!fs.existsSync(dir)) ensurePrivateDir(dir, warn);
    try {
      // 'wx': of two processes starting at once on one path, one creates the key and the other reads it;
      // neither overwrites a key the other may already have sealed secrets with.
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
      warn(`${file}: created a new secret-key encryption key; keep it apart from the data directory and its backups, and back it up: without it the stored secret keys cannot be read`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SealError(`--secret-key-file ${file}: ${(err as Error).message}`);
      closeToOthers(file, warn);
    }
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!KEY_HEX.test(text)) throw new SealError(`${file} must hold 64 lower-case hex characters (a 256-bit key) on one line`);
    return new SecretSealer(Buffer.from(text, 'hex'));
  }

  get enabled(): boolean {
    return this.key !== undefined;
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  /** The stored form of `secret` for access key `accessKey` (bound to it: a sealed value moved to another key does not open). */
  seal(accessKey: string, secret: string): string {
    if (!this.key) return secret;
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(accessKey, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plain secret of a stored value; throws SealError when it is sealed and this key cannot open it. */
  open(accessKey: string, stored: string): string {
    if (!SecretSealer.isSealed(stored)) return stored;
    if (!this.key) throw new SealError('the store holds sealed secret keys: start with --secret-key-file naming the key they were sealed with');
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(accessKey, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealError(`the secret key of ${accessKey} does not open with the --secret-key-file key (another key, or a damaged value)`);
    }
  }
}
