// Per-account rate limits (huawei-cdn-api.md §1): each API class has its own rate; 0 = unlimited.
// The rate is N calls per second with a burst of N, by the algorithm in rate-cell.ts; this limiter
// keeps the state in this process, shared-rate-limit.ts in the store for every process.
import type { FastifyReply } from 'fastify';
import type { RateLimits } from '../config.js';
import { throttled, type CachectlError } from '../errors.js';
import { admit, cellLimit, EMPTY_TAT, toMicros } from './rate-cell.js';

export type RateClass = keyof RateLimits;

/** Why a call was refused: the class's rate, and how long until one call would be admitted. */
export interface RateRefusal {
  rate: number;
  retryAfterMs: number;
}

/** What the API asks of a rate limiter: admit one call of the account and class, or say why not. */
export interface RateGate {
  take(accountId: string, cls: RateClass, now?: number): RateRefusal | undefined | Promise<RateRefusal | undefined>;
}

/** The 429 APIGW.0308 answer, with Retry-After in whole seconds as for throttled logins. */
export function rateRefused(reply: FastifyReply, cls: RateClass, refusal: RateRefusal): CachectlError {
  reply.header('Retry-After', String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))));
  return throttled(`The API is throttled: at most ${refusal.rate} ${cls} calls per second per account`);
}

// Entries whose TAT has passed mean a full bucket, as no entry does: past this many, they are dropped.
const SWEEP_AT = 100_000;

export class RateLimiter implements RateGate {
  private readonly tats = new Map<string, number>();

  constructor(private readonly rates: RateLimits) {}

  take(accountId: string, cls: RateClass, now = Date.now()): RateRefusal | undefined {
    const rate = this.rates[cls];
    if (!rate) return undefined;
    const key = `${cls}:${accountId}`;
    const nowUs = toMicros(now);
    const result = admit(this.tats.get(key) ?? EMPTY_TAT, nowUs, cellLimit(rate));
    if (!result.admitted) return { rate, retryAfterMs: result.retryAfterMs };
    if (this.tats.size >= SWEEP_AT && !this.tats.has(key)) this.sweep(nowUs);
    this.tats.set(key, result.tat);
    return undefined;
  }

  private sweep(nowUs: number): void {
    for (const [key, tat] of this.tats) if (tat <= nowUs) this.tats.delete(key);
  }
}
