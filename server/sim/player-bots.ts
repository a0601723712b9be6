/**
 * Scripted player bots, the guards' opponents in training and evaluation.
 *
 * - `fighter`: hunts the nearest guard and trades blows, strafing; backs off
 *   when badly hurt.
 * - `collector`: goes for the safest pickup, keeps away from guards, hits back
 *   only when cornered.
 * - `quester`: follows its quest (collect, defeat, visit) and kites: strikes
 *   from just outside a guard's reach, then steps back while cooling down.
 *
 * Bots draw their noise from `arena.botRng`, so they are seeded with the arena.
 *
 * @module
 */
import type { Arena } from './arena.js';
import { dist } from './geometry.js';
import { GuardGrid, sortPrefix } from './spatial.js';
import type { Guard, Player, PlayerInput, QuestKind, Vec2 } from './types.js';

/** The bot styles. */
export const BOT_STYLES = ['fighter', 'collector', 'quester'] as const;

/** A bot style. */
export type BotStyle = (typeof BOT_STYLES)[number];

const IDLE: PlayerInput = Object.freeze({ dx: 0, dy: 0, attack: false });

/** Cell side of the bots' guard grid (their neighbour queries reach 140–250). */
const BOT_GRID_CELL = 128;
const GRIDS = new WeakMap<Arena, GuardGrid>();
let gridArena: Arena | null = null;
let gridBuilt = false;

/**
 * The living guards on a grid, built at most once per {@link botInput} call
 * (positions may change between calls), on first need.
 */
function guardGrid(arena: Arena): GuardGrid {
  let grid = GRIDS.get(arena);
  if (grid === undefined) {
    grid = new GuardGrid();
    GRIDS.set(arena, grid);
  }
  if (gridArena !== arena || !gridBuilt) {
    grid.build(arena.guards, BOT_GRID_CELL);
    gridArena = arena;
    gridBuilt = true;
  }
  return grid;
}

/**
 * Indices of the living guards strictly within `radius` of `pos` (and, with
 * `minD`, at least that far), ascending, at the front of the grid's `out`
 * buffer: the guards a scan in index order would accept, in that order.
 *
 * @returns how many, or -1 when the grid cannot answer (scan every guard)
 */
function guardsWithin(arena: Arena, pos: Vec2, radius: number, minD = -Infinity): number {
  const grid = guardGrid(arena);
  const k = grid.query(pos.x, pos.y, radius);
  if (k < 0) return -1;
  const out = grid.out;
  const guards = arena.guards;
  let m = 0;
  for (let j = 0; j < k; j++) {
    const i = out[j] as number;
    const d = dist((guards[i] as Guard).pos, pos);
    if (d < radius && d >= minD) out[m++] = i;
  }
  sortPrefix(out, m);
  return m;
}

function nearestGuard(arena: Arena, pos: Vec2): { g: Guard; d: number } | null {
  let best: Guard | null = null;
  let bestD = Infinity;
  for (const g of arena.guards) {
    if (!g.alive) continue;
    const d = dist(g.pos, pos);
    if (d < bestD) {
      best = g;
      bestD = d;
    }
  }
  return best === null ? null : { g: best, d: bestD };
}

/** Danger of a point: how deep it is inside living guards' reach. */
function danger(arena: Arena, pos: Vec2, radius: number): number {
  let s = 0;
  const m = guardsWithin(arena, pos, radius);
  if (m >= 0) {
    // The same terms, added in the same (index) order as the scan below.
    const out = (GRIDS.get(arena) as GuardGrid).out;
    for (let j = 0; j < m; j++) s += radius - dist((arena.guards[out[j] as number] as Guard).pos, pos);
    return s;
  }
  for (const g of arena.guards) {
    if (!g.alive) continue;
    const d = dist(g.pos, pos);
    if (d < radius) s += radius - d;
  }
  return s;
}

