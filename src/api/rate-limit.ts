// Per-account token buckets (huawei-cdn-api.md §1): each API class has its own rate; 0 = unlimited.
import type { RateLimits } from '../config.js';
import { throttled } from '../errors.js';

export type RateClass = keyof RateLimits;

interface Bucket {
  tokens: number;
  at: number;
}

/** What the API asks of a rate limiter: take one request's token, or throw APIGW.0308. */
export interface RateGate {
  take(accountId: string, cls: RateClass): void | Promise<void>;
}

export class RateLimiter implements RateGate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly rates: RateLimits) {}

  /** Takes one token for the account and class, or throws APIGW.0308. Burst = one second's worth. */
  take(accountId: string, cls: RateClass, now = Date.now()): void {
    const rate = this.rates[cls];
    if (!rate) return;
    const key = `${cls}:${accountId}`;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 100_000) this.buckets.clear();
      this.buckets.set(key, (b = { tokens: rate, at: now }));
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) throw throttled(`The API is throttled: at most ${rate} ${cls} calls per second per account`);
    b.tokens -= 1;
  }
}
