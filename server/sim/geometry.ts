/**
 * Geometry helpers: circles against rectangles, line of sight, ray casts and
 * obstacle-aware movement. Only exactly-specified arithmetic is used (no trig),
 * so results are identical across JavaScript engines.
 *
 * @module
 */
import { gridSafe, type ObstacleIndex, type ObstacleLayer, obstacleIndex } from './spatial.js';
import type { Rect, Vec2 } from './types.js';

/** cos 45° = sin 45°. */
const C45 = Math.SQRT1_2;

/** The 8 ray directions, clockwise from east (screen y points down). */
export const RAY_DIRECTIONS: readonly Vec2[] = Object.freeze([
  { x: 1, y: 0 },
  { x: C45, y: C45 },
  { x: 0, y: 1 },
  { x: -C45, y: C45 },
  { x: -1, y: 0 },
  { x: -C45, y: -C45 },
  { x: 0, y: -1 },
  { x: C45, y: -C45 },
]);

/** @returns `v` clamped into [lo, hi] */
export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** @returns the Euclidean distance between two points */
export function dist(a: Vec2, b: Vec2): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return Math.sqrt(dx * dx + dy * dy);
}

/** @returns whether a circle at (cx, cy) of radius r overlaps the rectangle */
export function circleHitsRect(cx: number, cy: number, r: number, rect: Rect): boolean {
  const nx = clamp(cx, rect.x, rect.x + rect.w);
  const ny = clamp(cy, rect.y, rect.y + rect.h);
  const dx = cx - nx;
  const dy = cy - ny;
  return dx * dx + dy * dy < r * r;
}

/** @returns whether a circle overlaps any of the rectangles */
export function circleHitsAny(cx: number, cy: number, r: number, rects: readonly Rect[]): boolean {
  for (let i = 0; i < rects.length; i++) {
    if (circleHitsRect(cx, cy, r, rects[i] as Rect)) return true;
  }
  return false;
}

/**
 * {@link circleHitsAny} through a cell of an obstacle layer whose pad exceeds
 * the radius: only rectangles listed in the circle's cell can overlap it.
 */
function circleHitsLayer(
  cx: number,
  cy: number,
  r: number,
  rects: readonly Rect[],
  layer: ObstacleLayer | null,
): boolean {
  if (layer === null || !gridSafe(cx) || !gridSafe(cy)) return circleHitsAny(cx, cy, r, rects);
  const c = layer.cellAt(cx, cy);
  const items = layer.items;
  const end = layer.start[c + 1] as number;
  for (let k = layer.start[c] as number; k < end; k++) {
    if (circleHitsRect(cx, cy, r, rects[items[k] as number] as Rect)) return true;
  }
  return false;
}

/**
 * {@link circleHitsAny} with the obstacles' index: the same answer, looking only
 * at the rectangles near the circle.
 */
export function circleHitsIndexed(cx: number, cy: number, r: number, index: ObstacleIndex): boolean {
  return circleHitsLayer(cx, cy, r, index.rects, index.layer(r + 1));
}

/** @returns whether the segment a→b crosses the rectangle (Liang–Barsky clipping) */
export function segmentHitsRect(ax: number, ay: number, bx: number, by: number, rect: Rect): boolean {
  const dx = bx - ax;
  const dy = by - ay;
  let t0 = 0;
  let t1 = 1;
  // The four clipping edges: (p, q) = (-dx, ax − left), (dx, right − ax), (-dy, ay − top), (dy, bottom − ay).
  for (let i = 0; i < 4; i++) {
    const p = i === 0 ? -dx : i === 1 ? dx : i === 2 ? -dy : dy;
    const q = i === 0 ? ax - rect.x : i === 1 ? rect.x + rect.w - ax : i === 2 ? ay - rect.y : rect.y + rect.h - ay;
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const t = q / p;
    if (p < 0) {
      if (t > t0) t0 = t;
    } else if (t < t1) t1 = t;
    if (t0 > t1) return false;
  }
  return true;
}

/** @returns whether nothing blocks the straight line between a and b */
export function lineOfSight(a: Vec2, b: Vec2, rects: readonly Rect[]): boolean {
  for (let i = 0; i < rects.length; i++) {
    if (segmentHitsRect(a.x, a.y, b.x, b.y, rects[i] as Rect)) return false;
  }
  return true;
}

/**
 * {@link lineOfSight} with the obstacles' index: the same answer, testing only
 * the rectangles listed in the cell of the segment's midpoint of a layer padded
 * by more than half the segment's extent (any rectangle the segment touches is
 * within that reach of its midpoint).
 */
