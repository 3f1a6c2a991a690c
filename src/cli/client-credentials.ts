// Where the client commands find the API and their access key: a named profile of the client config,
// else the environment, else the credentials.json that `cachectl serve` writes into its data directory
// on the first start, else the config's default profile.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigFileError, configPath, readProfiles } from './client-config.js';

export const DEFAULT_API = 'http://127.0.0.1:8080';

export interface ClientCredentials {
  /** API base URL, e.g. http://127.0.0.1:8080 */
  api: string;
  accessKey: string;
  secretKey: string;
  /** Where the key came from, for messages ("environment", or the file's path). */
  source: string;
}

/** No usable key pair: the CLI answers with a message and exit code 2. */
export class CredentialsError extends Error {}

interface CredentialsFile {
  api?: unknown;
  access_key?: unknown;
  secret_key?: unknown;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

function readCredentialsFile(file: string): CredentialsFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CredentialsError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as CredentialsFile;
  } catch (err) {
    throw new CredentialsError(`${file} is not valid JSON (${(err as Error).message})`);
  }
}

/** Checks and normalises an API base URL (http or https, no query). */
export function normaliseApi(text: string, where: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new CredentialsError(`${where}: '${text}' is not a URL (expected e.g. ${DEFAULT_API})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CredentialsError(`${where}: '${text}' must be an http:// or https:// URL`);
  if (u.search || u.hash) throw new CredentialsError(`${where}: '${text}' must not have a query or fragment`);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/**
 * Resolves the API URL and the key pair.
 * - A profile named by `--profile` or CACHECTL_PROFILE gives both (the API unless --api or CACHECTL_API).
 * - Otherwise keys: CACHECTL_AK + CACHECTL_SK, else HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK, else
 *   `access_key` + `secret_key` in `<data-dir>/credentials.json`, else (no --data-dir given and no
 *   ./data/credentials.json: outside a server's directory) the config's `default` profile. Half a pair
 *   in the environment is an error rather than a silent fallback.
 * - API: `--api`, else CACHECTL_API, else `api` of the file or profile the keys came from, else
 *   http://127.0.0.1:8080.
 */
export function loadClientCredentials(options: { api?: string; dataDir?: string; profile?: string; env?: NodeJS.ProcessEnv }): ClientCredentials {
  const env = options.env ?? process.env;
  const profileName = options.profile ?? nonEmpty(env.CACHECTL_PROFILE);
  if (profileName !== undefined) return fromProfile(profileName, options.api, env, true)!;

  const file = path.resolve(options.dataDir ?? './data', 'credentials.json');
  let accessKey: string | undefined;
  let secretKey: string | undefined;
  let source: string | undefined;
  for (const [akName, skName] of [
    ['CACHECTL_AK', 'CACHECTL_SK'],
    ['HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK'],
  ] as const) {
    const ak = nonEmpty(env[akName]);
    const sk = nonEmpty(env[skName]);
    if (ak === undefined && sk === undefined) continue;
    if (ak === undefined || sk === undefined) throw new CredentialsError(`${ak === undefined ? akName : skName} is not set: set both ${akName} and ${skName}, or neither`);
    accessKey = ak;
    secretKey = sk;
    source = `environment (${akName}/${skName})`;
    break;
  }

  // The file is read when it has something we still need: the keys, or the API URL.
  const needFile = accessKey === undefined || (options.api === undefined && nonEmpty(env.CACHECTL_API) === undefined);
  const stored = needFile ? readCredentialsFile(file) : undefined;
  if (accessKey === undefined) {
    // Outside a server's directory, the default profile.
    if (stored === undefined && options.dataDir === undefined) {
      const fallback = fromProfile('default', options.api, env, false);
      if (fallback) return fallback;
    }
    const ak = typeof stored?.access_key === 'string' ? nonEmpty(stored.access_key) : undefined;
    const sk = typeof stored?.secret_key === 'string' ? nonEmpty(stored.secret_key) : undefined;
    if (ak === undefined || sk === undefined) {
      throw new CredentialsError(
        [
          stored ? `${file} has no access_key/secret_key.` : `no credentials: ${file} does not exist.`,
          'Set CACHECTL_AK and CACHECTL_SK (or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK),',
          "or point --data-dir at the directory of a server's credentials.json (written on its first start),",
          `or save a profile in ${configPath(env)} with cachectl profiles set.`,
        ].join('\n'),
      );
    }
    accessKey = ak;
    secretKey = sk;
    source = file;
  }

  return { api: apiOf(options.api, env, typeof stored?.api === 'string' ? stored.api : undefined, `${file} (api)`), accessKey, secretKey: secretKey!, source: source! };
}

function apiOf(flag: string | undefined, env: NodeJS.ProcessEnv, stored: string | undefined, storedWhere: string): string {
  if (flag !== undefined) return normaliseApi(flag, '--api');
  if (nonEmpty(env.CACHECTL_API) !== undefined) return normaliseApi(nonEmpty(env.CACHECTL_API)!, 'CACHECTL_API');
  if (nonEmpty(stored) !== undefined) return normaliseApi(stored!.trim(), storedWhere);
  return DEFAULT_API;
}

/** The profile's keys and API; a missing one is an error when it was asked for by name, else undefined. */
function fromProfile(name: string, api: string | undefined, env: NodeJS.ProcessEnv, named: boolean): ClientCredentials | undefined {
  const file = configPath(env);
  let profile;
  try {
    profile = readProfiles(file).get(name);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CredentialsError(err.message);
    throw err;
  }
  const ak = nonEmpty(profile?.access_key);
  const sk = nonEmpty(profile?.secret_key);
  if (ak === undefined || sk === undefined) {
    if (!named) return undefined;
    throw new CredentialsError(profile ? `profile '${name}' in ${file} has no access_key/secret_key` : `no profile '${name}' in ${file} (cachectl profiles set ${name} saves one)`);
  }
  return { api: apiOf(api, env, profile?.api, `${file} [${name}] api`), accessKey: ak, secretKey: sk, source: `profile '${name}' (${file})` };
}
