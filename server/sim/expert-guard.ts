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
 * arena, {@link expertGuardFromObservation} reads only the observation vector. The
 * observation version lives in the SDK (`sdk/heuristics/expert-guard.ts`, a builtin
 * heuristic of every brain, so library users of the shipped npc-guard get it); this
 * module gives it the thresholds of the arena's tuning.
 *
 * @module
 */
import type { Arena } from './arena.js';
import { DEFAULT_ARENA_CONFIG } from './config.js';
import { dist } from './geometry.js';
import { createExpertGuard, EXPERT_GUARD_THRESHOLDS } from '../../sdk/public.js';
import { ACTION, engagedAllies, guardHasTarget, visibleTarget } from './guard-actions.js';
import { F } from './guard-observation.js';

/** The expert's thresholds. */
export const EXPERT_THRESHOLDS = Object.freeze({
  /** Flee below this health fraction. */
  fleeHealth: EXPERT_GUARD_THRESHOLDS.fleeHealth,
  /** Once fleeing, keep fleeing below this health fraction. */
  recoverHealth: EXPERT_GUARD_THRESHOLDS.recoverHealth,
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
 * The expert's decision from one observation row alone (see `GUARD_FEATURES`): the
 * SDK's expert guard with this arena's flank distance. Matches {@link expertGuardAction}
 * on the default arena tuning.
 *
 * @param obs - one observation row (a subarray is fine)
 * @returns an action index
 * @example
 * const action = expertGuardFromObservation(observeGuard(arena, 'g0'));
 */
export const expertGuardFromObservation: (obs: Float32Array) => number = createExpertGuard({
  flankDistance: FLANK_DISTANCE,
});

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
