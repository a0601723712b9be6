/**
 * The scripted expert guard, on one observation row: the heuristic the shipped
 * `npc-guard` model names as its fallback (`policy.fallback.heuristic: "expert-guard"`),
 * so a brain answers with it when the model cannot. It is a builtin heuristic of every
 * brain; the arena simulation (`server/sim`) decides with this same function.
 *
 * The finite-state machine a game designer would write, with fixed thresholds
 * (decent, not optimal):
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
 * Rows are in the order of {@link GUARD_OBSERVATION_FEATURES} (the npc-guard manifest's
 * `policy.observation.features`); the result indexes {@link GUARD_ACTION_NAMES}.
 *
 * @module
 */

/** The guard observation's feature names, in row order (the npc-guard contract). */
export const GUARD_OBSERVATION_FEATURES = [
  'self_health', // health / maxHealth, [0, 1]
  'self_cooldown', // attack cooldown left / attackCooldown, [0, 1]
  'self_fleeing', // 1 if the last action was flee
  'target_visible', // 1 if a player is in sight
  'target_dx', // (target x − own x) / sightRange, [-1, 1]
  'target_dy', // (target y − own y) / sightRange, [-1, 1]
  'target_distance', // distance / sightRange, [0, 1]; 1 without a target
  'target_health', // the seen target's health / maxHealth
  'target_attacking', // 1 if the seen target attacked recently (its cooldown runs)
  'target_in_range', // 1 if the seen target is within attack range
  'allies_near', // living allies within allyRadius / 5, [0, 1]
  'ally_distance', // nearest living ally / allyRadius, [0, 1]; 1 without one
  'allies_engaged', // allies chasing/attacking/flanking the same target / 3, [0, 1]
  'ray_e', // free distance along 8 rays / rayLength, [0, 1], clockwise from east
  'ray_se',
  'ray_s',
  'ray_sw',
  'ray_w',
  'ray_nw',
  'ray_n',
  'ray_ne',
  'waypoint_dx', // (patrol waypoint x − own x) / (2 · patrolRadius), [-1, 1]
  'waypoint_dy',
  'time_since_seen', // ticks since the target was seen / memoryTicks, [0, 1]; 1 without a target
] as const;

/** A guard feature name. */
export type GuardObservationFeature = (typeof GUARD_OBSERVATION_FEATURES)[number];

/** The guards' discrete actions, in model output order. */
export const GUARD_ACTION_NAMES = ['idle', 'patrol', 'chase', 'attack', 'flee', 'flank'] as const;

/** The name of a guard action. */
export type GuardActionName = (typeof GUARD_ACTION_NAMES)[number];

const F = Object.fromEntries(GUARD_OBSERVATION_FEATURES.map((name, i) => [name, i])) as Record<
  GuardObservationFeature,
  number
>;
const A = Object.fromEntries(GUARD_ACTION_NAMES.map((name, i) => [name, i])) as Record<GuardActionName, number>;

/** The expert's thresholds, in observation units. */
export interface ExpertGuardThresholds {
  /** Flee below this health fraction. @default 0.3 */
  fleeHealth: number;
  /** Once fleeing, keep fleeing below this health fraction. @default 0.6 */
  recoverHealth: number;
  /**
   * Flank only when `target_distance` (distance / sight range) is above this: twice the
   * attack range over the sight range. @default 72 / 220 (the shipped arena)
   */
  flankDistance: number;
}

/** The thresholds of the shipped arena (attack range 36, sight range 220). */
export const EXPERT_GUARD_THRESHOLDS: Readonly<ExpertGuardThresholds> = Object.freeze({
  fleeHealth: 0.3,
  recoverHealth: 0.6,
  flankDistance: (2 * 36) / 220,
});

/**
 * Makes the expert guard for other thresholds (another arena's ranges).
 * @param thresholds - overrides of {@link EXPERT_GUARD_THRESHOLDS}
 * @returns a heuristic: one observation row (a subarray is fine) → an action index
 * @example const guard = createExpertGuard({ flankDistance: (2 * 50) / 300 });
 */
export function createExpertGuard(thresholds: Partial<ExpertGuardThresholds> = {}): (row: Float32Array) => number {
  const { fleeHealth, recoverHealth, flankDistance } = { ...EXPERT_GUARD_THRESHOLDS, ...thresholds };
  return (obs) => {
    const h = obs[F.self_health]!;
    if (!(h > 0)) return A.idle;
    const fleeing = obs[F.self_fleeing]! > 0.5;
    if (obs[F.target_visible]! > 0.5) {
      if (h < fleeHealth || (fleeing && h < recoverHealth)) return A.flee;
      if (obs[F.target_in_range]! > 0.5) return obs[F.self_cooldown]! <= 0 ? A.attack : A.chase;
      if (obs[F.allies_engaged]! > 0 && obs[F.target_distance]! > flankDistance) return A.flank;
      return A.chase;
    }
    if (obs[F.time_since_seen]! < 1) return fleeing && h < recoverHealth ? A.flee : A.chase;
    return A.patrol;
  };
}

/**
 * The expert guard of the shipped arena: one observation row → an action index.
 * @example
 * const action = GUARD_ACTION_NAMES[expertGuard(row)]; // 'chase'
 */
export const expertGuard: (row: Float32Array) => number = createExpertGuard();
