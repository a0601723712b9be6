/**
 * Episode seeds: evaluation seeds are small fixed integers, training seeds are
 * derived from the run's seed with the top bit set, so no training episode can
 * ever be an evaluation episode.
 *
 * @module
 */
import { deriveSeed } from '../../../server/sim/index.js';

/** The first evaluation seed; evaluation episode `i` uses `EVAL_SEED_BASE + i`. */
export const EVAL_SEED_BASE = 1_000_000;

/**
 * The evaluation seeds.
 *
 * @param count - how many episodes
 * @returns `EVAL_SEED_BASE, EVAL_SEED_BASE + 1, ...` (all below 2^31)
 */
export function evaluationSeeds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => EVAL_SEED_BASE + i);
}

/**
 * A training seed: a derived stream of the run's seed, in [2^31, 2^32).
 *
 * @param seed - the run's seed
 * @param stream - names the stream (and the index within it)
 * @returns an unsigned 32-bit seed with the top bit set
 */
export function trainingSeed(seed: number, stream: number): number {
  return (deriveSeed(seed, stream) | 0x80000000) >>> 0;
}
