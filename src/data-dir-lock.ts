// A server marks the data directory it serves with its process id (server.pid), so that commands that
// must not run beside it (cachectl restore) can tell; the mark goes when the server closes.
import fs from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from './private-files.js';

const PID_FILE = 'server.pid';

/** Marks `dataDir` as served by this process; answers the release. */
export function holdDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, PID_FILE);
  writePrivateFile(file, `${process.pid}\n`);
  return () => {
    // Another server started on the same directory since then owns the mark now.
    if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
  };
}

/** The id of a live process serving `dataDir`, or undefined (no mark, or a stale one left by a crash). */
export function dataDirHolder(dataDir: string): number | undefined {
  const pid = readPid(path.join(dataDir, PID_FILE));
  if (pid === undefined) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
