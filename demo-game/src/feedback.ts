/**
 * What happened to the own player between two states — hits dealt and taken,
 * guards downed, pickups, finished quests, being downed and respawning — told
 * by comparing the synced fields, so it works the same online and offline.
 * The scene turns each event into a text pop and a sound.
 *
 * @module
 */
import { DEFAULT_ARENA_CONFIG } from '../../server/sim/index.js';
import type { ArenaView } from './arena-source.js';

/** One thing the player should notice. */
export type FeedbackEvent =
  | { kind: 'hit'; x: number; y: number; damage: number }
  | { kind: 'hurt'; x: number; y: number; damage: number }
  | { kind: 'kill'; x: number; y: number; score: number }
  | { kind: 'pickup'; x: number; y: number; score: number }
  | { kind: 'quest'; x: number; y: number; questId: string; title: string; reward: number }
  | { kind: 'down'; x: number; y: number }
  | { kind: 'respawn'; x: number; y: number };

/** The fields the comparison needs, copied out of a view. */
export interface FeedbackSnapshot {
  readonly tick: number;
  readonly me: {
    x: number;
    y: number;
    health: number;
    alive: boolean;
    score: number;
    questsDone: number;
    quest: string;
  } | null;
  readonly guards: ReadonlyMap<string, { x: number; y: number; health: number; alive: boolean }>;
  readonly collectibles: ReadonlyMap<string, { x: number; y: number; active: boolean }>;
}

const { player } = DEFAULT_ARENA_CONFIG;
/** A guard this close to the player (centre to centre) can have been hit by them. */
const HIT_REACH = player.attackRange + 11 + 2;
/** A collectible this close to the player can have been picked up by them. */
const PICKUP_REACH = player.radius + DEFAULT_ARENA_CONFIG.collectible.radius + 8;

/** Copies what {@link diffFeedback} compares. */
export function snapshotOf(view: ArenaView, playerId: string): FeedbackSnapshot {
  const p = view.players.get(playerId);
  const guards = new Map<string, { x: number; y: number; health: number; alive: boolean }>();
  view.guards.forEach((g, id) => guards.set(id, { x: g.x, y: g.y, health: g.health, alive: g.alive }));
  const collectibles = new Map<string, { x: number; y: number; active: boolean }>();
  view.collectibles.forEach((c, id) => collectibles.set(id, { x: c.x, y: c.y, active: c.active }));
  return {
    tick: view.tick,
    me: p
      ? {
          x: p.x,
          y: p.y,
          health: p.health,
          alive: p.alive,
          score: p.score,
          questsDone: p.questsDone,
          quest: p.quest,
        }
      : null,
    guards,
    collectibles,
  };
}

/**
 * The events between two snapshots of the same arena.
 *
 * @param questTitle - a quest's title by id (for the "quest complete" pop)
 * @param questReward - a quest's reward by id (score it gave, not counted as a pickup or kill)
 */
export function diffFeedback(
  prev: FeedbackSnapshot,
  cur: FeedbackSnapshot,
  questTitle: (id: string) => string,
  questReward: (id: string) => number,
): FeedbackEvent[] {
  const a = prev.me;
  const b = cur.me;
  if (!a || !b || cur.tick <= prev.tick) return [];
  const out: FeedbackEvent[] = [];
  if (a.alive && !b.alive) out.push({ kind: 'down', x: a.x, y: a.y });
  else if (!a.alive && b.alive) out.push({ kind: 'respawn', x: b.x, y: b.y });
  else if (b.alive && b.health < a.health - 0.01)
    out.push({ kind: 'hurt', x: b.x, y: b.y, damage: Math.round(a.health - b.health) });

  let gained = b.score - a.score;
  if (b.questsDone > a.questsDone && a.quest !== '') {
    const reward = questReward(a.quest);
    out.push({ kind: 'quest', x: b.x, y: b.y, questId: a.quest, title: questTitle(a.quest), reward });
    gained -= reward;
  }
  for (const [id, g] of cur.guards) {
    const before = prev.guards.get(id);
    if (!before?.alive) continue;
    const near = Math.hypot(before.x - a.x, before.y - a.y) <= HIT_REACH;
    if (!near) continue;
    if (!g.alive && gained > 0) {
      out.push({ kind: 'kill', x: before.x, y: before.y, score: 1 });
      gained -= 1;
    } else if (g.alive && g.health < before.health - 0.01) {
      out.push({ kind: 'hit', x: g.x, y: g.y, damage: Math.round(before.health - g.health) });
    }
  }
  for (const [id, c] of cur.collectibles) {
    if (gained <= 0) break;
    const before = prev.collectibles.get(id);
    if (!before?.active || c.active) continue;
    if (Math.hypot(before.x - b.x, before.y - b.y) > PICKUP_REACH) continue;
    out.push({ kind: 'pickup', x: before.x, y: before.y, score: 1 });
    gained -= 1;
  }
  return out;
}