function toward(from: Vec2, to: Vec2): Vec2 {
  return { x: to.x - from.x, y: to.y - from.y };
}

function away(from: Vec2, threat: Vec2): Vec2 {
  const v = { x: from.x - threat.x, y: from.y - threat.y };
  return v.x === 0 && v.y === 0 ? { x: 1, y: 0 } : v;
}

/** Normalises and adds seeded sideways noise. */
function noisy(arena: Arena, v: Vec2, sd: number): { dx: number; dy: number } {
  const l = Math.sqrt(v.x * v.x + v.y * v.y);
  if (l < 1e-9) return { dx: 0, dy: 0 };
  const ux = v.x / l;
  const uy = v.y / l;
  const n = arena.botRng.gaussian(0, sd);
  return { dx: ux - uy * n, dy: uy + ux * n };
}

function bestPickup(arena: Arena, p: Player, dangerWeight: number): Vec2 | null {
  let best: Vec2 | null = null;
  let bestCost = Infinity;
  for (const c of arena.collectibles) {
    if (!c.active) continue;
    const cost = dist(p.pos, c.pos) + dangerWeight * danger(arena, c.pos, 160);
    if (cost < bestCost) {
      best = c.pos;
      bestCost = cost;
    }
  }
  return best;
}

function fighter(arena: Arena, p: Player): PlayerInput {
  const pc = arena.config.player;
  const ng = nearestGuard(arena, p.pos);
  const ready = p.cooldown === 0;
  if (ng === null) {
    const c = bestPickup(arena, p, 0);
    return c === null ? IDLE : { ...noisy(arena, toward(p.pos, c), 0.2), attack: false };
  }
  const inRange = ng.d <= pc.attackRange;
  if (p.health < 0.3 * pc.maxHealth && ng.d < 160) {
    return { ...noisy(arena, away(p.pos, ng.g.pos), 0.3), attack: inRange && ready };
  }
  if (ng.d > pc.attackRange * 0.9) {
    return { ...noisy(arena, toward(p.pos, ng.g.pos), 0.25), attack: inRange && ready };
  }
  // In range: strafe around the guard, changing side now and then.
  const side = ((arena.tick / 30) | 0) % 2 === 0 ? 1 : -1;
  const to = toward(p.pos, ng.g.pos);
  return { ...noisy(arena, { x: -to.y * side, y: to.x * side }, 0.4), attack: ready };
}

function collector(arena: Arena, p: Player): PlayerInput {
  const pc = arena.config.player;
  const ng = nearestGuard(arena, p.pos);
  const ready = p.cooldown === 0;
  const cornered = ng !== null && ng.d <= pc.attackRange && ready;
  if (ng !== null && ng.d < 100) {
    // Run from every guard close by, weighted by closeness.
    let vx = 0;
    let vy = 0;
    const m = guardsWithin(arena, p.pos, 140, 1e-6);
    if (m >= 0) {
      const out = (GRIDS.get(arena) as GuardGrid).out;
      for (let j = 0; j < m; j++) {
        const g = arena.guards[out[j] as number] as Guard;
        const d = dist(g.pos, p.pos);
        vx += ((p.pos.x - g.pos.x) / d) * (140 - d);
        vy += ((p.pos.y - g.pos.y) / d) * (140 - d);
      }
    } else {
      for (const g of arena.guards) {
        if (!g.alive) continue;
        const d = dist(g.pos, p.pos);
        if (d >= 140 || d < 1e-6) continue;
        vx += ((p.pos.x - g.pos.x) / d) * (140 - d);
        vy += ((p.pos.y - g.pos.y) / d) * (140 - d);
      }
    }
    if (vx !== 0 || vy !== 0) return { ...noisy(arena, { x: vx, y: vy }, 0.35), attack: cornered };
  }
  const c = bestPickup(arena, p, 1.5);
  if (c === null) return { ...noisy(arena, toward(p.pos, p.spawn), 0.5), attack: cornered };
  return { ...noisy(arena, toward(p.pos, c), 0.2), attack: cornered };
}

