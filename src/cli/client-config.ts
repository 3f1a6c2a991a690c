// The client config: named profiles of an API endpoint and a key pair, so the CLI works anywhere (not
// only beside a server's data directory). $XDG_CONFIG_HOME/cachectl/config, else ~/.config/cachectl/config;
// INI sections, owner-only (0600 in a 0700 directory) since it holds secret keys.
//
//   [default]
//   api = https://cdn-api.example.net
//   access_key = …
//   secret_key = …
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../private-files.js';

export interface Profile {
  api?: string;
  access_key?: string;
  secret_key?: string;
}

export type Profiles = Map<string, Profile>;

export const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const KEYS = ['api', 'access_key', 'secret_key'] as const;

/** The client config is unreadable or malformed. */
export class ConfigFileError extends Error {}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'cachectl', 'config');
}

export function parseProfiles(text: string, file: string): Profiles {
  const profiles: Profiles = new Map();
  let current: Profile | undefined;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([^\]]*)\]$/.exec(line);
    if (section) {
      const name = section[1].trim();
      if (!PROFILE_NAME.test(name)) throw new ConfigFileError(`${file}:${i + 1}: '${name}' is not a profile name (letters, digits, . _ -)`);
      current = profiles.get(name) ?? {};
      profiles.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!current || !(KEYS as readonly string[]).includes(key)) throw new ConfigFileError(`${file}:${i + 1}: expected [profile] or one of ${KEYS.join(', ')} = value`);
    current[key as (typeof KEYS)[number]] = line.slice(eq + 1).trim();
  }
  return profiles;
}

/** The profiles of `file`; none when it does not exist. */
export function readProfiles(file: string): Profiles {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseProfiles(text, file);
}

export function writeProfiles(file: string, profiles: Profiles, warn: (message: string) => void): void {
  const sections = [...profiles].map(([name, p]) => [`[${name}]`, ...KEYS.filter((k) => p[k] !== undefined).map((k) => `${k} = ${p[k]}`)].join('\n'));
  ensurePrivateDir(path.dirname(file), warn);
  writePrivateFile(file, `# cachectl client profiles (cachectl profiles set|rm); holds secret keys: keep it 0600\n\n${sections.join('\n\n')}\n`);
}
