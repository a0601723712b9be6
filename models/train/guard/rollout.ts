/**
 * Playing seeded episodes with in-memory policies (training only: the
 * evaluation of the shipped model runs the ONNX file through the engine, see
 * `evaluate.ts`).
 *
 * @module
 */
import { GUARD_ACTION_COUNT, runEpisode, type EpisodeResult, type GuardPolicy } from '../../../server/sim/index.js';
import type { Mlp } from './mlp.js';

/**
 * The MLP as a batch guard policy: the highest-scoring allowed action per guard.
 * Rows with a single allowed action (downed guards) skip the network.
 *
 * @param mlp - the network
 * @returns the policy
 */
export function mlpPolicy(mlp: Mlp): GuardPolicy {
  return (obs, n, masks) => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let allowed = 0;
      let only = 0;
      for (let a = 0; a < GUARD_ACTION_COUNT; a++) {
        if ((masks[i * GUARD_ACTION_COUNT + a] as number) > 0) {
          allowed++;
          only = a;
        }
      }
      out[i] = allowed <= 1 ? only : mlp.act(obs, masks, i);
    }
    return out;
  };
}

/**
 * Plays one episode per seed.
 *
 * @param policyFor - the policy of each episode (e.g. `() => policy`, or a seeded random policy per seed)
 * @param seeds - episode seeds
 * @returns the results, in seed order
 */
export async function playEpisodes(
  policyFor: (seed: number) => GuardPolicy,
  seeds: readonly number[],
): Promise<EpisodeResult[]> {
  const out: EpisodeResult[] = [];
  for (const seed of seeds) out.push(await runEpisode({ seed, guardPolicy: policyFor(seed) }));
  return out;
}

/**
 * @param xs - numbers
 * @returns their mean (0 for none) and population standard deviation
 */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  if (xs.length === 0) return { mean: 0, sd: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return { mean, sd };
}
