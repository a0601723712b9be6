/**
 * The `arena` room's client messages: validation (a malformed message becomes a
 * typed {@link PlaymindError}, never a throw out of a handler) and per-client
 * rate limiting.
 *
 * | client → server | payload                                   |
 * |-----------------|-------------------------------------------|
 * | `input`         | `{ dx: number, dy: number, attack?: boolean }` — dx, dy finite, clamped to [-1, 1] |
 * | `take-quest`    | `{ questId: string }` — one of `state.quests` |
 * | `finish-quest`  | nothing, or `{}` — turns in the active quest |
 * | `recommendations` | nothing, or `{}` — asks for this player's recommendations now (register the handler first; pushes also follow join and every quest event) |
 *
 * | server → client   | payload |
 * |-------------------|---------|
 * | `recommendations` | `{ player, items: [{ id, title, kind, score }], model, coldStart }` — to that player only |
 * | `error`           | `{ code, message, details: { type } }` — `code` is an `ErrorCode` |
 *
 * @module
 */
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { PlayerInput } from '../sim/index.js';

/** Longest quest id accepted. */
export const MAX_QUEST_ID_LENGTH = 64;

const clamp1 = (v: number): number => (v < -1 ? -1 : v > 1 ? 1 : v);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function malformed(type: string, why: string): PlaymindError {
  return new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `'${type}': ${why}`, { details: { type } });
}

/**
 * Validates an `input` message.
 *
 * @returns the input, `dx`/`dy` clamped to [-1, 1]
 * @throws PlaymindError `malformed_message` naming the field
 */
export function parseInput(message: unknown): PlayerInput {
  if (!isPlainObject(message))
    throw malformed('input', `must be an object { dx, dy, attack }, got ${describe(message)}`);
  const { dx, dy, attack } = message;
  if (typeof dx !== 'number' || !Number.isFinite(dx))
    throw malformed('input', `'dx' must be a finite number, got ${describe(dx)}`);
  if (typeof dy !== 'number' || !Number.isFinite(dy))
    throw malformed('input', `'dy' must be a finite number, got ${describe(dy)}`);
  if (attack !== undefined && typeof attack !== 'boolean')
    throw malformed('input', `'attack' must be a boolean, got ${describe(attack)}`);
  return { dx: clamp1(dx), dy: clamp1(dy), attack: attack === true };
}

/**
 * Validates a `take-quest` message.
 *
 * @returns the quest id (its existence is checked by the session)
 * @throws PlaymindError `malformed_message`
 */
export function parseTakeQuest(message: unknown): string {
  if (!isPlainObject(message)) throw malformed('take-quest', `must be an object { questId }, got ${describe(message)}`);
  const { questId } = message;
  if (typeof questId !== 'string' || questId.length === 0)
    throw malformed('take-quest', `'questId' must be a non-empty string, got ${describe(questId)}`);
  if (questId.length > MAX_QUEST_ID_LENGTH)
    throw malformed('take-quest', `'questId' is longer than ${MAX_QUEST_ID_LENGTH} characters`);
  return questId;
}

/**
 * Validates a `finish-quest` message (no payload, or an empty-ish object).
 *
 * @throws PlaymindError `malformed_message`
 */
export function parseFinishQuest(message: unknown): void {
  if (message !== undefined && message !== null && !isPlainObject(message)) {
    throw malformed('finish-quest', `takes no payload (or an object), got ${describe(message)}`);
  }
}

/**
 * Validates a `recommendations` request (no payload, or an object).
 *
 * @throws PlaymindError `malformed_message`
 */
export function parseRecommendationsRequest(message: unknown): void {
  if (message !== undefined && message !== null && !isPlainObject(message)) {
    throw malformed('recommendations', `takes no payload (or an object), got ${describe(message)}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return 'bytes';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.length > 20 ? `a string of ${v.length} characters` : JSON.stringify(v);
  return typeof v;
}

/** Options of {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Messages a client may send per second (refill). @default 60 */
  ratePerSec: number;
  /** Messages a client may send in a burst. @default 120 */
  burst: number;
  /** Dropped messages within one second past which the client is disconnected. @default 600 */
  floodDropsPerSec: number;
}

/** The default limits: 20 Hz input plus quest messages, with room to spare. */
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
  /** Drop it silently (already told this second). */
  | 'dropped'
  /** Disconnect the client (a flood). */
  | 'flood';

/** A token bucket per client. */
export class RateLimiter {
  private readonly options: RateLimitOptions;
  private readonly buckets = new Map<string, { tokens: number; at: number; drops: number; windowStart: number }>();

  /** @param options - limits @default DEFAULT_RATE_LIMITS */
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
   */
  take(client: string, t: number = performance.now()): RateVerdict {
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
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'ok';
    }
    b.drops++;
    if (b.drops > o.floodDropsPerSec) return 'flood';
    return b.drops === 1 ? 'limited' : 'dropped';
  }

  /** Forgets a client. */
  forget(client: string): void {
    this.buckets.delete(client);
  }
}
