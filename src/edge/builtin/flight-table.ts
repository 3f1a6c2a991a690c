// Request coalescing: while one request for a key (host + target) fetches it from the origin, a
// "flight", later requests for the same key wait for its outcome instead of asking the origin too.
// Purges and revalidations mark the flights they overtake, so that an answer fetched before a purge is
// served to the requests that were already waiting but never stored.

import type { CacheEntry } from './edge-cache.js';
import type { OriginError } from './origin-client.js';
import type { XCache } from './proxy-headers.js';

/** What a flight hands its waiters: the entry to serve, an error to answer, or null: "ask the origin yourself". */
export type Shared = { entry: CacheEntry; xcache: XCache } | { error: OriginError } | null;

export interface Flight {
  readonly key: string;
  /** The request's own host (a host a wildcard domain covers, not the wildcard). */
  readonly host: string;
  readonly target: string;
  /** Set by the admin API while the flight runs: 'purge' = do not store the answer; 'stale' = store it stale. */
  invalidated: 'purge' | 'stale' | null;
  readonly promise: Promise<Shared>;
  settled: boolean;
  resolve(shared: Shared): void;
}

/** Neither a host nor a request target can hold a space. */
const flightKey = (host: string, target: string): string => `${host} ${target}`;

export class FlightTable {
  private readonly byKey = new Map<string, Flight>();

  get(host: string, target: string): Flight | undefined {
    return this.byKey.get(flightKey(host, target));
  }

  /** Starts the flight for a key; the caller has checked that none runs. */
  start(host: string, target: string): Flight {
    const key = flightKey(host, target);
    let resolve!: (shared: Shared) => void;
    const promise = new Promise<Shared>((r) => (resolve = r));
    const flight: Flight = { key, host, target, invalidated: null, promise, settled: false, resolve };
    this.byKey.set(key, flight);
    return flight;
  }

  /** Hands the waiters their outcome and ends the flight; later calls are no-ops. */
  settle(flight: Flight, shared: Shared): void {
    if (flight.settled) return;
    flight.settled = true;
    if (this.byKey.get(flight.key) === flight) this.byKey.delete(flight.key);
    flight.resolve(shared);
  }

  /**
   * Marks the flight of one key, or with `directory` every flight of the host whose target starts with
   * `path`. 'purge' overrides anything; 'stale' only marks flights not marked yet.
   */
  mark(host: string, path: string, directory: boolean, mark: 'purge' | 'stale'): void {
    if (!directory) {
      const flight = this.get(host, path);
      if (flight !== undefined && (mark === 'purge' || flight.invalidated === null)) flight.invalidated = mark;
      return;
    }
    for (const flight of this.byKey.values()) {
      if (flight.host === host && flight.target.startsWith(path) && (mark === 'purge' || flight.invalidated === null)) {
        flight.invalidated = mark;
      }
    }
  }

  /** Marks 'purge' every flight whose host passes `test` (its domain went away or changed). */
  purgeHosts(test: (host: string) => boolean): void {
    for (const flight of this.byKey.values()) if (test(flight.host)) flight.invalidated = 'purge';
  }
}
