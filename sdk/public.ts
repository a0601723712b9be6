/** The types and classes both builds of the SDK export. */
export { Brain, createBrainOn } from './brain.js';
export type {
  BrainOptions,
  BrainStats,
  BrainEvents,
  DecideOptions,
  RouteEvent,
  PolicyHandle,
  RecommenderHandle,
  ModelHandle,
  Platform,
  PolicyOptions,
  RecommenderOptions,
  RecommendOptions,
} from './brain.js';
export { policyContract, recommenderContract } from './contract/adapter.js';
export type { PolicyContractInput, RecommenderContractInput } from './contract/adapter.js';
export { PlaymindError, ErrorCode, isErrorCode, ArenaMessage, InferenceMessage, RoomName } from './protocol.js';
export type { ErrorCodeValue, WireError } from './protocol.js';
export { parseManifest, ManifestSchema } from './contract/manifest.js';
export type {
  Manifest,
  PolicyManifest,
  RecommenderManifest,
  TensorSpec,
  DType,
  ModelKind,
} from './contract/manifest.js';
export type { Observation, ActionMask } from './contract/observation.js';
export { tensor } from './engine/backend.js';
export { float16ToFloat32, float32ToFloat16 } from './contract/tensors.js';
export type { Tensor, TensorData, Backend, BackendSession } from './engine/backend.js';
export { InferenceEngine } from './engine/inference-engine.js';
export type { BatchingOptions, EngineObserver } from './engine/inference-engine.js';
export type { Decision, Priority } from './engine/policy.js';
export type { Recommendation, RecommendRequest } from './engine/recommender.js';
export { ModelRepository, silentLogger } from './repository/model-repository.js';
export type { ModelState, LoadFailure, ModelVersion, Logger } from './repository/model-repository.js';
export { HttpModelSource } from './repository/http-source.js';
export type { ModelSource } from './repository/model-source.js';
export type { Heuristic } from './routes/fallback.js';
export {
  expertGuard,
  createExpertGuard,
  EXPERT_GUARD_THRESHOLDS,
  GUARD_OBSERVATION_FEATURES,
  GUARD_ACTION_NAMES,
} from './heuristics/expert-guard.js';
export type { ExpertGuardThresholds, GuardObservationFeature, GuardActionName } from './heuristics/expert-guard.js';
export type { Route, RouteName, RunOutput } from './routes/route.js';
