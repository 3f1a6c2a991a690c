// nginx's proxy_cache files, as the engine beside nginx reads and edits them: nginx itself has no
// directory purge and no soft purge (Debian's ngx_cache_purge 2.3 purges exact keys only).
//
// File layout (nginx 1.22, src/http/ngx_http_cache.h, ngx_http_file_cache_header_t, 64-bit; checked
// against real files): off 0 u64 version (5) | off 8 i64 valid_sec | … | off 54 u16 header_start |
// off 187 u8 vary_len | off 188 vary[128] | off 316 variant[16] | off 336 "\nKEY: <key>\n" | the
// origin's status line and headers (at header_start) | the body.
// Writing 0 into valid_sec makes the object stale: the next request revalidates it (INM/IMS). Check the
// layout on every nginx upgrade; a file of another version is never written to.
//
// Calls here are synchronous on purpose: a cache file is a few hundred bytes to read, and the async API
// costs three thread-pool round trips per file (measured: 20k files scanned in 0.3 s sync, 2.5–3 s
// with sequential fs.promises). Long scans yield to the event loop between slices (cache-scan.ts).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const HEADER_VERSION = 5n;
const OFF_VALID_SEC = 8;
const OFF_HEADER_START = 54;
const OFF_VARY_LEN = 187;
const OFF_VARY = 188;
const KEY_MARK = '\nKEY: ';
/** Enough for the fixed header and the key of nearly every URL; longer keys cost a second read. */
const FIRST_READ = 1024;
/** Cache files are named by the md5 of their key (or, for a Vary variant, of the variant). */
const FILE_RE = /^[0-9a-f]{32}$/;

/** What the engine needs from a cache file's head. */
export interface CacheHead {
  version: bigint;
  /** The cache key (proxy_cache_key), or null when the file has none (foreign or cut short). */
  key: string | null;
  /** The origin's Vary field names ('' without Vary): other variants of the key live in other files. */
  vary: string;
}

/** The file of a key: for levels=1:2, cache/<md5[-1]>/<md5[-3..-2]>/<md5>. */
export function keyFile(cacheDir: string, key: string, levels: readonly number[] = [1, 2]): string {
  const md5 = createHash('md5').update(key).digest('hex');
  const parts: string[] = [];
  let end = md5.length;
  for (const l of levels) {
    parts.push(md5.slice(end - l, end));
    end -= l;
  }
  return join(cacheDir, ...parts, md5);
}

const isGone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

function withFile<T>(file: string, flags: 'r' | 'r+', use: (fd: number) => T): T | null {
  let fd: number;
  try {
    fd = openSync(file, flags);
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** The head of a cache file, or null when it does not exist (or vanished meanwhile). */
export function readHead(file: string): CacheHead | null {
  return withFile(file, 'r', (fd) => {
    let buf = Buffer.allocUnsafe(FIRST_READ);
    let n = readSync(fd, buf, 0, buf.length, 0);
    if (n < OFF_VARY) return { version: n >= 8 ? buf.readBigUInt64LE(0) : 0n, key: null, vary: '' };
    const version = buf.readBigUInt64LE(0);
    // header_start is where the origin's headers begin, right after the key line: read that far.
    const headerStart = buf.readUInt16LE(OFF_HEADER_START);
    if (version === HEADER_VERSION && headerStart > n) {
      buf = Buffer.allocUnsafe(headerStart);
      n = readSync(fd, buf, 0, buf.length, 0);
    }
    const text = buf.toString('latin1', 0, n);
    const i = text.indexOf(KEY_MARK);
    const j = i < 0 ? -1 : text.indexOf('\n', i + KEY_MARK.length);
    const key = j < 0 ? null : text.slice(i + KEY_MARK.length, j);
    const vary = version === HEADER_VERSION ? buf.toString('latin1', OFF_VARY, OFF_VARY + Math.min(buf[OFF_VARY_LEN], 128)) : '';
    return { version, key, vary };
  });
}

/** Thrown instead of writing into a file whose layout this code does not know. */
export class CacheLayoutError extends Error {}

/** Marks a cache file stale (valid_sec = 0); false when it does not exist. */
export function markStale(file: string): boolean {
  return (
    withFile(file, 'r+', (fd) => {
      const head = Buffer.alloc(8);
      const n = readSync(fd, head, 0, 8, 0);
      const version = n === 8 ? head.readBigUInt64LE(0) : -1n;
      if (version !== HEADER_VERSION) {
        throw new CacheLayoutError(`cache file ${file} has header version ${version}, expected ${HEADER_VERSION} (nginx upgraded? see cache-files.ts)`);
      }
      writeSync(fd, Buffer.alloc(8), 0, 8, OFF_VALID_SEC);
      return true;
    }) ?? false
  );
}

/** Deletes a cache file; false when it was not there. nginx takes a missing file for a miss. */
export function removeFile(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/** Every cache file under the directory (the levels tree); nginx's temp files (<md5>.<n>) are skipped. */
export function* cacheFiles(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return;
    throw err;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* cacheFiles(p);
    else if (e.isFile() && FILE_RE.test(e.name)) yield p;
  }
}
