/**
 * The simulation's spatial indexes (guard grids, obstacle layers, engaged
 * groups) must not change a single bit of what it computes. These tests compare
 * the optimised observation and mask with a plain reference implementation kept
 * here (a copy of the straightforward O(n²) / O(n · obstacles) scans), over many
 * sampled states of several seeds and at 500 guards, bit for bit; and pin whole
 * trajectories to the hashes the implementation gave before the indexes existed.
 */
import { expect } from 'chai';
import {
  ACTION,
  Arena,
  BOT_STYLES,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_FEATURE_INDEX as F,
  Rng,
  botInput,
  botQuestChoice,
  expertPolicy,
  guardActionMasks,
  observeAll,
  observeGuard,
  randomPolicy,
  runEpisode,
  type ArenaConfigInput,
  type Guard,
  type PlayerInput,
  type Rect,
  type Vec2,
} from '../../server/sim/index.js';
import { circleHitsIndexed, lineOfSightIndexed } from '../../server/sim/geometry.js';
import { engagedGroupsOf } from '../../server/sim/guard-actions.js';
import { obstacleIndex } from '../../server/sim/spatial.js';

// ---------------------------------------------------------------------------
// Reference implementation: the plain scans, written out independently of the
// simulation's own helpers.

const C45 = Math.SQRT1_2;
const RAYS: readonly Vec2[] = [
  { x: 1, y: 0 },
  { x: C45, y: C45 },
  { x: 0, y: 1 },
  { x: -C45, y: C45 },
  { x: -1, y: 0 },
  { x: -C45, y: -C45 },
  { x: 0, y: -1 },
  { x: C45, y: -C45 },
];
const ENGAGING = new Set<number>([ACTION.chase, ACTION.attack, ACTION.flank]);

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function dist(a: Vec2, b: Vec2): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return Math.sqrt(dx * dx + dy * dy);
}

function refCircleHitsAny(cx: number, cy: number, r: number, rects: readonly Rect[]): boolean {
  for (const rect of rects) {
    const dx = cx - clamp(cx, rect.x, rect.x + rect.w);
    const dy = cy - clamp(cy, rect.y, rect.y + rect.h);
    if (dx * dx + dy * dy < r * r) return true;
  }
  return false;
}

