// Files that hold secrets (the SQLite store with every secret key, credentials.json, logs that may
// carry them) are the owner's only: directories 0700, files 0600, set with chmod so that the umask
// does not decide. Ones found open to others are closed at start, with a warning.
import fs from 'node:fs';

export type Warn = (message: string) => void;

const OPEN_TO_OTHERS = 0o077;

function modeOf(p: string): number | undefined {
  try {
    return fs.statSync(p).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates `dir` (and missing parents) 0700, or makes an existing one 0700 with a warning. */
export function ensurePrivateDir(dir: string, warn: Warn): void {
  const mode = modeOf(dir);
  if (mode === undefined) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  } else if (mode & OPEN_TO_OTHERS) {
    fs.chmodSync(dir, 0o700);
    warn(`${dir} was mode 0${mode.toString(8)}, open to other users; made it 0700`);
  }
}

/** Makes an existing `file` 0600 with a warning when it was open to others; nothing when absent. */
export function fixPrivateFile(file: string, warn: Warn): void {
  const mode = modeOf(file);
  if (mode !== undefined && mode & OPEN_TO_OTHERS) {
    fs.chmodSync(file, 0o600);
    warn(`${file} was mode 0${mode.toString(8)}, open to other users; made it 0600`);
  }
}

/** Opens `file` for appending, created 0600 (an existing one is made 0600 too); returns the fd. */
export function openPrivateAppend(file: string): number {
  const fd = fs.openSync(file, 'a', 0o600);
  fs.fchmodSync(fd, 0o600);
  return fd;
}

/** Creates `file` empty and 0600 when it is absent (so that whatever opens it next keeps that mode). */
export function createPrivateFile(file: string): void {
  fs.closeSync(openPrivateAppend(file));
}

/** Writes `text` to `file`, owner-only from the first byte (created 0600 before the secret goes in). */
export function writePrivateFile(file: string, text: string): void {
  createPrivateFile(file);
  fs.writeFileSync(file, text, { mode: 0o600 });
}
