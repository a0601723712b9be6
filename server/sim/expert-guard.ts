/**
 * The scripted expert guard: the finite-state machine a game designer would
 * write, with fixed thresholds (decent, not optimal):
 *
 * 1. downed → `idle`;
 * 2. a player in sight:
 *    - health below 30 %, or already fleeing and below 60 % → `flee`;
 *    - target within attack range → `attack` when ready, else `chase` (stay close);
 *    - an ally already engages the same player and the target is farther than
 *      twice the attack range → `flank`;
 *    - otherwise → `chase`;
 * 3. no player in sight but one seen recently → `chase` to where it was
 *    (`flee` instead while still recovering from a flee);
 * 4. otherwise → `patrol`.
 *
 * Two versions make the same decisions: {@link expertGuardAction} reads the
 * arena, {@link expertGuardFromObservation} reads only the observation vector
 * (so the SDK's fallback route can run it without the simulation).
 *
 * @module
 */
import type { Arena } from './arena.js';
import { DEFAULT_ARENA_CONFIG } from './config.js';
import { dist } from './geometry.js';
import { ACTION, engagedAllies, guardHasTarget, visibleTarget } from './guard-actions.js';
import { F } from './guard-observation.js';

/** The expert's thresholds. */
export const EXPERT_THRESHOLDS = Object.freeze({
  /** Flee below this health fraction. */
  fleeHealth: 0.3,
  /** Once fleeing, keep fleeing below this health fraction. */
  recoverHealth: 0.6,
  /** Flank only when the target is farther than this many attack ranges. */
  flankRanges: 2,
});

/**
 * The expert's decision from the arena state.
 *
 * @param arena - the arena
 * @param guardId - the guard's id
 * @returns an action index (see `GUARD_ACTIONS`)
 * @throws RangeError for an unknown guard id
 */
export function expertGuardAction(arena: Arena, guardId: string): number {
  const g = arena.guardOrThrow(guardId);
  if (!g.alive) return ACTION.idle;
  const gc = arena.config.guard;
  const h = g.health / gc.maxHealth;
  const fleeing = g.action === ACTION.flee;
  const t = visibleTarget(arena, g);
  if (t !== null) {
    if (h < EXPERT_THRESHOLDS.fleeHealth || (fleeing && h < EXPERT_THRESHOLDS.recoverHealth)) return ACTION.flee;
    const d = dist(g.pos, t.pos);
    if (d <= gc.attackRange) return g.cooldown <= 0 ? ACTION.attack : ACTION.chase;
    if (engagedAllies(arena, g).length > 0 && d > EXPERT_THRESHOLDS.flankRanges * gc.attackRange) return ACTION.flank;
    return ACTION.chase;
  }
  if (guardHasTarget(arena, g)) return fleeing && h < EXPERT_THRESHOLDS.recoverHealth ? ACTION.flee : ACTION.chase;
  return ACTION.patrol;
}

/** Flank distance threshold in observation units, for the default arena. */
const FLANK_DISTANCE =
  (EXPERT_THRESHOLDS.flankRanges * DEFAULT_ARENA_CONFIG.guard.attackRange) / DEFAULT_ARENA_CONFIG.guard.sightRange;

/**
 * The expert's decision from one observation row alone (see `GUARD_FEATURES`).
 * Matches {@link expertGuardAction} on the default arena tuning.
 *
 * @param obs - one observation row (a subarray is fine)
 * @returns an action index
 * @example
 * const action = expertGuardFromObservation(observeGuard(arena, 'g0'));
 */
export function expertGuardFromObservation(obs: Float32Array): number {
  const h = obs[F.self_health] as number;
  if (!(h > 0)) return ACTION.idle;
  const fleeing = (obs[F.self_fleeing] as number) > 0.5;
  if ((obs[F.target_visible] as number) > 0.5) {
    if (h < EXPERT_THRESHOLDS.fleeHealth || (fleeing && h < EXPERT_THRESHOLDS.recoverHealth)) return ACTION.flee;
    if ((obs[F.target_in_range] as number) > 0.5)
      return (obs[F.self_cooldown] as number) <= 0 ? ACTION.attack : ACTION.chase;
    if ((obs[F.allies_engaged] as number) > 0 && (obs[F.target_distance] as number) > FLANK_DISTANCE)
      return ACTION.flank;
    return ACTION.chase;
  }
  if ((obs[F.time_since_seen] as number) < 1)
    return fleeing && h < EXPERT_THRESHOLDS.recoverHealth ? ACTION.flee : ACTION.chase;
  return ACTION.patrol;
}

/** A heuristic that decides from one observation row. */
export type GuardHeuristic = (obs: Float32Array) => number;

/**
 * Heuristics by name, for a policy manifest's `fallback` (the SDK's fallback
 * route looks the name up here): `expert-guard` (the FSM above) and `patrol`.
 */
export const GUARD_HEURISTICS: Readonly<Record<string, GuardHeuristic>> = Object.freeze({
  'expert-guard': expertGuardFromObservation,
  patrol: (obs: Float32Array) => ((obs[F.self_health] as number) > 0 ? ACTION.patrol : ACTION.idle),
});