function refSegmentHitsRect(ax: number, ay: number, bx: number, by: number, rect: Rect): boolean {
  const dx = bx - ax;
  const dy = by - ay;
  let t0 = 0;
  let t1 = 1;
  const ps = [-dx, dx, -dy, dy];
  const qs = [ax - rect.x, rect.x + rect.w - ax, ay - rect.y, rect.y + rect.h - ay];
  for (let i = 0; i < 4; i++) {
    const p = ps[i]!;
    const q = qs[i]!;
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

function refLineOfSight(a: Vec2, b: Vec2, rects: readonly Rect[]): boolean {
  return !rects.some((r) => refSegmentHitsRect(a.x, a.y, b.x, b.y, r));
}

function refRayToRect(ox: number, oy: number, dx: number, dy: number, rect: Rect): number {
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

function refRayToBounds(ox: number, oy: number, dx: number, dy: number, w: number, h: number): number {
  let t = Infinity;
  if (dx > 0) t = Math.min(t, (w - ox) / dx);
  else if (dx < 0) t = Math.min(t, -ox / dx);
  if (dy > 0) t = Math.min(t, (h - oy) / dy);
  else if (dy < 0) t = Math.min(t, -oy / dy);
  return t < 0 ? 0 : t;
}

function refVisibleTarget(arena: Arena, g: Guard) {
  if (!g.alive || !g.targetVisible || g.targetId === null) return null;
  const p = arena.players.find((q) => q.id === g.targetId);
  return p !== undefined && p.alive ? p : null;
}

function refHasTarget(arena: Arena, g: Guard): boolean {
  return g.alive && g.lastSeenPos !== null && arena.tick - g.lastSeenTick < arena.config.guard.memoryTicks;
}

function refEngagedAllies(arena: Arena, guard: Guard): Guard[] {
  if (guard.targetId === null || !guard.alive) return [];
  const out = arena.guards.filter(
    (g) => g !== guard && g.alive && g.team === guard.team && g.targetId === guard.targetId && ENGAGING.has(g.action),
  );
  return out.sort((a, b) => dist(a.pos, guard.pos) - dist(b.pos, guard.pos) || a.index - b.index);
}

/** The observation row, by scanning every guard and every obstacle. */
function refObservation(arena: Arena, guard: Guard, out: Float32Array, o: number): void {
  const gc = arena.config.guard;
  out.fill(0, o, o + GUARD_FEATURE_COUNT);
  out[o + F.target_distance] = 1;
  out[o + F.ally_distance] = 1;
  out[o + F.time_since_seen] = 1;
  if (!guard.alive) return;
  out[o + F.self_health] = guard.health / gc.maxHealth;
  out[o + F.self_cooldown] = guard.cooldown / gc.attackCooldown;
  out[o + F.self_fleeing] = guard.action === ACTION.flee ? 1 : 0;
  const target = refVisibleTarget(arena, guard);
  const tp = target !== null ? target.pos : refHasTarget(arena, guard) ? guard.lastSeenPos : null;
  if (tp !== null) {
    const d = dist(tp, guard.pos);
    out[o + F.target_dx] = clamp((tp.x - guard.pos.x) / gc.sightRange, -1, 1);
    out[o + F.target_dy] = clamp((tp.y - guard.pos.y) / gc.sightRange, -1, 1);
    out[o + F.target_distance] = clamp(d / gc.sightRange, 0, 1);
    out[o + F.time_since_seen] = clamp((arena.tick - guard.lastSeenTick) / gc.memoryTicks, 0, 1);
    if (target !== null) {
      out[o + F.target_visible] = 1;
      out[o + F.target_health] = target.health / arena.config.player.maxHealth;
      out[o + F.target_attacking] = target.cooldown > 0 ? 1 : 0;
      out[o + F.target_in_range] = d <= gc.attackRange ? 1 : 0;
    }
  }
  let near = 0;
  let nearest = Infinity;
  for (const g of arena.guards) {
    if (g === guard || !g.alive || g.team !== guard.team) continue;
    const d = dist(g.pos, guard.pos);
    if (d <= gc.allyRadius) near++;
    if (d < nearest) nearest = d;
  }
  out[o + F.allies_near] = Math.min(1, near / 5);
  out[o + F.ally_distance] = Math.min(1, nearest / gc.allyRadius);
  out[o + F.allies_engaged] = Math.min(1, refEngagedAllies(arena, guard).length / 3);
  const L = gc.rayLength;
  const { x: gx, y: gy } = guard.pos;
  const near2 = arena.obstacles.filter((r) => {
    const nx = clamp(gx, r.x, r.x + r.w) - gx;
    const ny = clamp(gy, r.y, r.y + r.h) - gy;
    return nx * nx + ny * ny <= L * L;
  });
  for (let k = 0; k < 8; k++) {
    const dir = RAYS[k]!;
    let t = Math.min(L, refRayToBounds(gx, gy, dir.x, dir.y, arena.width, arena.height));
    for (const r of near2) {
      const h = refRayToRect(gx, gy, dir.x, dir.y, r);
      if (h < t) t = h;
    }
    out[o + F.ray_e + k] = t / L;
  }
  const wp = guard.waypoints[guard.waypointIndex]!;
  const span = 2 * gc.patrolRadius;
  out[o + F.waypoint_dx] = clamp((wp.x - guard.pos.x) / span, -1, 1);
  out[o + F.waypoint_dy] = clamp((wp.y - guard.pos.y) / span, -1, 1);
}

/** The action mask row. */
function refMask(arena: Arena, guard: Guard, out: Float32Array, o: number): void {
  out[o + ACTION.idle] = 1;
  if (!guard.alive) return;
  const known = refHasTarget(arena, guard) ? 1 : 0;
  const t = refVisibleTarget(arena, guard);
  out[o + ACTION.patrol] = 1;
  out[o + ACTION.chase] = known;
  out[o + ACTION.attack] =
    guard.cooldown <= 0 && t !== null && dist(guard.pos, t.pos) <= arena.config.guard.attackRange ? 1 : 0;
  out[o + ACTION.flee] = 1;
  out[o + ACTION.flank] = known;
}

// ---------------------------------------------------------------------------
// Helpers.

/** Asserts bitwise equality (so -0 ≠ 0 and every last bit counts). */
function expectSameBits(actual: Float32Array, expected: Float32Array, names: readonly string[], what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) {
      const row = Math.floor(i / names.length);
      expect.fail(`${what}: guard ${row} ${names[i % names.length]}: got ${actual[i]}, reference ${expected[i]}`);
    }
  }
}

const MASK_NAMES = ['idle', 'patrol', 'chase', 'attack', 'flee', 'flank'];

/** Compares observeAll, observeGuard and the masks with the reference on the current state. */
function checkState(arena: Arena, what: string): void {
  const n = arena.guards.length;
  const ref = new Float32Array(n * GUARD_FEATURE_COUNT);
  for (const g of arena.guards) refObservation(arena, g, ref, g.index * GUARD_FEATURE_COUNT);
  expectSameBits(observeAll(arena), ref, GUARD_FEATURES, `${what} observeAll`);
  // A reused buffer with stale content gives the same rows.
  const reused = new Float32Array(n * GUARD_FEATURE_COUNT).fill(0.5);
  expectSameBits(observeAll(arena, reused), ref, GUARD_FEATURES, `${what} observeAll(reused)`);
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 7))) {
    const g = arena.guards[i]!;
    expectSameBits(
      observeGuard(arena, g.id),
      ref.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT),
      GUARD_FEATURES,
      `${what} observeGuard ${g.id}`,
    );
  }
  const refM = new Float32Array(n * GUARD_ACTION_COUNT);
  for (const g of arena.guards) refMask(arena, g, refM, g.index * GUARD_ACTION_COUNT);
  expectSameBits(guardActionMasks(arena), refM, MASK_NAMES, `${what} masks`);
  // The engaged groups answer like the sorted scan.
  const engaged = engagedGroupsOf(arena);
  engaged.build(arena);
  for (const g of arena.guards) {
    const list = refEngagedAllies(arena, g);
    expect(engaged.count(g), `${what} engaged count ${g.id}`).to.equal(list.length);
    expect(engaged.nearest(g), `${what} nearest engaged ${g.id}`).to.equal(list[0]);
  }
}

