/**
 * What a guard observes: a fixed, ordered vector of features, each normalised
 * into [-1, 1] (most into [0, 1]). The same vector feeds the trained model, the
 * scripted expert's observation-only version and the SDK's fallback route.
 *
 * "Target" is the nearest living player in sight (within `sightRange` and with a
 * clear line of sight). When none is in sight but one was seen less than
 * `memoryTicks` ago, `target_dx`/`target_dy`/`target_distance` point at where it
 * was last seen and the other target features are 0. With no target at all,
 * they are 0, 0 and 1.
 *
 * @module
 */
import { GUARD_OBSERVATION_FEATURES, type GuardObservationFeature } from '../../sdk/public.js';
import type { Arena } from './arena.js';
import { clamp, dist, RAY_DIRECTIONS, rayToBounds, rayToRect } from './geometry.js';
import {
  ACTION,
  type EngagedGroups,
  engagedAllies,
  engagedGroupsOf,
  guardHasTarget,
  visibleTarget,
} from './guard-actions.js';
import { GuardGrid, gridSafe, type ObstacleLayer, obstacleIndex } from './spatial.js';
import type { Guard, Rect, Vec2 } from './types.js';

/** Scratch list of obstacles near the observing guard. */
const NEAR: Rect[] = [];

/**
 * What a batch of observations shares: the living guards on a grid of
 * `allyRadius` cells, the engaging guards by target, and the obstacles bucketed
 * by ray reach. Built once per {@link observeAll} from the current state.
 */
interface ObsContext {
  readonly grid: GuardGrid;
  readonly engaged: EngagedGroups;
  /** Obstacles bucketed with a pad beyond the ray length (null: scan them all). */
  readonly rayLayer: ObstacleLayer | null;
}

const GRIDS = new WeakMap<Arena, GuardGrid>();

function obsContext(arena: Arena): ObsContext {
  let grid = GRIDS.get(arena);
  if (grid === undefined) {
    grid = new GuardGrid();
    GRIDS.set(arena, grid);
  }
  grid.build(arena.guards, arena.config.guard.allyRadius);
  const engaged = engagedGroupsOf(arena);
  engaged.build(arena);
  return { grid, engaged, rayLayer: obstacleIndex(arena.obstacles).layer(arena.config.guard.rayLength + 1) };
}

/** The guard observation's feature names, in vector order (the npc-guard contract, defined in the SDK). */
export const GUARD_FEATURES = GUARD_OBSERVATION_FEATURES;

/** A guard feature name. */
export type GuardFeature = GuardObservationFeature;

/** Number of guard features. */
export const GUARD_FEATURE_COUNT = GUARD_FEATURES.length;

/** Index of each feature in the vector, e.g. `F.self_health === 0`. */
export const F: Readonly<Record<GuardFeature, number>> = Object.freeze(
  Object.fromEntries(GUARD_FEATURES.map((name, i) => [name, i])) as Record<GuardFeature, number>,
);

/**
 * Writes one guard's observation into `out` at `offset`.
 *
 * @param arena - the arena
 * @param guard - a guard of this arena
 * @param out - the destination
 * @param offset - where the row starts @default 0
 */
export function writeGuardObservation(arena: Arena, guard: Guard, out: Float32Array, offset = 0): void {
  writeRow(arena, guard, out, offset, null);
}

/**
 * Writes one row; with a context, neighbours come from its grids (the same
 * values as the plain scans: counts and minima do not depend on the order the
 * candidates come in, and obstacles are visited in their own order).
 */
