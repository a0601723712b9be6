/**
 * How the arena's entities appear to clients: the fields the room syncs with
 * @colyseus/schema and the demo's offline mode shows, written by one function per
 * entity so both stay the same. No Colyseus imports: the demo bundles this file.
 *
 * @module
 */
import type { Collectible, Guard, Player } from '../sim/index.js';

/**
 * `questTargetX` / `questTargetY` when the player's active quest has no target (no
 * quest, or a `collect` / `defeat` quest). Arena coordinates are never negative.
 */
export const NO_QUEST_TARGET = -1;

/** The synced fields of a player. */
export interface PlayerFields {
  id: string;
  kind: string;
  x: number;
  y: number;
  health: number;
  alive: boolean;
  score: number;
  quest: string;
  questProgress: number;
  questGoal: number;
  questsDone: number;
  questTargetX: number;
  questTargetY: number;
}

/** The fields of a player that has not been synced yet. */
export function initialPlayerFields(p: Player): PlayerFields {
  return {
    id: p.id,
    kind: p.kind,
    x: 0,
    y: 0,
    health: 0,
    alive: true,
    score: 0,
    quest: '',
    questProgress: 0,
    questGoal: 0,
    questsDone: 0,
    questTargetX: NO_QUEST_TARGET,
    questTargetY: NO_QUEST_TARGET,
  };
}

/** Copies a player's state into its view (a schema instance or a plain object). */
export function writePlayer(p: Player, into: Omit<PlayerFields, 'id' | 'kind'>): void {
  into.x = p.pos.x;
  into.y = p.pos.y;
  into.health = p.health;
  into.alive = p.alive;
  into.score = p.score;
  into.quest = p.activeQuest?.questId ?? '';
  into.questProgress = p.activeQuest?.progress ?? 0;
  into.questGoal = p.activeQuest?.goal ?? 0;
  into.questsDone = p.questsDone;
  const target = p.activeQuest?.target ?? null;
  into.questTargetX = target?.x ?? NO_QUEST_TARGET;
  into.questTargetY = target?.y ?? NO_QUEST_TARGET;
}

/** Copies a guard's position and health into its view (the action is the caller's). */
export function writeGuard(g: Guard, into: { x: number; y: number; health: number; alive: boolean }): void {
  into.x = g.pos.x;
  into.y = g.pos.y;
  into.health = g.health;
  into.alive = g.alive;
}

/** Copies a collectible into its view. */
export function writeCollectible(c: Collectible, into: { x: number; y: number; active: boolean }): void {
  into.x = c.pos.x;
  into.y = c.pos.y;
  into.active = c.active;
}
