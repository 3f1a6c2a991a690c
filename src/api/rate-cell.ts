// The rate algorithm every limiter uses, in one process or across many (huawei-cdn-api.md §1): GCRA,
// the generic cell rate algorithm. It is a token bucket (rate per second, burst of `burst` calls)
// kept as one number per account and class, the "theoretical arrival time" (TAT): the time at which
// the bucket would be full again. Unlike a count per fixed window, it never allows a burst on each
// side of a window boundary. Pure: time is passed in, and the caller stores the TAT.

/** A limit in whole microseconds, so that the arithmetic is exact in a double and in a bigint column. */
export interface CellLimit {
  /** The time one call adds to the TAT: 1/rate. */
  readonly stepUs: number;
  /** How far ahead of now the TAT may run: burst × step. */
  readonly toleranceUs: number;
}

export function cellLimit(ratePerSecond: number, burst = ratePerSecond): CellLimit {
  // Rounded to a whole microsecond (a rate of 30/s counts 33,333 µs per call); above 1,000,000/s
  // the step stays 1 µs.
  const stepUs = Math.max(1, Math.round(1_000_000 / ratePerSecond));
  return { stepUs, toleranceUs: stepUs * Math.max(1, Math.floor(burst)) };
}

/** TAT of an account and class never seen: any time in the past means a full bucket. */
export const EMPTY_TAT = 0;

/**
 * The rule a store applies atomically: next = max(tat, floorUs) + stepUs, taken only if
 * next ≤ ceilingUs; otherwise the TAT stays as it was. Stated as data so the shared limiter's one
 * statement and `admit` below cannot differ.
 */
export interface Advance {
  floorUs: number;
  stepUs: number;
  ceilingUs: number;
}

export function advanceAt(nowUs: number, limit: CellLimit): Advance {
  return { floorUs: nowUs, stepUs: limit.stepUs, ceilingUs: nowUs + limit.toleranceUs };
}

export type Admission = { admitted: true; tat: number } | { admitted: false; retryAfterMs: number };

/** One call at `nowUs` against the stored `tat`: admitted with the new TAT, or refused with the wait. */
export function admit(tat: number, nowUs: number, limit: CellLimit): Admission {
  const a = advanceAt(nowUs, limit);
  const next = Math.max(tat, a.floorUs) + a.stepUs;
  if (next <= a.ceilingUs) return { admitted: true, tat: next };
  return { admitted: false, retryAfterMs: (next - a.ceilingUs) / 1000 };
}

export const toMicros = (ms: number): number => Math.round(ms * 1000);
