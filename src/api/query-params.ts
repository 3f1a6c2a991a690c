// Query parameters arrive as strings; these read them with the spec's ranges and answer CDN.0001.
import { Type } from '@sinclair/typebox';
import { badParameter } from '../errors.js';

export function intParam(value: string | undefined, name: string, min: number, max: number, fallback: number): number;
export function intParam(value: string | undefined, name: string, min: number, max: number): number | undefined;
export function intParam(value: string | undefined, name: string, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  if (!/^-?\d{1,16}$/.test(value)) throw badParameter(`${name} must be an integer (got '${value.slice(0, 40)}')`);
  const n = Number(value);
  if (n < min || n > max) throw badParameter(`${name} must be from ${min} to ${max} (got ${n})`);
  return n;
}

export function enumParam<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value as T)) throw badParameter(`${name} must be one of ${allowed.join(', ')} (got '${value.slice(0, 40)}')`);
  return value as T;
}

export function boolParam(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'true' && value !== 'false') throw badParameter(`${name} must be true or false`);
  return value === 'true';
}

/** The largest time JavaScript dates can hold, as the upper bound of epoch-millisecond parameters. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;

/** The query of a route that takes no parameters (any are ignored, as before it had a schema). */
export const NoQuery = Type.Object({}, { description: 'no parameters' });
