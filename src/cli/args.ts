// Parsing a client command's arguments: node:util's parseArgs plus the checks every command shares,
// each failing with a UsageError (exit 2, the command's usage).
import { parseArgs } from 'node:util';
import type { UsageEntry } from './help-layout.js';

/** A command's name and usage, for its --help and its usage errors. */
export interface CommandScope {
  name: string;
  usage: readonly UsageEntry[];
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly scope: CommandScope,
  ) {
    super(message);
  }
}

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
export type Values = Record<string, string | boolean | string[] | undefined>;

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean' },
  api: { type: 'string' },
  'data-dir': { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export interface Parsed {
  values: Values;
  positionals: string[];
}

export function parse(scope: CommandScope, args: string[], options: Record<string, OptionSpec>): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, strict: true, allowPositionals: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message, scope);
  }
}

/** Splits `domains list --name x` into the sub-command and the rest, wherever the global options are. */
export function splitSubcommand(args: string[], allOptions: Record<string, OptionSpec>): { sub: string | undefined; rest: string[] } {
  const { tokens } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...allOptions }, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional');
  if (!first || first.kind !== 'positional') return { sub: undefined, rest: args };
  return { sub: first.value, rest: [...args.slice(0, first.index), ...args.slice(first.index + 1)] };
}

export const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined);
export const list = (v: Values[string]): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

export function oneOf<T extends string>(scope: CommandScope, flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got '${value}')`, scope);
  return value as T;
}

export function intOption(scope: CommandScope, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max} (got '${value}')`, scope);
  return Number(value);
}

/** Epoch ms, or an ISO date / date-time. A date-time without a zone is UTC, like the times printed. */
export function parseTimeOption(value: string): number | undefined {
  const t0 = value.trim();
  if (/^\d+$/.test(t0)) return Number(t0);
  let t = t0.replace(/^(\d{4}-\d{2}-\d{2})[ T]/, '$1T');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(t)) return undefined;
  if (t.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(t)) t += 'Z';
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

export function timeOption(scope: CommandScope, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeOption(value);
  if (ms === undefined) throw new UsageError(`--${flag}: '${value}' is neither epoch milliseconds nor an ISO date (2026-11-28 or 2026-11-28T15:04:05Z)`, scope);
  return ms;
}

/** No positional argument is expected. */
export function noArguments(scope: CommandScope, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, scope);
}
