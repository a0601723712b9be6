/**
 * Seeded generation of the arena's static layout: obstacles, guard posts and
 * patrol loops, player spawn points and quest shrines.
 *
 * @module
 */
import type { ArenaConfig } from './config.js';
import { circleHitsAny, circleHitsRect, dist } from './geometry.js';
import type { Rng } from './rng.js';
import type { Rect, Vec2 } from './types.js';

/** The static part of an arena, fixed for an episode. */
export interface ArenaLayout {
  readonly obstacles: readonly Rect[];
  /** One post per guard (the centre of its zone). */
  readonly posts: readonly Vec2[];
  /** One patrol loop per guard. */
  readonly patrols: readonly (readonly Vec2[])[];
  readonly playerSpawns: readonly Vec2[];
  /** Points used as targets of `visit` quests. */
  readonly shrines: readonly Vec2[];
}

/**
 * Finds a free point for a circle of radius `r` by rejection sampling from
 * `sample` (which draws from a seeded stream). After 200 rejected candidates it
 * falls back to a deterministic scan of the world, so it always returns a point
 * inside the world and outside every obstacle.
 *
 * @param cfg - the configuration (world size)
 * @param obstacles - rectangles to keep out of
 * @param r - the circle's radius
 * @param sample - draws a candidate point
 * @param accept - an extra condition on candidates @default always true
 * @returns a free point
 */
export function freePoint(
  cfg: Readonly<ArenaConfig>,
  obstacles: readonly Rect[],
  r: number,
  sample: () => Vec2,
  accept: (p: Vec2) => boolean = () => true,
): Vec2 {
  for (let tries = 0; tries < 200; tries++) {
    const p = sample();
    if (p.x < r || p.y < r || p.x > cfg.width - r || p.y > cfg.height - r) continue;
    if (circleHitsAny(p.x, p.y, r, obstacles)) continue;
    if (!accept(p)) continue;
    return p;
  }
  // Deterministic scan as a last resort.
  for (let y = r; y <= cfg.height - r; y += r) {
    for (let x = r; x <= cfg.width - r; x += r) {
      if (!circleHitsAny(x, y, r, obstacles)) return { x, y };
    }
  }
  return { x: cfg.width / 2, y: cfg.height / 2 };
}

/**
 * Generates a layout from a configuration and a seeded generator.
 *
 * Player spawns are at the four corners and the middle of the left and right
 * edges; obstacles keep clear of them. Guard posts are spread over the middle of
 * the map, at least 110 units apart when possible.
 *
 * @param cfg - the resolved configuration
 * @param rng - the layout stream
 * @returns the layout
 */
export function generateLayout(cfg: Readonly<ArenaConfig>, rng: Rng): ArenaLayout {
  const { width: W, height: H } = cfg;
  const m = 40;
  const playerSpawns: Vec2[] = [
    { x: m, y: m },
    { x: W - m, y: H - m },
    { x: W - m, y: m },
    { x: m, y: H - m },
    { x: m, y: H / 2 },
    { x: W - m, y: H / 2 },
  ];
  const obstacles: Rect[] = [];
  for (let i = 0, tries = 0; i < cfg.obstacleCount && tries < cfg.obstacleCount * 50; tries++) {
    const w = rng.range(30, 110);
    const h = rng.range(30, 110);
    const rect: Rect = { x: rng.range(60, W - 60 - w), y: rng.range(40, H - 40 - h), w, h };
    if (playerSpawns.some((s) => circleHitsRect(s.x, s.y, 70, rect))) continue;
    const gap = 34; // keeps corridors wide enough for every entity
    const grown: Rect = { x: rect.x - gap, y: rect.y - gap, w: rect.w + 2 * gap, h: rect.h + 2 * gap };
    if (obstacles.some((o) => rectsOverlap(o, grown))) continue;
    obstacles.push(rect);
    i++;
  }
  const gr = cfg.guard.radius + 4;
  const posts: Vec2[] = [];
  for (let i = 0; i < cfg.guardCount; i++) {
    let minSep = 110;
    let p: Vec2 | null = null;
    while (p === null) {
      const sep = minSep;
      const cand = freePoint(
        cfg,
        obstacles,
        gr,
        () => ({ x: rng.range(W * 0.22, W * 0.78), y: rng.range(H * 0.12, H * 0.88) }),
        (q) => posts.every((o) => dist(o, q) >= sep),
      );
      if (posts.every((o) => dist(o, cand) >= sep) || minSep < 1) p = cand;
      else minSep *= 0.7;
    }
    posts.push(p);
  }
  const patrols: Vec2[][] = posts.map((post) => {
    const pr = cfg.guard.patrolRadius;
    // A jittered square loop around the post; blocked corners fall back to the post.
    const flip = rng.chance(0.5) ? 1 : -1;
    const corners = [
      { x: pr, y: 0 },
      { x: 0, y: pr * flip },
      { x: -pr, y: 0 },
      { x: 0, y: -pr * flip },
    ];
    return corners.map((c) => {
      const q = { x: post.x + c.x + rng.gaussian(0, 12), y: post.y + c.y + rng.gaussian(0, 12) };
      const inside = q.x >= gr && q.y >= gr && q.x <= W - gr && q.y <= H - gr;
      return inside && !circleHitsAny(q.x, q.y, gr, obstacles) ? q : { x: post.x, y: post.y };
    });
  });
  const shrines: Vec2[] = [];
  for (let i = 0; i < 3; i++) {
    const post = posts[i % posts.length] as Vec2;
    shrines.push(
      freePoint(cfg, obstacles, 14, () => ({
        x: post.x + rng.gaussian(0, cfg.guard.zoneRadius * 0.4),
        y: post.y + rng.gaussian(0, cfg.guard.zoneRadius * 0.4),
      })),
    );
  }
  return { obstacles, posts, patrols, playerSpawns, shrines };
}

function rectsOverlap(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}
