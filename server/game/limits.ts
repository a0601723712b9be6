/**
 * The arena game's limits: one set, shared by every adapter (the `arena` room's
 * settings, the demo's offline mode, the evaluation and the benchmark), and one
 * check that turns a value outside them into the same typed error everywhere.
 *
 * @module
 */
import { ErrorCode, PlaymindError } from '../../sdk/public.js';

/** An inclusive integer or number range. */
export interface Limit {
  readonly min: number;
  readonly max: number;
  /** Whether the value must be an integer. */
  readonly integer: boolean;
}

/**
 * The limits of an arena game's settings. A room's definition, the demo and the
 * benchmark are all held to these.
 */
export const ARENA_LIMITS = Object.freeze({
  /** Guards in one arena (the benchmark plays 500). */
  guardCount: { min: 1, max: 1024, integer: true },
  /** Players the scripted bots fill the arena up to. */
  minPlayers: { min: 0, max: 64, integer: true },
  /** Simulation seed (unsigned 32-bit). */
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  /** Deadline of one guard decision, ms. */
  deadlineMs: { min: 1, max: 1000, integer: false },
  /** Ticks per second. */
  tickRate: { min: 1, max: 120, integer: false },
  /** Clients in one room. */
  maxClients: { min: 1, max: 1000, integer: true },
  /** Decision traces an arena keeps for inspection. */
  traceLength: { min: 1, max: 4096, integer: true },
  /** Guard decisions in flight at once (a late one plus the next). */
  maxDecisionsInFlight: { min: 1, max: 8, integer: true },
  /** Recommendations shown to a player. */
  recommendations: { min: 1, max: 50, integer: true },
  /** Ticks a round lasts (an hour at 20 Hz at most). */
  roundTicks: { min: 1, max: 72_000, integer: true },
  /** Team points that win a round. */
  roundGoal: { min: 1, max: 100_000, integer: true },
} satisfies Record<string, Limit>);

/** The name of one limited setting. */
export type LimitedSetting = keyof typeof ARENA_LIMITS;

/**
 * Checks one setting against {@link ARENA_LIMITS}.
 *
 * @param name - the setting
 * @param value - its value; `undefined` passes (the default applies)
 * @returns the value
 * @throws PlaymindError `invalid_argument` naming the setting, its range and the value (details: `setting`, `min`, `max`, `value`)
 * @example checkLimit('guardCount', 5000) // throws: arena setting 'guardCount' must be an integer in [1, 1024], got 5000
 */
export function checkLimit<T extends number | undefined>(name: LimitedSetting, value: T): T {
  if (value === undefined) return value;
  const l: Limit = ARENA_LIMITS[name];
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= l.min &&
    value <= l.max &&
    (!l.integer || Number.isInteger(value));
  if (!ok) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `arena setting '${name}' must be ${l.integer ? 'an integer' : 'a number'} in [${l.min}, ${l.max}], got ${describe(value)}`,
      { details: { setting: name, min: l.min, max: l.max, value: typeof value === 'number' ? value : String(value) } },
    );
  }
  return value;
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  return v === null ? 'null' : typeof v;
}
