// How many request-body bytes the process holds at once. A body is buffered whole before its
// signature can be checked (the signature covers its hash), so without a bound a client that knows
// only an access key could hold bodyLimit bytes per connection across as many connections as it likes.
// A request reserves its announced length (or the route's body limit when chunked) before its first
// byte is read, and gives it back when its response is done or its connection closes.
//
// One pool alone would let a single client fill it with stalled uploads and starve everyone else, so
// one source address and one credential may each hold only a share of it. Bytes are charged as
// announced, not as they arrive: a body once admitted is never cut off half-way for want of budget,
// and a refusal is a clean 429 before anything is read; charging on arrival would only make an
// attacker send the bytes, which costs it little.
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface BodyShares {
  /** Bytes held at once by the whole process. */
  totalBytes: number;
  /** Most one source address (an IPv6 /64) may hold. */
  perAddressBytes: number;
  /** Most one credential (an access key, a token's account) may hold. */
  perCredentialBytes: number;
}

/** Who a reservation is charged to besides the whole: a source address, and the credential when known. */
export interface BodyHolder {
  address: string;
  credential?: string;
}

/** Why a reservation was refused. */
export type BodyRefusal = 'total' | 'address' | 'credential' | 'closed';

export class BodyBudget {
  private used = 0;
  // Only holders with bytes in use have an entry, so these hold at most one entry per open body.
  private readonly byAddress = new Map<string, number>();
  private readonly byCredential = new Map<string, number>();

  constructor(readonly shares: BodyShares) {}

  /**
   * Reserves `bytes` until the reply's connection is done; null when reserved, else which share it
   * would pass. A request whose connection is already gone reserves nothing: its 'close' has fired
   * (perhaps while the caller was being identified) and would never give the bytes back.
   */
  reserve(bytes: number, holder: BodyHolder, request: FastifyRequest, reply: FastifyReply): BodyRefusal | null {
    if (bytes <= 0) return null;
    const res = reply.raw;
    if (request.raw.destroyed || request.raw.socket?.destroyed === true || res.destroyed || res.writableFinished) return 'closed';
    if (this.used + bytes > this.shares.totalBytes) return 'total';
    if ((this.byAddress.get(holder.address) ?? 0) + bytes > this.shares.perAddressBytes) return 'address';
    const credential = holder.credential;
    if (credential !== undefined && (this.byCredential.get(credential) ?? 0) + bytes > this.shares.perCredentialBytes) return 'credential';
    this.used += bytes;
    add(this.byAddress, holder.address, bytes);
    if (credential !== undefined) add(this.byCredential, credential, bytes);
    // Nothing can run between the check above and this listener, so 'close' cannot be missed.
    res.once('close', () => {
      this.used -= bytes;
      add(this.byAddress, holder.address, -bytes);
      if (credential !== undefined) add(this.byCredential, credential, -bytes);
    });
    return null;
  }

  /** Bytes reserved now, in all, and the number of addresses and credentials holding some. */
  get inUse(): { bytes: number; addresses: number; credentials: number } {
    return { bytes: this.used, addresses: this.byAddress.size, credentials: this.byCredential.size };
  }
}

function add(map: Map<string, number>, key: string, bytes: number): void {
  const next = (map.get(key) ?? 0) + bytes;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

