/**
 * The guards' reward: what a guard policy is trained to maximise.
 *
 * Per guard and per tick:
 * - `+damageDealt` per health point it takes from players, `+playerDown` for a
 *   finishing blow;
 * - `−damageTaken` per health point it loses, `−death` when downed;
 * - `−zoneCollect` × value when a player picks up an item inside its zone,
 *   `−zoneQuest` when a player finishes a quest inside its zone (its post's
 *   `zoneRadius`);
 * - `−time` every tick (small shaping; it does not change which policy is best).
 *
 * @module
 */
import type { Arena } from './arena.js';
import type { SimEvent } from './types.js';

/** Reward weights. */
export interface RewardWeights {
  readonly damageDealt: number;
  readonly playerDown: number;
  readonly damageTaken: number;
  readonly death: number;
  readonly zoneCollect: number;
  readonly zoneQuest: number;
  readonly time: number;
}

/** The default reward weights. */
export const GUARD_REWARD_WEIGHTS: RewardWeights = Object.freeze({
  damageDealt: 0.01,
  playerDown: 0.5,
  damageTaken: 0.005,
  death: 0.5,
  zoneCollect: 0.3,
  zoneQuest: 0.5,
  time: 0.001,
});

/**
 * Computes each guard's reward for one tick from that tick's events.
 *
 * @param arena - the arena (after the step)
 * @param events - the events of the step
 * @param weights - @default GUARD_REWARD_WEIGHTS
 * @returns one reward per guard, in `arena.guards` order
 */
export function guardRewards(
  arena: Arena,
  events: readonly SimEvent[],
  weights: RewardWeights = GUARD_REWARD_WEIGHTS,
): Float32Array {
  const n = arena.guards.length;
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) r[i] = -weights.time;
  const zr2 = arena.config.guard.zoneRadius * arena.config.guard.zoneRadius;
  for (const e of events) {
    switch (e.type) {
      case 'player-hit': {
        const g = arena.guard(e.guardId);
        if (g) r[g.index] = (r[g.index] as number) + weights.damageDealt * e.damage;
        break;
      }
      case 'player-down': {
        const g = arena.guard(e.guardId);
        if (g) r[g.index] = (r[g.index] as number) + weights.playerDown;
        break;
      }
      case 'guard-hit': {
        const g = arena.guard(e.guardId);
        if (g) r[g.index] = (r[g.index] as number) - weights.damageTaken * e.damage;
        break;
      }
      case 'guard-down': {
        const g = arena.guard(e.guardId);
        if (g) r[g.index] = (r[g.index] as number) - weights.death;
        break;
      }
      case 'collected':
      case 'quest-finished': {
        const w = e.type === 'collected' ? weights.zoneCollect * e.value : weights.zoneQuest;
        for (let i = 0; i < n; i++) {
          const post = arena.guardPost(i);
          const dx = e.pos.x - post.x;
          const dy = e.pos.y - post.y;
          if (dx * dx + dy * dy <= zr2) r[i] = (r[i] as number) - w;
        }
        break;
      }
      default:
        break;
    }
  }
  return r;
}

/**
 * The episode return so far: the mean over guards of their cumulative reward.
 *
 * @param arena - the arena
 * @returns the mean guard return (0 without guards)
 */
export function episodeReturn(arena: Arena): number {
  const r = arena.guardReturns;
  if (r.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] as number;
  return s / r.length;
}
