/**
 * The guards' discrete action set, what each action does, and the action mask.
 *
 * | index | action   | movement                                        | effect |
 * |-------|----------|-------------------------------------------------|--------|
 * | 0     | `idle`   | stays                                           | — |
 * | 1     | `patrol` | walks its patrol loop around its post           | — |
 * | 2     | `chase`  | towards the target (seen, else last seen)       | — |
 * | 3     | `attack` | stays                                           | strikes the target if in range and ready |
 * | 4     | `flee`   | away from the target (none: back to its post)   | — |
 * | 5     | `flank`  | to the far side of the target from an engaged ally (none: circles to its side) | — |
 *
 * @module
 */
import { GUARD_ACTION_NAMES, type GuardActionName } from '../../sdk/public.js';
import type { Arena } from './arena.js';
import { dist } from './geometry.js';
import type { Guard, Player, Vec2 } from './types.js';

/** The guards' discrete actions, in model output order (the npc-guard contract, defined in the SDK). */
export const GUARD_ACTIONS = GUARD_ACTION_NAMES;

/** The name of a guard action. */
export type GuardAction = GuardActionName;

/** Action indices by name, e.g. `ACTION.attack === 3`. */
export const ACTION: Readonly<Record<GuardAction, number>> = Object.freeze({
  idle: 0,
  patrol: 1,
  chase: 2,
  attack: 3,
  flee: 4,
  flank: 5,
});

/** Number of guard actions. */
export const GUARD_ACTION_COUNT = GUARD_ACTIONS.length;

/** @returns whether an action index means the guard is engaging its target */
export function isEngagingAction(action: number): boolean {
  return action === ACTION.chase || action === ACTION.attack || action === ACTION.flank;
}

/**
 * @returns whether the guard still knows where its target is (seen now, or
 *   seen less than `memoryTicks` ago)
 */
export function guardHasTarget(arena: Arena, guard: Guard): boolean {
  return guard.alive && guard.lastSeenPos !== null && arena.tick - guard.lastSeenTick < arena.config.guard.memoryTicks;
}

/** @returns the guard's currently visible, living target, or null */
export function visibleTarget(arena: Arena, guard: Guard): Player | null {
  if (!guard.alive || !guard.targetVisible || guard.targetId === null) return null;
  const p = arena.player(guard.targetId);
  return p !== undefined && p.alive ? p : null;
}

/** @returns whether an `attack` would strike now: target seen, within reach, cooldown over */
export function guardCanAttack(arena: Arena, guard: Guard): boolean {
  if (guard.cooldown > 0) return false;
  const t = visibleTarget(arena, guard);
  return t !== null && dist(guard.pos, t.pos) <= arena.config.guard.attackRange;
}

/**
 * Allies (same team, alive, not this guard) engaging the same target as this guard.
 *
 * @returns them, nearest first
 */
export function engagedAllies(arena: Arena, guard: Guard): Guard[] {
  if (guard.targetId === null || !guard.alive) return [];
  const out: Guard[] = [];
  for (const g of arena.guards) {
    if (g === guard || !g.alive || g.team !== guard.team) continue;
    if (g.targetId === guard.targetId && isEngagingAction(g.action)) out.push(g);
  }
  out.sort((a, b) => dist(a.pos, guard.pos) - dist(b.pos, guard.pos) || a.index - b.index);
  return out;
}

/**
 * The engaging guards grouped by target and team, for answering
 * {@link engagedAllies} questions of many guards in one pass. Valid until a
 * guard's `alive`, `team`, `targetId` or `action` changes (positions may
 * change: distances are measured when asked).
 */
export class EngagedGroups {
  /** targetId → team → engaging living guards, in index order. */
  private readonly groups = new Map<string, Guard[][]>();

  /** Regroups the arena's guards. */
  build(arena: Arena): void {
    for (const teams of this.groups.values()) for (const list of teams) if (list !== undefined) list.length = 0;
    for (const g of arena.guards) {
      if (!g.alive || g.targetId === null || !isEngagingAction(g.action)) continue;
      let teams = this.groups.get(g.targetId);
      if (teams === undefined) {
        teams = [];
        this.groups.set(g.targetId, teams);
      }
      let list = teams[g.team];
      if (list === undefined) {
        list = [];
        teams[g.team] = list;
      }
      list.push(g);
    }
    if (this.groups.size > 2 * arena.players.length + 16) {
      // Forget targets nobody engages any more (players come and go).
      for (const [id, teams] of this.groups)
        if (teams.every((l) => l === undefined || l.length === 0)) this.groups.delete(id);
    }
  }

  private list(guard: Guard): Guard[] | undefined {
    if (guard.targetId === null || !guard.alive) return undefined;
    return this.groups.get(guard.targetId)?.[guard.team];
  }

  /** @returns `engagedAllies(arena, guard).length` */
  count(guard: Guard): number {
    const list = this.list(guard);
    if (list === undefined) return 0;
    // The guard is in its own group exactly when it engages too.
    return list.length - (isEngagingAction(guard.action) ? 1 : 0);
  }

  /** @returns `engagedAllies(arena, guard)[0]`: the nearest, the lowest index among equally near */
  nearest(guard: Guard): Guard | undefined {
    const list = this.list(guard);
    if (list === undefined) return undefined;
    let best: Guard | undefined;
    let bestD = Infinity;
    for (let i = 0; i < list.length; i++) {
      const g = list[i] as Guard;
      if (g === guard) continue;
      const d = dist(g.pos, guard.pos);
      if (best === undefined || d < bestD) {
        best = g;
        bestD = d;
      }
    }
    return best;
  }
}

