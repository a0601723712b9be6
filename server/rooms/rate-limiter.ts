/**
 * The one per-client rate limiter of the server's rooms: a token bucket per client,
 * and a flood rule (a client dropped too often within a second is disconnected).
 * Each take costs 1 (a message) or its weight (bytes, for the rooms' byte budgets:
 * then the rate, burst and flood limits are in bytes).
 *
 * @module
 */

/** Options of {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Messages a client may send per second (refill). @default 60 */
  ratePerSec: number;
  /** Messages a client may send in a burst. @default 120 */
  burst: number;
  /** Dropped messages within one second past which the client is disconnected. @default 600 */
  floodDropsPerSec: number;
}

/** The default limits (the arena's: 20 Hz input plus quest messages, with room to spare). */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimitOptions> = Object.freeze({
  ratePerSec: 60,
  burst: 120,
  floodDropsPerSec: 600,
});

/** What to do with one message. */
export type RateVerdict =
  /** Handle it. */
  | 'ok'
  /** Drop it and tell the client (`rate_limited`); first drop of this second. */
  | 'limited'
  /** Drop it (the client was already told this second; a request still gets its rejection). */
  | 'dropped'
  /** Disconnect the client (a flood). */
  | 'flood';

/** A token bucket per client. */
export class RateLimiter {
  /** The limits in force. */
  readonly options: Readonly<RateLimitOptions>;
  private readonly buckets = new Map<string, { tokens: number; at: number; drops: number; windowStart: number }>();

  /**
   * @param options - limits @default DEFAULT_RATE_LIMITS
   * @throws RangeError naming a limit that is not > 0
   */
  constructor(options: Partial<RateLimitOptions> = {}) {
    this.options = { ...DEFAULT_RATE_LIMITS, ...options };
    for (const [k, v] of Object.entries(this.options)) {
      if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`rate limit '${k}' must be > 0, got ${String(v)}`);
    }
  }

  /**
   * Counts one message of a client.
   *
   * @param client - the client's id
   * @param t - now, in ms @default performance.now()
   * @param cost - what the message weighs (1 per message, or its bytes) @default 1
   */
  take(client: string, t: number = performance.now(), cost = 1): RateVerdict {
    const o = this.options;
    let b = this.buckets.get(client);
    if (!b) {
      b = { tokens: o.burst, at: t, drops: 0, windowStart: t };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(o.burst, b.tokens + ((t - b.at) / 1000) * o.ratePerSec);
    b.at = t;
    if (t - b.windowStart >= 1000) {
      b.windowStart = t;
      b.drops = 0;
    }
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 'ok';
    }
    const first = b.drops === 0;
    b.drops += cost;
    if (b.drops > o.floodDropsPerSec) return 'flood';
    return first ? 'limited' : 'dropped';
  }

  /** Forgets a client. */
  forget(client: string): void {
    this.buckets.delete(client);
  }
}
