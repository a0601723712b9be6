/**
 * State types of the arena simulation. All distances are world units (the
 * default world is 800 × 600), all durations are ticks (20 per second).
 *
 * @module
 */

/** A 2-D vector or point. */
export interface Vec2 {
  x: number;
  y: number;
}

/** An axis-aligned rectangle (`x`, `y` is the top-left corner). */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/**
 * What a player wants to do this tick. `dx`, `dy` is a direction (its length is
 * clamped to 1: full speed); `attack` strikes the nearest guard in range when the
 * player's cooldown is over.
 */
export interface PlayerInput {
  dx: number;
  dy: number;
  attack: boolean;
}

/** Who drives a player: a human (inputs from a client) or a scripted bot. */
export type PlayerKind = 'human' | 'bot';

/** The quest kinds the arena knows how to advance. */
export type QuestKind = 'collect' | 'defeat' | 'visit';

/**
 * A quest template. The catalogue of real quests lives elsewhere; the arena only
 * needs to know how progress is counted.
 */
export interface QuestSpec {
  /** Stable id, e.g. `q-forest-1`. */
  readonly id: string;
  /** `collect`: pick up items; `defeat`: down guards; `visit`: reach a point. */
  readonly kind: QuestKind;
  /** How many steps finish the quest (visit quests use 1). */
  readonly goal: number;
  /** Score the player earns on finishing it. */
  readonly reward: number;
  /** For `visit` quests: the point to reach; omitted means a seeded shrine. */
  readonly target?: Vec2;
}

/** A player's active quest and its progress. */
export interface QuestState {
  readonly questId: string;
  readonly kind: QuestKind;
  readonly goal: number;
  readonly reward: number;
  /** Where a `visit` quest must be finished; null for the other kinds. */
  readonly target: Vec2 | null;
  progress: number;
  readonly takenTick: number;
}

/** A player (human or bot). */
export interface Player {
  readonly id: string;
  kind: PlayerKind;
  pos: Vec2;
  spawn: Vec2;
  health: number;
  alive: boolean;
  /** Ticks until respawn while down. */
  respawnIn: number;
  /** Ticks until the player can attack again. */
  cooldown: number;
  score: number;
  /** The last input applied (inputs are sticky until replaced). */
  input: PlayerInput;
  activeQuest: QuestState | null;
  questsDone: number;
  downs: number;
}

/** An NPC guard driven by a policy (model, expert or random). */
export interface Guard {
  readonly id: string;
  /** Position in `arena.guards` and in observation batches. */
  readonly index: number;
  readonly team: number;
  pos: Vec2;
  /** The centre of the guard's zone, where it respawns. */
  readonly post: Vec2;
  readonly waypoints: readonly Vec2[];
  waypointIndex: number;
  health: number;
  alive: boolean;
  respawnIn: number;
  cooldown: number;
  /** The action index applied last tick (see `GUARD_ACTIONS`). */
  action: number;
  /** The nearest player in sight at the end of the last tick, or null. */
  targetId: string | null;
  /** Whether `targetId` is currently seen (false: remembered). */
  targetVisible: boolean;
  /** Where the target was last seen, or null if never / forgotten. */
  lastSeenPos: Vec2 | null;
  /** Tick at which the target was last seen. */
  lastSeenTick: number;
  downs: number;
}

/** A pickup worth `value` points. */
export interface Collectible {
  readonly id: string;
  pos: Vec2;
  active: boolean;
  respawnIn: number;
  value: number;
}

/** Events emitted by `Arena.step` (and by quest calls, flushed on the next step). */
export type SimEvent =
  | { type: 'quest-taken'; tick: number; playerId: string; questId: string }
  | { type: 'quest-finished'; tick: number; playerId: string; questId: string; reward: number; pos: Vec2 }
  | { type: 'player-hit'; tick: number; playerId: string; guardId: string; damage: number }
  | { type: 'guard-hit'; tick: number; guardId: string; playerId: string; damage: number }
  | { type: 'player-down'; tick: number; playerId: string; guardId: string; pos: Vec2 }
  | { type: 'guard-down'; tick: number; guardId: string; playerId: string; pos: Vec2 }
  | { type: 'collected'; tick: number; playerId: string; collectibleId: string; value: number; pos: Vec2 };

/** The result of one `Arena.step`. */
export interface StepResult {
  readonly tick: number;
  readonly events: readonly SimEvent[];
  /** Reward of each guard for this tick, in `arena.guards` order. */
  readonly rewards: Float32Array;
}