const ENGAGED = new WeakMap<Arena, EngagedGroups>();

/** @returns the arena's reusable {@link EngagedGroups} (call `build` before use) */
export function engagedGroupsOf(arena: Arena): EngagedGroups {
  let e = ENGAGED.get(arena);
  if (e === undefined) {
    e = new EngagedGroups();
    ENGAGED.set(arena, e);
  }
  return e;
}

/**
 * The action mask of one guard: 1 = allowed, 0 = forbidden. A downed guard may
 * only `idle`; `attack` needs a seen target within reach and no cooldown;
 * `chase` and `flank` need a target seen now or remembered.
 *
 * @param arena - the arena
 * @param guardId - the guard's id
 * @returns a Float32Array of length {@link GUARD_ACTION_COUNT}
 * @throws RangeError for an unknown guard id
 */
export function guardActionMask(arena: Arena, guardId: string): Float32Array {
  const out = new Float32Array(GUARD_ACTION_COUNT);
  writeGuardActionMask(arena, arena.guardOrThrow(guardId), out, 0);
  return out;
}

/**
 * Masks of every guard, rows concatenated in `arena.guards` order.
 *
 * @returns a Float32Array of length `guards × GUARD_ACTION_COUNT`
 */
export function guardActionMasks(arena: Arena): Float32Array {
  const out = new Float32Array(arena.guards.length * GUARD_ACTION_COUNT);
  for (const g of arena.guards) writeGuardActionMask(arena, g, out, g.index * GUARD_ACTION_COUNT);
  return out;
}

/** Writes one guard's mask into `out` at `offset`. */
export function writeGuardActionMask(arena: Arena, guard: Guard, out: Float32Array, offset: number): void {
  out[offset + ACTION.idle] = 1;
  if (!guard.alive) return;
  const known = guardHasTarget(arena, guard) ? 1 : 0;
  out[offset + ACTION.patrol] = 1;
  out[offset + ACTION.chase] = known;
  out[offset + ACTION.attack] = guardCanAttack(arena, guard) ? 1 : 0;
  out[offset + ACTION.flee] = 1;
  out[offset + ACTION.flank] = known;
}

/**
 * The direction a guard wants to move in for an action (not normalised; zero
 * means stay). Patrol advances the waypoint when reached (a side effect kept
 * here so that the patrol semantics live in one place).
 *
 * @param engaged - the arena's engaged groups, built on the current state (saves a scan of every guard when flanking)
 * @returns the desired movement vector
 */
export function guardSteer(arena: Arena, guard: Guard, action: number, engaged?: EngagedGroups): Vec2 {
  const zero = { x: 0, y: 0 };
  const known = guardHasTarget(arena, guard);
  const targetPos = known ? (visibleTarget(arena, guard)?.pos ?? guard.lastSeenPos) : null;
  switch (action) {
    case ACTION.patrol: {
      let wp = guard.waypoints[guard.waypointIndex] as Vec2;
      if (dist(guard.pos, wp) < 10) {
        guard.waypointIndex = (guard.waypointIndex + 1) % guard.waypoints.length;
        wp = guard.waypoints[guard.waypointIndex] as Vec2;
      }
      return { x: wp.x - guard.pos.x, y: wp.y - guard.pos.y };
    }
    case ACTION.chase: {
      if (targetPos === null) return zero;
      const dx = targetPos.x - guard.pos.x;
      const dy = targetPos.y - guard.pos.y;
      // Stop just inside reach instead of walking into the player.
      return Math.sqrt(dx * dx + dy * dy) < arena.config.guard.attackRange * 0.6 ? zero : { x: dx, y: dy };
    }
    case ACTION.flee: {
      const from = targetPos;
      if (from === null) return { x: guard.post.x - guard.pos.x, y: guard.post.y - guard.pos.y };
      const dx = guard.pos.x - from.x;
      const dy = guard.pos.y - from.y;
      return dx === 0 && dy === 0 ? { x: guard.index % 2 === 0 ? 1 : -1, y: 0 } : { x: dx, y: dy };
    }
    case ACTION.flank: {
      if (targetPos === null) return zero;
      const reach = arena.config.guard.attackRange * 0.8;
      const ally = engaged !== undefined ? engaged.nearest(guard) : engagedAllies(arena, guard)[0];
      let ox: number;
      let oy: number;
      if (ally !== undefined) {
        // The far side of the target, seen from the ally.
        ox = targetPos.x - ally.pos.x;
        oy = targetPos.y - ally.pos.y;
      } else {
        // Circle to the side of the target.
        const s = guard.index % 2 === 0 ? 1 : -1;
        ox = -(targetPos.y - guard.pos.y) * s;
        oy = (targetPos.x - guard.pos.x) * s;
      }
      const ol = Math.sqrt(ox * ox + oy * oy);
      if (ol < 1e-9) return { x: targetPos.x - guard.pos.x, y: targetPos.y - guard.pos.y };
      const px = targetPos.x + (ox / ol) * reach;
      const py = targetPos.y + (oy / ol) * reach;
      const dx = px - guard.pos.x;
      const dy = py - guard.pos.y;
      if (dx * dx + dy * dy < 36) return { x: targetPos.x - guard.pos.x, y: targetPos.y - guard.pos.y };
      return { x: dx, y: dy };
    }
    default:
      return zero; // idle, attack
  }
}
