// `cachectl serve --config FILE` (or CACHECTL_CONFIG): the server's settings in YAML, keys the flag
// names without "--". Read and checked here (syntax, unknown keys, each value's YAML type); ranges and
// the rest are checked by loadServerConfig, as for flags, with messages naming the file's key.
import fs from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, OPTIONS, type SettingKind, type SettingsFile } from '../config.js';
import { nearest } from './nearest.js';
import { holdsMask, holdsSecret, isSecretSetting } from '../setting-secrets.js';

const typeOf = (v: unknown): string => (Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : typeof v === 'string' ? `text '${v}'` : `${typeof v} ${String(v)}`);

export function readSettingsFile(file: string): SettingsFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config / CACHECTL_CONFIG: ${(err as Error).message}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(`${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`${file}: must be a mapping of settings (port: 8080, …), not ${typeOf(data)}`);
  const values = new Map(Object.entries(data as Record<string, unknown>).filter(([, v]) => v !== null));
  const known = OPTIONS.map((o) => o.flag);
  for (const key of Object.keys(data)) {
    if (known.includes(key)) continue;
    const guess = nearest(key, known);
    throw new ConfigError(`${file}: unknown key '${key}'${guess ? `; did you mean '${guess}'?` : ''} (the keys are the flags of cachectl serve without --: cachectl serve --help)`);
  }
  const label = (flag: string) => `${file}: key '${flag}'`;
  const mode = fs.statSync(file).mode;
  for (const [flag, v] of values) {
    if (typeof v !== 'string') continue;
    if (holdsMask(flag, v)) throw new ConfigError(`${label(flag)} holds the mask that --print-config prints, not the secret`);
    // A secret in a file other users may read is no longer one.
    if (holdsSecret(flag, v) && mode & 0o004) {
      throw new ConfigError(`${label(flag)} holds a secret, but any user may read ${file} (mode 0${(mode & 0o777).toString(8)}): chmod 600 it, or give the secret by a -file setting or the environment`);
    }
  }
  return {
    has: (flag) => values.has(flag),
    label,
    text(flag: string, kind: SettingKind): string | undefined {
      const v = values.get(flag);
      if (v === undefined) return undefined;
      const ok = kind === 'any' || (kind === 'number' ? typeof v === 'number' : kind === 'switch' ? typeof v === 'boolean' : typeof v === 'string');
      if (!ok) {
        const want = kind === 'number' ? 'a number (no quotes)' : kind === 'switch' ? 'true or false' : typeof v === 'object' ? 'text' : "text (quote it: '0123')";
        throw new ConfigError(`${label(flag)} must be ${want}, not ${isSecretSetting(flag) ? `a ${typeof v}` : typeOf(v)}`);
      }
      return String(v);
    },
  };
}
