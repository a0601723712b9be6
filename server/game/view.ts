/**
 * The arena as players see it: a plain snapshot the game updates in place after
 * every change (no Colyseus: the demo's offline mode hands it to the scene, and
 * the `arena` room copies it into its @colyseus/schema state), and the one
 * function per entity that writes it from the simulation.
 *
 * @module
 */
import type { Collectible, Guard, Player } from '../sim/index.js';
import type { RoundFields } from './rounds.js';

/**
 * `questTargetX` / `questTargetY` when the player's active quest has no target (no
 * quest, or a `collect` / `defeat` quest). Arena coordinates are never negative.
 */
export const NO_QUEST_TARGET = -1;

/** A static rectangular obstacle (`x`, `y` is the top-left corner). */
export interface RectView {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** A player (human or scripted bot). */
export interface PlayerFields {
  id: string;
  /** `human` or `bot`. */
  kind: string;
  /** The name shown to players (a human's chosen one, or the bot's). */
  name: string;
  x: number;
  y: number;
  health: number;
  alive: boolean;
  score: number;
  /** The active quest's id, '' without one. */
  quest: string;
  questProgress: number;
  questGoal: number;
  questsDone: number;
  /** Where the active `visit` quest must be reached, or {@link NO_QUEST_TARGET} in both. */
  questTargetX: number;
  questTargetY: number;
  /** Ticks until a downed player is back (0 while alive). */
  respawnIn: number;
}

/** A guard, with the action it is doing and who decided it. */
export interface GuardFields {
  id: string;
  x: number;
  y: number;
  health: number;
  alive: boolean;
  /** The action applied this tick: one of `GUARD_ACTIONS`. */
  action: string;
  /**
   * Who decided `action`: `npc-guard@<version>`, `npc-guard@fallback:<heuristic>`,
   * `initial` before the first decision.
   */
  model: string;
  /** The route that served the decision (`local`, `remote`, `fallback`), '' when unknown or before the first. */
  servedBy: string;
  /** The tick whose state was observed to decide `action` (a kept action keeps its older tick). */
  decisionTick: number;
  /** The action probabilities the model gave (`GUARD_ACTIONS` order), null where it gave none. */
  probabilities: Float32Array | null;
  /** The player it targets ('' for none). */
  target: string;
  /** Whether it sees its target now (false: it remembers where it was). */
  sees: boolean;
  /** What the scripted expert guard would have done on the observation `action` was decided on ('' before the first). */
  expert: string;
}

/** A pickup. */
export interface CollectibleFields {
  x: number;
  y: number;
  active: boolean;
}

/** A quest players may take. */
export interface QuestFields {
  readonly id: string;
  readonly title: string;
  /** `collect`, `defeat` or `visit`. */
  readonly kind: string;
  readonly goal: number;
  readonly reward: number;
}

/** How the guards are decided: by the model (`model`), or by the scripted expert guard (`scripted`). */
export type GuardMode = 'model' | 'scripted';

/** The whole arena as players see it (read it; the game writes it). */
export interface ArenaGameView extends Readonly<RoundFields> {
  /** How the guards are decided now. */
  readonly guardMode: GuardMode;
  /** Simulation ticks so far. */
  readonly tick: number;
  readonly width: number;
  readonly height: number;
  readonly obstacles: readonly RectView[];
  /** Humans by their id, bots as `bot-N` (or `pN` for a fixed roster). */
  readonly players: ReadonlyMap<string, Readonly<PlayerFields>>;
  /** `g0`, `g1`, ... */
  readonly guards: ReadonlyMap<string, Readonly<GuardFields>>;
  readonly collectibles: ReadonlyMap<string, Readonly<CollectibleFields>>;
  readonly quests: ReadonlyMap<string, QuestFields>;
}

/** The fields of a player that has not been written yet. */
export function initialPlayerFields(p: Player, name: string = p.id): PlayerFields {
  return {
    id: p.id,
    kind: p.kind,
    name,
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
    respawnIn: 0,
  };
}

/** Copies a player's state into its view (a plain object or a schema instance). */
export function writePlayer(p: Player, into: Omit<PlayerFields, 'id' | 'kind' | 'name'>): void {
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
  into.respawnIn = p.alive ? 0 : p.respawnIn;
}

/** Copies a guard's position, health and target into its view (the decision fields are the game's). */
export function writeGuard(
  g: Guard,
  into: { x: number; y: number; health: number; alive: boolean; target: string; sees: boolean },
): void {
  into.x = g.pos.x;
  into.y = g.pos.y;
  into.health = g.health;
  into.alive = g.alive;
  into.target = g.alive ? (g.targetId ?? '') : '';
  into.sees = g.alive && g.targetId !== null && g.targetVisible;
}

/** Copies a collectible into its view. */
export function writeCollectible(c: Collectible, into: CollectibleFields): void {
  into.x = c.pos.x;
  into.y = c.pos.y;
  into.active = c.active;
}