function writeRow(arena: Arena, guard: Guard, out: Float32Array, offset: number, ctx: ObsContext | null): void {
  const gc = arena.config.guard;
  const o = offset;
  out.fill(0, o, o + GUARD_FEATURE_COUNT);
  out[o + F.target_distance] = 1;
  out[o + F.ally_distance] = 1;
  out[o + F.time_since_seen] = 1;
  if (!guard.alive) return;
  out[o + F.self_health] = guard.health / gc.maxHealth;
  out[o + F.self_cooldown] = guard.cooldown / gc.attackCooldown;
  out[o + F.self_fleeing] = guard.action === ACTION.flee ? 1 : 0;

  const target = visibleTarget(arena, guard);
  const known = guardHasTarget(arena, guard);
  const tp: Vec2 | null = target !== null ? target.pos : known ? guard.lastSeenPos : null;
  if (tp !== null) {
    const dx = tp.x - guard.pos.x;
    const dy = tp.y - guard.pos.y;
    const d = dist(tp, guard.pos);
    out[o + F.target_dx] = clamp(dx / gc.sightRange, -1, 1);
    out[o + F.target_dy] = clamp(dy / gc.sightRange, -1, 1);
    out[o + F.target_distance] = clamp(d / gc.sightRange, 0, 1);
    out[o + F.time_since_seen] = clamp((arena.tick - guard.lastSeenTick) / gc.memoryTicks, 0, 1);
    if (target !== null) {
      out[o + F.target_visible] = 1;
      out[o + F.target_health] = target.health / arena.config.player.maxHealth;
      out[o + F.target_attacking] = target.cooldown > 0 ? 1 : 0;
      out[o + F.target_in_range] = d <= gc.attackRange ? 1 : 0;
    }
  }

  // Allies: a count within allyRadius and a minimum distance. The grid lists
  // every living guard within allyRadius (and maybe more); an ally farther out
  // can only make `nearest / allyRadius` >= 1, which clamps to 1 either way.
  let near = 0;
  let nearest = Infinity;
  const guards = arena.guards;
  const k = ctx === null ? -1 : ctx.grid.query(guard.pos.x, guard.pos.y, gc.allyRadius);
  if (k >= 0) {
    const cand = (ctx as ObsContext).grid.out;
    for (let j = 0; j < k; j++) {
      const g = guards[cand[j] as number] as Guard;
      if (g === guard || g.team !== guard.team) continue; // the grid holds living guards only
      const d = dist(g.pos, guard.pos);
      if (d <= gc.allyRadius) near++;
      if (d < nearest) nearest = d;
    }
  } else {
    for (const g of guards) {
      if (g === guard || !g.alive || g.team !== guard.team) continue;
      const d = dist(g.pos, guard.pos);
      if (d <= gc.allyRadius) near++;
      if (d < nearest) nearest = d;
    }
  }
  out[o + F.allies_near] = Math.min(1, near / 5);
  out[o + F.ally_distance] = Math.min(1, nearest / gc.allyRadius);
  const engaged = ctx === null ? engagedAllies(arena, guard).length : ctx.engaged.count(guard);
  out[o + F.allies_engaged] = Math.min(1, engaged / 3);

  // Obstacle rays: only rectangles within ray length can shorten a ray.
  const L = gc.rayLength;
  const gx = guard.pos.x;
  const gy = guard.pos.y;
  let nearCount = 0;
  const rects = arena.obstacles;
  // The cell of a layer padded beyond L lists (in obstacle order) every
  // rectangle within L of the guard: the same NEAR list as a full scan.
  const layer: ObstacleLayer | null =
    !gridSafe(gx) || !gridSafe(gy) ? null : ctx !== null ? ctx.rayLayer : obstacleIndex(rects).layer(L + 1);
  if (layer !== null) {
    const c = layer.cellAt(gx, gy);
    const items = layer.items;
    const end = layer.start[c + 1] as number;
    for (let j = layer.start[c] as number; j < end; j++) {
      const r = rects[items[j] as number] as Rect;
      const nx = clamp(gx, r.x, r.x + r.w) - gx;
      const ny = clamp(gy, r.y, r.y + r.h) - gy;
      if (nx * nx + ny * ny <= L * L) NEAR[nearCount++] = r;
    }
  } else {
    for (let i = 0; i < rects.length; i++) {
      const r = rects[i] as Rect;
      const nx = clamp(gx, r.x, r.x + r.w) - gx;
      const ny = clamp(gy, r.y, r.y + r.h) - gy;
      if (nx * nx + ny * ny <= L * L) NEAR[nearCount++] = r;
    }
  }
  for (let k = 0; k < 8; k++) {
    const dir = RAY_DIRECTIONS[k] as Vec2;
    let t = Math.min(L, rayToBounds(gx, gy, dir.x, dir.y, arena.width, arena.height));
    for (let i = 0; i < nearCount; i++) {
      const h = rayToRect(gx, gy, dir.x, dir.y, NEAR[i] as Rect);
      if (h < t) t = h;
    }
    out[o + F.ray_e + k] = t / L;
  }
  NEAR.length = 0;

  const wp = guard.waypoints[guard.waypointIndex] as Vec2;
  const span = 2 * gc.patrolRadius;
  out[o + F.waypoint_dx] = clamp((wp.x - guard.pos.x) / span, -1, 1);
  out[o + F.waypoint_dy] = clamp((wp.y - guard.pos.y) / span, -1, 1);
}

/**
 * One guard's observation.
 *
 * @param arena - the arena
 * @param guardId - the guard's id
 * @returns a Float32Array of length {@link GUARD_FEATURE_COUNT}
 * @throws RangeError for an unknown guard id
 */
export function observeGuard(arena: Arena, guardId: string): Float32Array {
  const out = new Float32Array(GUARD_FEATURE_COUNT);
  writeGuardObservation(arena, arena.guardOrThrow(guardId), out, 0);
  return out;
}

/**
 * Every guard's observation, rows concatenated in `arena.guards` order (downed
 * guards included, with an empty row), ready for one batched inference.
 *
 * @param arena - the arena
 * @param out - an optional buffer of at least `guards × GUARD_FEATURE_COUNT` to reuse
 * @returns the batch (row `i` starts at `i × GUARD_FEATURE_COUNT`)
 */
export function observeAll(arena: Arena, out?: Float32Array): Float32Array {
  const need = arena.guards.length * GUARD_FEATURE_COUNT;
  const buf = out !== undefined && out.length >= need ? out : new Float32Array(need);
  const ctx = obsContext(arena);
  for (const g of arena.guards) writeRow(arena, g, buf, g.index * GUARD_FEATURE_COUNT, ctx);
  return buf;
}

/**
 * One guard's observation as an object keyed by feature name (the SDK's
 * `decide()` accepts this form too).
 *
 * @returns `{ self_health: …, self_cooldown: …, … }`
 */
export function observeGuardRecord(arena: Arena, guardId: string): Record<GuardFeature, number> {
  const row = observeGuard(arena, guardId);
  return Object.fromEntries(GUARD_FEATURES.map((name, i) => [name, row[i] as number])) as Record<GuardFeature, number>;
}
