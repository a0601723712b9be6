/**
 * The fallback route: answers when no model can, with the heuristic a policy's
 * manifest names (`policy.fallback.heuristic`) and popularity for recommenders.
 */
import { expectKind } from '../contract/kind.js';
import type { Manifest, PolicyManifest, RecommenderManifest } from '../contract/manifest.js';
import type { Decision, PolicyBatch } from '../engine/policy.js';
import { recommendByPopularity, type Recommendation, type RecommendRequest } from '../engine/recommender.js';
import { ErrorCode, PlaymindError, type ErrorCodeValue } from '../protocol.js';
import type { Route, RunOutput } from './route.js';
import { expertGuard } from '../heuristics/expert-guard.js';

/**
 * A heuristic: takes one encoded observation row (feature order of the manifest) and
 * the row's action mask (1 = allowed, or undefined), returns a discrete action index.
 */
export type Heuristic = (row: Float32Array, mask?: Float32Array) => number;

/** Heuristics every brain has. */
export const BUILTIN_HEURISTICS: Readonly<Record<string, Heuristic>> = {
  /** The scripted expert guard of the shipped npc-guard (rows in its feature order). */
  'expert-guard': expertGuard,
  /** Always the first allowed action (e.g. `idle`). */
  'first-action': (_row, mask) =>
    mask
      ? Math.max(
          0,
          Array.prototype.findIndex.call(mask, (x: number) => x > 0),
        )
      : 0,
};

/** Serves heuristics; needs the manifests the other routes saw. */
export class FallbackRoute implements Route {
  readonly name = 'fallback' as const;

  constructor(
    private readonly heuristics: Readonly<Record<string, Heuristic>>,
    private readonly manifests: (model: string) => Manifest | undefined,
  ) {}

  async manifest(model: string): Promise<Manifest> {
    const m = this.manifests(model);
    if (!m)
      throw new PlaymindError(
        ErrorCode.MODEL_UNAVAILABLE,
        `no route has seen model "${model}"; the fallback cannot answer for it`,
        { details: { model } },
      );
    return m;
  }

  /** Whether this route can answer for a model. */
  canServe(model: string): boolean {
    const m = this.manifests(model);
    if (!m) return false;
    if (m.kind === 'recommender') return true;
    if (m.kind === 'policy')
      return !!m.policy.fallback && !!this.heuristics[m.policy.fallback.heuristic] && !!m.policy.actions.discrete;
    return false;
  }

  /** @param reason - the error code the fallback answers for, set on each decision */
  async decide(model: string, batch: PolicyBatch, reason?: ErrorCodeValue): Promise<Decision[]> {
    const m = (await this.manifest(model)) as PolicyManifest;
    const name = m.policy.fallback?.heuristic;
    if (!name || !this.heuristics[name] || !m.policy.actions.discrete) {
      throw new PlaymindError(
        ErrorCode.MODEL_UNAVAILABLE,
        `model "${model}" cannot answer and has no registered fallback heuristic${name ? ` ("${name}" is not registered)` : ''}`,
        { details: { model } },
      );
    }
    return this.decideAs(model, m, name, batch, reason);
  }

  /**
   * Answers with a named, registered heuristic over rows and masks in `contract`'s order
   * (the manifest of the model, or a caller's contract).
   */
  async decideAs(
    model: string,
    contract: PolicyManifest,
    heuristic: string,
    batch: PolicyBatch,
    reason?: ErrorCodeValue,
  ): Promise<Decision[]> {
    const h = this.heuristics[heuristic]!;
    const disc = contract.policy.actions.discrete!;
    const width = contract.policy.observation.features.length;
    const nActions = disc.branches.flat().length;
    const actions = disc.branches[0]!;
    const out: Decision[] = new Array<Decision>(batch.n);
    const tag = `${model}@fallback:${heuristic}`;
    for (let r = 0; r < batch.n; r++) {
      const row = batch.rows.subarray(r * width, (r + 1) * width);
      const mask = batch.masks?.subarray(r * nActions, (r + 1) * nActions);
      let index = h(row, mask);
      if (!Number.isInteger(index) || index < 0 || index >= actions.length || (mask && !mask[index])) {
        index = BUILTIN_HEURISTICS['first-action']!(row, mask);
      }
      const d: Decision = { action: actions[index], index, indices: [index], model: tag, servedBy: 'fallback' };
      if (reason !== undefined) d.reason = reason;
      out[r] = d;
    }
    return out;
  }

  async recommend(model: string, request: RecommendRequest): Promise<Recommendation> {
    return this.recommendAs(model, expectKind(model, await this.manifest(model), 'recommender'), request);
  }

  /** Answers by popularity over a catalogue (the model's, or a caller's contract). */
  async recommendAs(model: string, m: RecommenderManifest, request: RecommendRequest): Promise<Recommendation> {
    return recommendByPopularity(m, request, `${model}@fallback:popularity`, 'fallback');
  }

  async run(model: string): Promise<RunOutput> {
    throw new PlaymindError(
      ErrorCode.MODEL_UNAVAILABLE,
      `model "${model}" cannot answer and tensor models have no fallback`,
      { details: { model } },
    );
  }

  async close(): Promise<void> {}
}
