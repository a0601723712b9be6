/**
 * Worker thread of {@link RolloutPool}: plays seeded episodes of the MLP policy
 * (pure-TypeScript forward pass) for the parameters it is sent, and posts back
 * each episode's return and outcome.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Mlp, type MlpShape } from './mlp.js';
import { mlpPolicy, playEpisodes } from './rollout.js';

/** A job: play `seeds` with `params`. */
export interface RolloutJob {
  readonly id: number;
  readonly params: Float32Array;
  readonly seeds: readonly number[];
}

/** A job's answer, in seed order. */
export interface RolloutReply {
  readonly id: number;
  readonly returns?: number[];
  readonly wins?: boolean[];
  readonly error?: string;
}

const shape = (workerData as { shape: MlpShape }).shape;
const mlp = new Mlp(shape);
const policy = mlpPolicy(mlp);

parentPort?.on('message', (job: RolloutJob) => {
  mlp.params.set(job.params);
  playEpisodes(() => policy, job.seeds).then(
    (results) =>
      parentPort?.postMessage({
        id: job.id,
        returns: results.map((r) => r.return),
        wins: results.map((r) => r.win),
      } satisfies RolloutReply),
    (err: unknown) =>
      parentPort?.postMessage({
        id: job.id,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies RolloutReply),
  );
});
