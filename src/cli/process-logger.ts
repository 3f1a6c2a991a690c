// The logger of a long-running command (serve, edge, agent) and the start-up lines every one prints:
// where it listens. Those lines are written at info even when --log-level is warn or error (scripts
// and people wait for them); only silent drops them. Loaded by those commands only: client commands
// start without pino.
import { ConfigError } from '../config.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../logging/log-settings.js';
import { createLogger, type Logger } from '../logging/logger.js';

/** A logger from --log-level/--log-format, else CACHECTL_LOG_LEVEL/CACHECTL_LOG_FORMAT, else info and json. */
export function commandLogger(values: { 'log-level'?: string; 'log-format'?: string }): Logger {
  const pick = <T extends string>(flag: 'log-level' | 'log-format', env: string, allowed: readonly T[], fallback: T): T => {
    const v = values[flag] ?? (process.env[env] || undefined) ?? fallback;
    if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`--${flag} must be one of ${allowed.join(', ')} (got '${v}')`);
    return v as T;
  };
  return createLogger({ level: pick('log-level', 'CACHECTL_LOG_LEVEL', LOG_LEVELS, 'info'), format: pick('log-format', 'CACHECTL_LOG_FORMAT', LOG_FORMATS, 'json' as LogFormat) });
}

/** Where the start-up lines go: the logger, at info whatever its level above info. */
export function startupLog(logger: Logger): Logger {
  return logger.isLevelEnabled('info') || logger.level === 'silent' ? logger : logger.child({}, { level: 'info' });
}
