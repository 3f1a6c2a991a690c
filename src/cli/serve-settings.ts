// The settings of `cachectl serve` from its flags, the environment and the settings file
// (--config / CACHECTL_CONFIG), and the two options that print instead of serving.
import { loadServerConfig, type ServerConfig } from '../config.js';
import { readSettingsFile } from './config-file.js';
import { configExample, effectiveSettings, printConfig } from './print-config.js';

export const SETTINGS_FILE_OPTIONS = {
  config: { type: 'string' },
  'print-config': { type: 'boolean' },
  'config-example': { type: 'boolean' },
} as const;

export const SETTINGS_FILE_HELP = `  --config FILE            CACHECTL_CONFIG  the settings in a YAML file, keys the flag names below
                                            (port: 8080); flag > environment > file > default
  --print-config           print the effective settings (secrets masked) and exit
  --config-example         print a commented settings file with every default and exit`;

/** The server's config, or (with --print-config / --config-example) the text to print instead. */
export function loadServeSettings(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): { config: ServerConfig; printed?: undefined } | { printed: string } {
  if (values['config-example']) return { printed: configExample() };
  const { config: path, 'print-config': print, 'config-example': _, help: __, ...settings } = values;
  // A switch given is 'true' to the loader, as its variable would be.
  const flags = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v === true ? 'true' : v === false ? undefined : v])) as Record<string, string | undefined>;
  const filePath = (path as string | undefined) ?? (env.CACHECTL_CONFIG || undefined);
  const file = filePath === undefined ? undefined : readSettingsFile(filePath);
  const config = loadServerConfig(flags, env, file);
  return print ? { printed: printConfig(effectiveSettings(config, flags, env, file)) } : { config };
}
