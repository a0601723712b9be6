/** The local route: the repository and engine in this process (Node or browser). */
import { expectKind } from '../contract/kind.js';
import type { Manifest } from '../contract/manifest.js';
import type { Tensor } from '../engine/backend.js';
import type { InferenceEngine } from '../engine/inference-engine.js';
import { AgentMemory, runPolicy, type Decision, type PolicyBatch, type PolicyVersion } from '../engine/policy.js';
import {
  runRecommender,
  type Recommendation,
  type RecommendRequest,
  type RecommenderVersion,
} from '../engine/recommender.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { ModelRepository, ModelVersion } from '../repository/model-repository.js';
import type { Route, RunOutput, TensorRunOptions } from './route.js';

/** Answers from a local {@link ModelRepository} through an {@link InferenceEngine}. */
export class LocalRoute implements Route {
  readonly name = 'local' as const;
  private readonly memory = new AgentMemory();

  /**
   * @param repository - where versions come from
   * @param engine - the engine that runs them
   * @param owns - what {@link close} closes @default both
   */
  constructor(
    readonly repository: ModelRepository,
    readonly engine: InferenceEngine,
    private readonly owns: { closeEngine?: boolean; closeRepository?: boolean } = {},
  ) {}

  async manifest(model: string): Promise<Manifest> {
    const v = this.repository.get(model);
    if (v) return v.manifest;
    const m = this.repository.manifest(model);
    if (m) return m;
    if (!this.repository.has(model)) throw this.repository.unknownModel(model);
    // Known, but its manifest never loaded: the caller gets the reason (file and what is wrong with it).
    const failure = this.repository.state(model)?.lastError;
    throw new PlaymindError(
      ErrorCode.MODEL_UNAVAILABLE,
      `model "${model}" cannot answer: its manifest did not load: ${failure?.reason ?? 'not loaded yet'}`,
      { details: { model, ...(failure ? { code: failure.code } : {}) } },
    );
  }

  cachedManifest(model: string): Manifest | undefined {
    return this.repository.get(model)?.manifest;
  }

  decide(model: string, batch: PolicyBatch): Promise<Decision[]> {
    return this.repository.use(model, (v) => runPolicy(this.engine, policyVersion(v), batch, this.memory));
  }

  recommend(model: string, request: RecommendRequest): Promise<Recommendation> {
    return this.repository.use(model, (v) => runRecommender(this.engine, recommenderVersion(v), request));
  }

  run(model: string, feeds: Record<string, Tensor>, options: TensorRunOptions = {}): Promise<RunOutput> {
    return this.repository.use(model, async (v) => {
      const r = await this.engine.run(v, feeds, options);
      return { outputs: r.outputs, model: r.servedBy, servedBy: 'local' as const };
    });
  }

  resetAgent(_model: string, agent?: string): void {
    this.memory.reset(agent);
  }

  agentMemory(model: string, agent: string): Float32Array | undefined {
    const v = this.repository.get(model);
    if (!v || v.manifest.kind !== 'policy' || !v.manifest.policy.recurrent) return undefined;
    return this.memory.get(agent, model, v.manifest.policy.recurrent.size)?.slice();
  }

  /** Closes the engine and the repository, unless they were passed in as shared (see the constructor). */
  async close(): Promise<void> {
    if (this.owns.closeEngine !== false) this.engine.close();
    if (this.owns.closeRepository !== false) await this.repository.close();
  }
}

function policyVersion(v: ModelVersion): PolicyVersion {
  expectKind(v.name, v.manifest, 'policy');
  return v as PolicyVersion;
}

function recommenderVersion(v: ModelVersion): RecommenderVersion {
  expectKind(v.name, v.manifest, 'recommender');
  return v as RecommenderVersion;
}
