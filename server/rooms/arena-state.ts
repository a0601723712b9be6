/**
 * The synchronised state of the `arena` room (@colyseus/schema 5), as every
 * client of the room sees it. Per-player data that only its owner should see
 * (quest recommendations) travels as a `recommendations` message instead.
 *
 * ```
 * ArenaState
 *   tick, width, height
 *   obstacles: ObstacleState[]            (static)
 *   players:   Map<playerId, PlayerState> (humans: their sessionId; bots: "bot-N")
 *   guards:    Map<guardId,  GuardState>  ("g0", "g1", ...)
 *   collectibles: Map<id, CollectibleState>
 *   quests:    Map<questId, QuestInfoState> (the quests players may take)
 * ```
 *
 * @module
 */
import { MapSchema, ArraySchema, schema, t, type SchemaType } from '@colyseus/schema';

/** A static rectangular obstacle (`x`, `y` is the top-left corner). */
export const ObstacleState = schema(
  {
    x: t.float32(),
    y: t.float32(),
    w: t.float32(),
    h: t.float32(),
  },
  'ObstacleState',
);
export type ObstacleState = SchemaType<typeof ObstacleState>;

export { NO_QUEST_TARGET } from '../game/index.js';

/** A player (human client or scripted bot). */
export const PlayerState = schema(
  {
    id: t.string(),
    /** `human` or `bot`. */
    kind: t.string(),
    /** The name shown to players. */
    name: t.string(),
    x: t.float32(),
    y: t.float32(),
    health: t.float32(),
    alive: t.boolean(),
    score: t.int32(),
    /** The active quest's id, or '' without one. */
    quest: t.string(),
    questProgress: t.uint16(),
    questGoal: t.uint16(),
    questsDone: t.uint16(),
    /**
     * Where the active `visit` quest must be reached (the sim's
     * `QuestState.target`), or {@link NO_QUEST_TARGET} in both without an
     * active quest or for `collect` / `defeat` quests.
     */
    questTargetX: t.float32(),
    questTargetY: t.float32(),
    /** Ticks until a downed player is back (0 while alive). */
    respawnIn: t.uint16(),
  },
  'PlayerState',
);
export type PlayerState = SchemaType<typeof PlayerState>;

/** An NPC guard, with the action it is doing and who decided it. */
export const GuardState = schema(
  {
    id: t.string(),
    x: t.float32(),
    y: t.float32(),
    health: t.float32(),
    alive: t.boolean(),
    /** The action applied this tick: one of `GUARD_ACTIONS` (`idle`, `patrol`, `chase`, ...). */
    action: t.string(),
    /**
     * Who decided `action`: `npc-guard@<version>` for the model,
     * `npc-guard@fallback:<heuristic>` when the model was unavailable, `initial`
     * before the first decision.
     */
    model: t.string(),
    /** The route that served the decision: `local` / `remote` (the model) or `fallback` (the heuristic); '' before the first. */
    servedBy: t.string(),
    /**
     * The tick whose state was observed to decide `action` (the action applies
     * from the next tick on; a kept action keeps its older decision tick).
     */
    decisionTick: t.uint32(),
    /** The model's action probabilities this tick (`GUARD_ACTIONS` order); empty where it gave none (a heuristic). */
    probabilities: t.array('float32'),
    /** The player it targets ('' for none). */
    target: t.string(),
    /** Whether it sees its target now (false: it remembers where it was). */
    sees: t.boolean(),
    /** What the scripted expert guard would have done on the same observation. */
    expert: t.string(),
  },
  'GuardState',
);
export type GuardState = SchemaType<typeof GuardState>;

/** A pickup. */
export const CollectibleState = schema(
  {
    x: t.float32(),
    y: t.float32(),
    active: t.boolean(),
  },
  'CollectibleState',
);
export type CollectibleState = SchemaType<typeof CollectibleState>;

/** A quest players may take (`take-quest` with its id). */
export const QuestInfoState = schema(
  {
    id: t.string(),
    title: t.string(),
    /** How the arena counts progress: `collect`, `defeat` or `visit`. */
    kind: t.string(),
    goal: t.uint16(),
    reward: t.uint16(),
  },
  'QuestInfoState',
);
export type QuestInfoState = SchemaType<typeof QuestInfoState>;

/** The root state of the `arena` room. */
export const ArenaState = schema(
  {
    /** Simulation ticks so far (20 per second). */
    tick: t.uint32(),
    /** The current round (1 for the first; see `server/game/rounds.ts`). */
    round: t.uint16(),
    /** Ticks until it ends. */
    roundTicksLeft: t.uint32(),
    /** Team points the players need to win it. */
    roundGoal: t.uint16(),
    /** Team points so far. */
    teamScore: t.uint16(),
    /** Who won the last round: `players` or `guards` ('' before the first end). */
    lastRoundWinner: t.string(),
    lastRoundScore: t.uint16(),
    /** How the guards are decided: `model` or `scripted` (the expert guard). */
    guardMode: t.string(),
    width: t.float32(),
    height: t.float32(),
    obstacles: t.array(ObstacleState),
    players: t.map(PlayerState),
    guards: t.map(GuardState),
    collectibles: t.map(CollectibleState),
    quests: t.map(QuestInfoState),
  },
  'ArenaState',
);
export type ArenaState = SchemaType<typeof ArenaState>;

export { MapSchema, ArraySchema };
