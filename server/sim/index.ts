/**
 * The Playmind arena simulation: a pure, deterministic, seeded top-down arena
 * (obstacles, players, NPC guards, collectibles, quests) with the guards'
 * observation, action set, reward, a scripted expert, scripted player bots and
 * an episode runner. No Node-only, Colyseus or Phaser imports: the arena room,
 * training, evaluation and the demo's offline mode all run this code.
 *
 * @example
 * import { runEpisode, expertPolicy } from './server/sim/index.js';
 * const { return: ret, win } = await runEpisode({ seed: 1, guardPolicy: expertPolicy });
 *
 * @module
 */
export { Arena, createArena, type GuardActions, type PlayerInputs } from './arena.js';
export {
  DEFAULT_ARENA_CONFIG,
  DEFAULT_QUESTS,
  resolveArenaConfig,
  type ArenaConfig,
  type ArenaConfigInput,
  type CollectibleTuning,
  type GuardTuning,
  type PlayerTuning,
} from './config.js';
export {
  ACTION,
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  guardActionMask,
  guardActionMasks,
  type GuardAction,
} from './guard-actions.js';
export {
  F as GUARD_FEATURE_INDEX,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  observeAll,
  observeGuard,
  observeGuardRecord,
  type GuardFeature,
} from './guard-observation.js';
export { GUARD_REWARD_WEIGHTS, episodeReturn, guardRewards, type RewardWeights } from './guard-reward.js';
export {
  EXPERT_THRESHOLDS,
  GUARD_HEURISTICS,
  expertGuardAction,
  expertGuardFromObservation,
  type GuardHeuristic,
} from './expert-guard.js';
export { BOT_STYLES, botInput, botQuestChoice, type BotStyle } from './player-bots.js';
export {
  expertPolicy,
  heuristicPolicy,
  randomPolicy,
  runEpisode,
  type EpisodeOptions,
  type EpisodeResult,
  type EpisodeStep,
  type GuardPolicy,
} from './episode.js';
export { Rng, deriveSeed } from './rng.js';
export type {
  Collectible,
  Guard,
  Player,
  PlayerInput,
  PlayerKind,
  QuestKind,
  QuestSpec,
  QuestState,
  Rect,
  SimEvent,
  StepResult,
  Vec2,
} from './types.js';
