// nginx's proxy_cache files, as the edge agent beside nginx reads and edits them: nginx itself has no
// directory purge and no soft purge (Debian's ngx_cache_purge 2.3 purges exact keys only).
//
// File layout (nginx 1.22, src/http/ngx_http_cache.h, ngx_http_file_cache_header_t, 64-bit):
//   off 0 u64 version (5) | off 8 i64 valid_sec | ... | then "\nKEY: <key>\n", the headers, the body.
// Writing 0 into valid_sec makes the object stale: the next request revalidates it (INM/IMS). Check the
// version on every nginx upgrade; a file of another version is left alone and reported.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

const HEADER_VERSION = 5n;
const KEY_MARK = '\nKEY: ';
/** Cache files are named by the md5 of their key. */
const FILE_RE = /^[0-9a-f]{32}$/;

/** The file of a key for `levels=1:2`: cache/<md5[-1]>/<md5[-3..-2]>/<md5>. */
export function keyFile(cacheDir: string, key: string): string {
  const md5 = createHash('md5').update(key).digest('hex');
  return join(cacheDir, md5.slice(-1), md5.slice(-3, -1), md5);
}

/** The KEY line of a cache file, or null when it has none (or vanished meanwhile). */
export async function readKey(file: string): Promise<string | null> {
  let fh;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const i = text.indexOf(KEY_MARK);
    if (i < 0) return null;
    const j = text.indexOf('\n', i + KEY_MARK.length);
    return j < 0 ? null : text.slice(i + KEY_MARK.length, j);
  } finally {
    await fh.close();
  }
}

/** Marks a cache file stale; false when it does not exist. */
export async function markStale(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await fsp.open(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    const version = head.readBigUInt64LE(0);
    if (version !== HEADER_VERSION) throw new Error(`cache file ${file} has header version ${version}, expected ${HEADER_VERSION} (nginx upgraded?)`);
    const zero = Buffer.alloc(8);
    await fh.write(zero, 0, 8, 8);
    return true;
  } finally {
    await fh.close();
  }
}

/** Deletes a cache file; false when it was not there. nginx treats the missing file as a miss. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await fsp.unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Every cache file under the directory (the levels=1:2 tree); temp files and others are skipped. */
export async function* cacheFiles(cacheDir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fsp.readdir(cacheDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const p = join(cacheDir, e.name);
    if (e.isDirectory()) yield* cacheFiles(p);
    else if (e.isFile() && FILE_RE.test(e.name)) yield p;
  }
}

/**
 * One walk for a batch of key prefixes: calls `act` on each file whose key starts with one of them and
 * counts, per prefix, the files acted on. The cost is one open+read per cached file, whatever the batch.
 */
export async function forEachKeyUnder(cacheDir: string, prefixes: string[], act: (file: string) => Promise<boolean>): Promise<number[]> {
  const counts = prefixes.map(() => 0);
  for await (const file of cacheFiles(cacheDir)) {
    const key = await readKey(file);
    if (key === null) continue;
    let hit = false;
    prefixes.forEach((p, i) => {
      if (key.startsWith(p)) {
        counts[i]++;
        hit = true;
      }
    });
    if (hit) await act(file);
  }
  return counts;
}