function quester(arena: Arena, p: Player): PlayerInput {
  const pc = arena.config.player;
  const gc = arena.config.guard;
  const ng = nearestGuard(arena, p.pos);
  const ready = p.cooldown === 0;
  const inRange = ng !== null && ng.d <= pc.attackRange;
  // Kite: step back out of reach while cooling down.
  if (ng !== null && !ready && ng.d < gc.attackRange + 16) {
    return { ...noisy(arena, away(p.pos, ng.g.pos), 0.3), attack: false };
  }
  if (p.health < 0.35 * pc.maxHealth && ng !== null && ng.d < 140) {
    return { ...noisy(arena, away(p.pos, ng.g.pos), 0.3), attack: inRange && ready };
  }
  const q = p.activeQuest;
  let goal: Vec2 | null = null;
  if (q?.kind === 'visit' && q.target !== null) goal = q.target;
  else if (q?.kind === 'defeat' && ng !== null) {
    // The weakest guard nearby, approached to just outside its reach.
    let prey: Guard = ng.g;
    const m = guardsWithin(arena, p.pos, 250);
    if (m >= 0) {
      const out = (GRIDS.get(arena) as GuardGrid).out;
      for (let j = 0; j < m; j++) {
        const g = arena.guards[out[j] as number] as Guard;
        if (g.health < prey.health) prey = g;
      }
    } else {
      for (const g of arena.guards) {
        if (g.alive && dist(g.pos, p.pos) < 250 && g.health < prey.health) prey = g;
      }
    }
    const d = dist(p.pos, prey.pos);
    if (d <= pc.attackRange && d > gc.attackRange) return { dx: 0, dy: 0, attack: ready };
    goal = prey.pos;
  } else goal = bestPickup(arena, p, 0.8);
  if (goal === null) return { ...noisy(arena, toward(p.pos, p.spawn), 0.5), attack: inRange && ready };
  return { ...noisy(arena, toward(p.pos, goal), 0.25), attack: inRange && ready };
}

/**
 * The input a scripted bot gives this tick.
 *
 * @param arena - the arena
 * @param playerId - the bot's player id
 * @param style - its style
 * @returns the input (standing still while downed)
 * @throws RangeError for an unknown player or style
 */
export function botInput(arena: Arena, playerId: string, style: BotStyle): PlayerInput {
  const p = arena.player(playerId);
  if (p === undefined) throw new RangeError(`unknown player '${String(playerId)}'`);
  if (!p.alive) return IDLE;
  gridBuilt = false; // guards may have moved since the last call
  switch (style) {
    case 'fighter':
      return fighter(arena, p);
    case 'collector':
      return collector(arena, p);
    case 'quester':
      return quester(arena, p);
    default:
      throw new RangeError(`unknown bot style '${String(style)}'; expected one of ${BOT_STYLES.join(', ')}`);
  }
}

const PREFERRED_KIND: Readonly<Record<BotStyle, QuestKind | null>> = {
  fighter: 'defeat',
  collector: 'collect',
  quester: null,
};

/**
 * Which quest a bot takes when it has none: fighters prefer `defeat` quests,
 * collectors `collect` quests, questers any (seeded pick).
 *
 * @returns a quest id from `arena.config.quests`, or null (has a quest, is down, or none exist)
 */
export function botQuestChoice(arena: Arena, playerId: string, style: BotStyle): string | null {
  const p = arena.player(playerId);
  if (p === undefined || !p.alive || p.activeQuest !== null) return null;
  const quests = arena.config.quests;
  if (quests.length === 0) return null;
  const kind = PREFERRED_KIND[style];
  const preferred = kind === null ? [] : quests.filter((q) => q.kind === kind);
  return (preferred.length > 0 ? preferred[0] : arena.botRng.pick(quests))?.id ?? null;
}