export function lineOfSightIndexed(a: Vec2, b: Vec2, index: ObstacleIndex): boolean {
  const ax = a.x;
  const ay = a.y;
  const bx = b.x;
  const by = b.y;
  const rects = index.rects;
  if (!gridSafe(ax) || !gridSafe(ay) || !gridSafe(bx) || !gridSafe(by)) return lineOfSight(a, b, rects);
  const hx = Math.abs(bx - ax) * 0.5;
  const hy = Math.abs(by - ay) * 0.5;
  const layer = index.layer((hx > hy ? hx : hy) + 1);
  if (layer === null) return lineOfSight(a, b, rects);
  const c = layer.cellAt((ax + bx) * 0.5, (ay + by) * 0.5);
  const items = layer.items;
  const end = layer.start[c + 1] as number;
  for (let k = layer.start[c] as number; k < end; k++) {
    if (segmentHitsRect(ax, ay, bx, by, rects[items[k] as number] as Rect)) return false;
  }
  return true;
}

/**
 * Distance along a ray (unit direction) to a rectangle, by the slab method.
 *
 * @returns the distance, 0 when the origin is inside, Infinity when missed
 */
export function rayToRect(ox: number, oy: number, dx: number, dy: number, rect: Rect): number {
  let tmin = -Infinity;
  let tmax = Infinity;
  if (dx === 0) {
    if (ox < rect.x || ox > rect.x + rect.w) return Infinity;
  } else {
    const a = (rect.x - ox) / dx;
    const b = (rect.x + rect.w - ox) / dx;
    tmin = a < b ? a : b;
    tmax = a < b ? b : a;
  }
  if (dy === 0) {
    if (oy < rect.y || oy > rect.y + rect.h) return Infinity;
  } else {
    const a = (rect.y - oy) / dy;
    const b = (rect.y + rect.h - oy) / dy;
    const lo = a < b ? a : b;
    const hi = a < b ? b : a;
    if (lo > tmin) tmin = lo;
    if (hi < tmax) tmax = hi;
  }
  if (tmax < 0 || tmin > tmax) return Infinity;
  return tmin < 0 ? 0 : tmin;
}

/** @returns distance along a unit ray from inside the world to its border */
export function rayToBounds(ox: number, oy: number, dx: number, dy: number, w: number, h: number): number {
  let t = Infinity;
  if (dx > 0) t = Math.min(t, (w - ox) / dx);
  else if (dx < 0) t = Math.min(t, -ox / dx);
  if (dy > 0) t = Math.min(t, (h - oy) / dy);
  else if (dy < 0) t = Math.min(t, -oy / dy);
  return t < 0 ? 0 : t;
}

/** The world an entity moves in. */
export interface MoveWorld {
  readonly width: number;
  readonly height: number;
  readonly obstacles: readonly Rect[];
}

/**
 * Moves a circle towards a direction by up to `speed`, staying inside the world
 * and out of obstacles. When the straight step is blocked it tries the
 * directions 45° and then 90° to either side (the `side` one first), so an
 * entity slides along walls instead of sticking; if all are blocked it stays.
 * The position is updated in place and is never left inside an obstacle.
 *
 * @param pos - the position to update
 * @param dx - desired direction x (any length; zero means stay)
 * @param dy - desired direction y
 * @param speed - maximum step length
 * @param radius - the circle's radius
 * @param side - +1 or -1: which way to try first when blocked
 * @returns whether the entity moved
 */
export function moveCircle(
  world: MoveWorld,
  pos: Vec2,
  dx: number,
  dy: number,
  speed: number,
  radius: number,
  side: number,
): boolean {
  const len = Math.sqrt(dx * dx + dy * dy);
  if (len < 1e-9) return false;
  const step = len > 1 ? speed : speed * len;
  const ux = dx / len;
  const uy = dy / len;
  const s = side < 0 ? -1 : 1;
  const rects = world.obstacles;
  const layer = obstacleIndex(rects).layer(radius + 1);
  // Candidate directions: straight, ±45°, ±90° (rotation by +θ: x' = x c - y s', y' = x s' + y c).
  for (let k = 0; k < 5; k++) {
    let cx: number;
    let cy: number;
    if (k === 0) {
      cx = ux;
      cy = uy;
    } else {
      const sg = k % 2 === 1 ? s : -s;
      if (k <= 2) {
        cx = (ux - sg * uy) * C45;
        cy = (sg * ux + uy) * C45;
      } else {
        cx = -sg * uy;
        cy = sg * ux;
      }
    }
    const nx = clamp(pos.x + cx * step, radius, world.width - radius);
    const ny = clamp(pos.y + cy * step, radius, world.height - radius);
    if ((nx !== pos.x || ny !== pos.y) && !circleHitsLayer(nx, ny, radius, rects, layer)) {
      pos.x = nx;
      pos.y = ny;
      return true;
    }
  }
  return false;
}