/** Moves players among the guards, downs a few guards and sets engaging actions, to reach states episodes rarely do. */
function scramble(arena: Arena, rng: Rng): void {
  const guards = arena.guards;
  for (const p of arena.players) {
    if (rng.chance(0.8)) {
      const g = guards[rng.int(guards.length)]!;
      p.pos = { x: g.pos.x + rng.gaussian(0, 80), y: g.pos.y + rng.gaussian(0, 80) };
    }
  }
  for (const g of guards) {
    if (rng.chance(0.05)) {
      g.alive = !g.alive;
      g.respawnIn = 3;
    }
    if (rng.chance(0.3)) g.action = rng.pick([ACTION.chase, ACTION.flank, ACTION.attack, ACTION.flee, ACTION.patrol]);
    if (rng.chance(0.1)) {
      // Stack allies exactly on top of, or exactly allyRadius away from, another guard.
      const o = guards[rng.int(guards.length)]!;
      const r = arena.config.guard.allyRadius;
      g.pos = rng.chance(0.5) ? { x: o.pos.x, y: o.pos.y } : { x: o.pos.x + r, y: o.pos.y };
    }
  }
}

/**
 * Drives an arena with a seeded random policy and bots, calling `visit` on the
 * state before every step.
 */
function drive(arena: Arena, ticks: number, seed: number, visit: (t: number) => void): void {
  const policy = randomPolicy(seed);
  const obs = new Float32Array(arena.guards.length * GUARD_FEATURE_COUNT);
  const inputs = new Map<string, PlayerInput>();
  for (let t = 0; t < ticks; t++) {
    visit(t);
    observeAll(arena, obs);
    const masks = guardActionMasks(arena);
    const actions = policy(obs, arena.guards.length, masks, arena) as ArrayLike<number>;
    arena.players.forEach((p, i) => {
      const style = BOT_STYLES[i % BOT_STYLES.length]!;
      const q = botQuestChoice(arena, p.id, style);
      if (q !== null) arena.takeQuest(p.id, q);
      inputs.set(p.id, botInput(arena, p.id, style));
    });
    arena.step(actions, inputs);
  }
}

/** The benchmark's world for `guards` guards (area, obstacles and pickups scale with the count). */
function benchConfig(guards: number, extra: ArenaConfigInput = {}): ArenaConfigInput {
  const s = Math.max(1, Math.sqrt(guards / 6));
  return {
    guardCount: guards,
    playerCount: Math.max(4, Math.round(guards / 25)),
    width: Math.round(800 * s),
    height: Math.round(600 * s),
    obstacleCount: Math.round(9 * s),
    collectibleCount: Math.round(8 * s),
    ...extra,
  };
}

/** FNV-1a over a Float32Array's bits, mixed into `h`. */
function mixBits(h: number, a: Float32Array): number {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ (u[i] as number), 0x01000193) >>> 0;
  return h;
}

/**
 * A crowded large arena: players teleported among the guards at the start, then
 * a random policy and bots. @returns a hash of every tick's state, observations and masks
 */
