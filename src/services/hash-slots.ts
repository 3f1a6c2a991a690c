// A bound on password hashes running at once. scrypt costs ~50 ms of CPU and 16 MiB each, on libuv's
// small thread pool that file and DNS work share; unbounded logins would starve both. Past the slots
// a short queue waits; past the queue the caller is told to come back (not queued without limit).

export const SLOTS_FULL = Symbol('hash slots full');

export class HashSlots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly slots: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T | typeof SLOTS_FULL> {
    if (this.busy >= this.slots) {
      if (this.waiting.length >= this.maxWaiting) return SLOTS_FULL;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.busy++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter (busy stays the same), or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}
