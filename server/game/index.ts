/**
 * The arena game, written once (Colyseus-free, browser-safe): the tick, the
 * guards' pipelined decisions and masking, bot fill, humans joining and leaving,
 * quests and recommendation shaping, telemetry and metrics hooks, the guard
 * encoding for SDK policies, a plain view for sync, an observer per tick, and an
 * in-memory recorder and replay. It imports `server/sim` and the SDK's public API
 * (`sdk/public.ts`, what both SDK builds export) only.
 *
 * Adapters: the `arena` room (`server/rooms/arena-room.ts`), the demo's offline
 * mode (`demo-game/src/offline-source.ts`), the npc-guard evaluation
 * (`models/train/guard/evaluate.ts`, through {@link playEpisode}) and the tick
 * benchmark (`test/bench/arena-tick.ts`).
 *
 * @module
 */
export {
  ArenaGame,
  NO_GAME_METRICS,
  expertLateFallback,
  type ArenaGameOptions,
  type LateFallback,
  type DecisionTrace,
  type GameMetrics,
  type QuestEventSink,
} from './arena-game.js';
export { playEpisode, type PlayEpisodeOptions } from './episode.js';
export { maskForbiddenActions, type DecideGuards, type DecisionOutcome, type GuardDecision } from './guard-decision.js';
export { ARENA_LIMITS, checkLimit, type Limit, type LimitedSetting } from './limits.js';
export {
  DEFAULT_ROUND_RULES,
  NO_ROUNDS,
  Rounds,
  type RoundEnd,
  type RoundFields,
  type RoundRules,
  type RoundWinner,
} from './rounds.js';
export type { AppliedDecision, GameInput, GameObserver, GameSetup, TickRecord } from './observer.js';
export {
  ARENA_CONTRACT,
  decodeGuardDecisions,
  encodeGuardObservations,
  guardContract,
  policyDecider,
  type GuardContract,
  type GuardPolicyHandle,
  type PolicyDeciderOptions,
} from './policy-decider.js';
export {
  DEFAULT_ARENA_QUESTS,
  arenaOrderRecommendations,
  arenaQuests,
  questFromCatalogue,
  recommendationRequest,
  shapeRecommendations,
  type ArenaQuest,
  type CatalogueItem,
  type QuestHistory,
  type QuestRecommendationRequest,
  type QuestRecommendationResult,
  type QuestRecommendations,
  type RecommendQuests,
} from './quests.js';
export {
  GameRecorder,
  recordedDecisions,
  replayRecording,
  type GameRecording,
  type ReplayOptions,
  type ReplayResult,
} from './replay.js';
export {
  NO_QUEST_TARGET,
  initialPlayerFields,
  writeCollectible,
  writeGuard,
  writePlayer,
  type ArenaGameView,
  type CollectibleFields,
  type GuardFields,
  type GuardMode,
  type PlayerFields,
  type QuestFields,
  type RectView,
} from './view.js';
