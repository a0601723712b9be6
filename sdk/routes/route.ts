/**
 * The route contract: local, remote and fallback each implement it, and one
 * conformance suite runs against each (the way onnxruntime has one backend
 * contract with an implementation per runtime).
 */
import type { Manifest } from '../contract/manifest.js';
import type { Tensor } from '../engine/backend.js';
import type { Decision, PolicyBatch } from '../engine/policy.js';
import type { Recommendation, RecommendRequest } from '../engine/recommender.js';

/** The names of the routes. */
export type RouteName = 'local' | 'remote' | 'fallback';

/** The result of a tensor-model run. */
export interface RunOutput {
  outputs: Record<string, Tensor>;
  /** `name@version` that served it. */
  model: string;
  servedBy: RouteName;
}

/** Options of a tensor-model run. */
export interface TensorRunOptions {
  deadlineMs?: number;
  fetches?: readonly string[];
}

/** One way of answering the SDK's calls. */
export interface Route {
  readonly name: RouteName;
  /** The manifest of a model (the contract the brain encodes observations with). */
  manifest(model: string): Promise<Manifest>;
  /** The manifest, when the route holds it already (no I/O): lets the brain skip a turn of the event loop. */
  cachedManifest?(model: string): Manifest | undefined;
  /** Decisions for a batch of encoded observations. */
  decide(model: string, batch: PolicyBatch): Promise<Decision[]>;
  /** Recommendations for one player. */
  recommend(model: string, request: RecommendRequest): Promise<Recommendation>;
  /** Runs a model on named tensors (already checked against the manifest). */
  run(model: string, feeds: Record<string, Tensor>, options?: TensorRunOptions): Promise<RunOutput>;
  /** Asks the other side for a model's manifest without any cache (remote routes): proves it answers. */
  ping?(model: string, timeoutMs?: number): Promise<Manifest>;
  /** Forgets an agent's recurrent state. */
  resetAgent?(model: string, agent?: string): void;
  /** A copy of an agent's recurrent state, where the route keeps it. */
  agentMemory?(model: string, agent: string): Float32Array | undefined;
  close(): Promise<void>;
}
