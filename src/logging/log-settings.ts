// The logger's settings, apart from the logger itself: the configuration (which every CLI command
// loads) names them without loading pino.
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** --log-level and --log-format for edge and agent (serve has them among its settings). */
export const LOG_OPTIONS = {
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;
