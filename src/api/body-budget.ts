// How many request-body bytes the process holds at once. A body is buffered whole before its
// signature can be checked (the signature covers its hash), so without a bound a client that knows
// only an access key could hold bodyLimit bytes per connection across as many connections as it likes.
// A request reserves its announced length (or the route's body limit when chunked) before its first
// byte is read, and gives it back when its response is done or its connection closes.
import type { FastifyReply } from 'fastify';

export class BodyBudget {
  private used = 0;

  constructor(readonly totalBytes: number) {}

  /** Reserves `bytes` until the reply's connection is done; false when that would pass the total. */
  reserve(bytes: number, reply: FastifyReply): boolean {
    if (bytes <= 0) return true;
    if (this.used + bytes > this.totalBytes) return false;
    this.used += bytes;
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    });
    return true;
  }

  get inUse(): number {
    return this.used;
  }
}