function crowdedRun(guards: number, ticks: number, seed: number, extra: ArenaConfigInput): string {
  const arena = new Arena(benchConfig(guards, extra), seed);
  const rng = new Rng(seed + 1000);
  arena.players.forEach((p, i) => {
    const g = arena.guards[(i * 37) % arena.guards.length]!;
    p.pos = { x: g.pos.x + rng.range(-60, 60), y: g.pos.y + rng.range(-60, 60) };
  });
  let h = 0x811c9dc5;
  drive(arena, ticks, seed, () => {
    h = mixBits(h, observeAll(arena));
    h = mixBits(h, guardActionMasks(arena));
    h = Math.imul(h ^ arena.stateHash(), 0x01000193) >>> 0;
  });
  return (h >>> 0).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------

describe('arena simulation: spatial indexes change nothing', () => {
  it('observeAll, observeGuard and the masks equal the plain reference bit for bit over sampled states (4 seeds)', () => {
    for (const seed of [1, 2, 3, 4]) {
      const config: ArenaConfigInput = seed % 2 === 0 ? { guardTeams: 2, guardCount: 12, obstacleCount: 14 } : {};
      const arena = new Arena(config, seed);
      const rng = new Rng(seed * 7919);
      drive(arena, 300, seed, (t) => {
        checkState(arena, `seed ${seed} tick ${t}`);
        if (t % 10 === 5) {
          scramble(arena, rng);
          checkState(arena, `seed ${seed} tick ${t} scrambled`);
        }
      });
    }
  });

  it('equals the reference in dense arenas with teams (many allies, obstacles and engagements)', () => {
    for (const seed of [5, 6]) {
      const arena = new Arena(
        {
          guardCount: 60,
          guardTeams: 3,
          width: 1600,
          height: 1200,
          obstacleCount: 60,
          collectibleCount: 16,
          playerCount: 12,
        },
        seed,
      );
      const rng = new Rng(seed);
      drive(arena, 120, seed, (t) => {
        if (t % 3 === 0) checkState(arena, `dense seed ${seed} tick ${t}`);
        if (t % 20 === 10) {
          scramble(arena, rng);
          checkState(arena, `dense seed ${seed} tick ${t} scrambled`);
        }
      });
    }
  });

  it('equals the reference at 500 guards, with players among them and with 750 obstacles', function () {
    this.timeout(120_000);
    for (const [seed, extra] of [
      [1, {}],
      [2, { guardTeams: 3, obstacleCount: 750 }],
    ] as [number, ArenaConfigInput][]) {
      const arena = new Arena(benchConfig(500, extra), seed);
      const rng = new Rng(seed + 99);
      scramble(arena, rng);
      drive(arena, 24, seed, (t) => {
        if (t % 4 === 0) checkState(arena, `500 guards seed ${seed} tick ${t}`);
        if (t % 8 === 6) {
          scramble(arena, rng);
          checkState(arena, `500 guards seed ${seed} tick ${t} scrambled`);
        }
      });
    }
  });

  it('equals the reference for entities out of the world, on cell borders and at huge coordinates', () => {
    const arena = new Arena({ guardCount: 40, guardTeams: 2, width: 1200, height: 900, obstacleCount: 30 }, 8);
    const gs = arena.guards;
    const spots: Vec2[] = [
      { x: -300, y: 50 },
      { x: arena.width + 500, y: arena.height + 500 },
      { x: 0, y: 0 },
      { x: 64, y: 128 },
      { x: 160, y: 320 },
      { x: 320, y: 160 },
      { x: 1e12, y: 5 },
      { x: -1e12, y: -1e12 },
    ];
    spots.forEach((s, i) => (gs[i]!.pos = { ...s }));
    // Guards on obstacle edges and corners (rays and line of sight start on the boundary).
    arena.obstacles.slice(0, 10).forEach((r, i) => {
      gs[10 + i]!.pos =
        i % 3 === 0
          ? { x: r.x, y: r.y }
          : i % 3 === 1
            ? { x: r.x + r.w, y: r.y + r.h / 2 }
            : { x: r.x + r.w / 2, y: r.y + r.h };
    });
    // Allies exactly allyRadius apart, and chains of them.
    const R = arena.config.guard.allyRadius;
    for (let i = 20; i < 30; i++) gs[i]!.pos = { x: 200 + (i - 20) * R, y: 450 };
    for (const g of gs) {
      g.action = g.index % 3 === 0 ? ACTION.chase : g.index % 3 === 1 ? ACTION.flank : ACTION.patrol;
      g.targetId = g.index % 2 === 0 ? 'p0' : 'p1';
    }
    checkState(arena, 'edge placements');
    arena.step(gs.map(() => ACTION.flank));
    checkState(arena, 'edge placements after a step');
    arena.players[0]!.pos = { x: -1e12, y: 3 };
    arena.step(
      gs.map(() => ACTION.chase),
      { p0: { dx: 1, dy: 0, attack: true } },
    );
    checkState(arena, 'edge placements with a player far out');
  });

  it('answers line of sight and circle overlaps like a scan of every obstacle', () => {
    for (const seed of [1, 2, 3]) {
      const arena = new Arena({ obstacleCount: 120, width: 2400, height: 1800 }, seed);
      const rects = arena.obstacles;
      const index = obstacleIndex(rects);
      const rng = new Rng(seed);
      const corner = (): Vec2 => {
        const r = rects[rng.int(rects.length)]!;
        const fx = rng.pick([0, 0.5, 1]);
        const fy = rng.pick([0, 0.5, 1]);
        return { x: r.x + r.w * fx + rng.pick([0, 0, 1e-9, -1e-9]), y: r.y + r.h * fy };
      };
      for (let i = 0; i < 20000; i++) {
        const a = rng.chance(0.3)
          ? corner()
          : { x: rng.range(-100, arena.width + 100), y: rng.range(-100, arena.height + 100) };
        const len = rng.pick([5, 40, 220, 400, 1200]);
        const b = rng.chance(0.3) ? corner() : { x: a.x + rng.range(-len, len), y: a.y + rng.range(-len, len) };
        expect(lineOfSightIndexed(a, b, index), `los ${JSON.stringify([a, b])}`).to.equal(refLineOfSight(a, b, rects));
        const r = rng.pick([0.5, 8, 10, 11, 14, 40, 400]);
        expect(circleHitsIndexed(a.x, a.y, r, index), `circle ${JSON.stringify([a, r])}`).to.equal(
          refCircleHitsAny(a.x, a.y, r, rects),
        );
      }
    }
  });

  // Hashes recorded with the implementation before the spatial indexes (plain scans).
  it('replays exactly the trajectories of the plain implementation', async () => {
    const bots12 = Array.from({ length: 12 }, (_, i) => BOT_STYLES[i % 3]!);
    const dense: ArenaConfigInput = {
      guardCount: 60,
      guardTeams: 3,
      width: 1600,
      height: 1200,
      obstacleCount: 60,
      collectibleCount: 16,
    };
    const big: ArenaConfigInput = {
      guardCount: 150,
      guardTeams: 2,
      width: 4000,
      height: 3000,
      obstacleCount: 120,
      collectibleCount: 40,
    };
    const cases: [string, Parameters<typeof runEpisode>[0], string][] = [
      ['default s1 random', { seed: 1, guardPolicy: randomPolicy(5), endOnWipe: false }, '3541f175'],
      ['default s2 expert', { seed: 2, guardPolicy: expertPolicy, endOnWipe: false }, '64cd0cf7'],
      ['default s3 random', { seed: 3, guardPolicy: randomPolicy(6), endOnWipe: false, maxTicks: 600 }, '729f8475'],
      [
        'big s5 expert',
        { seed: 5, guardPolicy: expertPolicy, config: big, bots: bots12, maxTicks: 300, endOnWipe: false },
        '2ca92bf0',
      ],
      [
        'dense s6 random',
        { seed: 6, guardPolicy: randomPolicy(8), config: dense, bots: bots12, maxTicks: 400, endOnWipe: false },
        '30b5efee',
      ],
      [
        'dense s7 expert',
        { seed: 7, guardPolicy: expertPolicy, config: dense, bots: bots12, maxTicks: 400, endOnWipe: false },
        '8a072be2',
      ],
    ];
    for (const [name, options, hash] of cases) {
      expect((await runEpisode(options)).hash, name).to.equal(hash);
    }
  });

  it('replays exactly a crowded 500-guard run of the plain implementation (states, observations and masks)', function () {
    this.timeout(120_000);
    expect(crowdedRun(500, 60, 3, {}), '500 guards').to.equal(GOLDEN_CROWDED_500);
    expect(crowdedRun(300, 60, 4, { guardTeams: 2, obstacleCount: 500 }), '300 guards, 500 obstacles').to.equal(
      GOLDEN_CROWDED_300,
    );
  });
});

const GOLDEN_CROWDED_500 = '3e402856';
const GOLDEN_CROWDED_300 = '0279fcf5';
