/**
 * Evolution strategies (OpenAI-ES, Salimans et al. 2017) over the MLP's flat
 * parameter vector, in the arena:
 *
 * - antithetic Gaussian perturbations `θ ± σε`, each `ε` drawn from a seeded
 *   stream named by (seed, generation, pair), so a run is reproducible;
 * - fitness = mean episode return over a batch of seeded episodes against the
 *   scripted bots, the same batch for every member of a generation (common
 *   random numbers: the differences between members are not drowned by the
 *   differences between episodes);
 * - centred-rank fitness shaping, Adam on the estimated gradient, weight decay;
 * - the centre is scored every `validateEvery` generations on a fixed
 *   validation batch (disjoint from the evaluation seeds) and the best centre
 *   seen, starting with the initial one, is returned: a noisy step cannot make
 *   the result worse than where it started on that batch.
 *
 * Episodes are played with the pure-TypeScript forward pass (`mlp.ts`), not tfjs.
 *
 * @module
 */
import { Rng, deriveSeed } from '../../../server/sim/index.js';
import { layout, type LayerSlice, type MlpShape } from './mlp.js';
import type { ProgressFactory } from '../progress.js';
import { RolloutPool, type RolloutBatch } from './rollout-pool.js';
import { trainingSeed } from './seeds.js';

/** Options of {@link evolve}. */
export interface EsOptions {
  readonly shape: MlpShape;
  /** The starting parameters (e.g. from behaviour cloning). */
  readonly init: Float32Array;
  readonly generations: number;
  /** Antithetic pairs per generation (population = 2 × pairs). */
  readonly pairs: number;
  /** Episodes per fitness evaluation (the same seeds for the whole generation). */
  readonly episodes: number;
  /** Perturbation scale. @default 0.05 */
  readonly sigma?: number;
  /** Adam step size. @default 0.02 */
  readonly learningRate?: number;
  /** Decoupled weight decay per step (pulls the trained layers toward 0). @default 0.001 */
  readonly weightDecay?: number;
  /**
   * Which parameters evolve (the others keep their initial values): `all`, the
   * output layer, or only the output layer's biases (one preference per
   * action). Fewer parameters give a far less noisy gradient estimate for the
   * same episodes. @default 'all'
   */
  readonly trainable?: EsTrainable;
  /** Fitness = mean return + `winWeight` × win rate over the batch. @default 0 */
  readonly winWeight?: number;
  /** Training episode seeds of a generation are derived from this. */
  readonly seed: number;
  /** Seeds of the validation batch (fixed for the whole run). */
  readonly validationSeeds: readonly number[];
  /** Score the centre every this many generations (and at the end). @default 5 */
  readonly validateEvery?: number;
  /** Worker threads for the rollouts (results do not depend on it). @default min(2, cores) */
  readonly threads?: number;
  readonly progress?: ProgressFactory;
}

/** The parameters evolution strategies may change (see {@link EsOptions.trainable}). */
export type EsTrainable = 'all' | 'output-layer' | 'output-bias';

/** One generation of the learning curve. */
export interface EsGeneration {
  generation: number;
  /** Mean fitness of the population (mean return over its batch). */
  populationMean: number;
  /** Best member's fitness. */
  populationBest: number;
  /** The centre's mean return on the validation batch (every `validateEvery`). */
  validation?: number;
  /** The centre's win rate on the validation batch. */
  validationWinRate?: number;
  /** The centre's fitness on the validation batch (what selects the best centre). */
  validationFitness?: number;
}

/** What {@link evolve} returns. */
export interface EsResult {
  /** The best centre by validation fitness. */
  params: Float32Array;
  /** Its validation return. */
  validation: number;
  /** Its validation win rate. */
  validationWinRate: number;
  /** The generation it comes from (0 = the initial parameters). */
  bestGeneration: number;
  curve: EsGeneration[];
  /** Episodes played in all. */
  episodes: number;
  /** How many parameters evolved (see `trainable`). */
  trained: number;
  /** Rollout threads used. */
  threads: number;
}

/** Derived-seed streams of this module (distinct from the other training streams). */
const STREAM = { episodes: 0x45530000, noise: 0x45538000 } as const;

/**
 * Runs evolution strategies from `init`.
 *
 * @param options - see {@link EsOptions}
 * @returns the best centre and the learning curve
 */
export async function evolve(options: EsOptions): Promise<EsResult> {
  const { shape, generations, pairs, episodes, seed, validationSeeds } = options;
  const sigma = options.sigma ?? 0.05;
  const lr = options.learningRate ?? 0.02;
  const decay = options.weightDecay ?? 0.001;
  const winWeight = options.winWeight ?? 0;
  const validateEvery = Math.max(1, options.validateEvery ?? 5);
  const { layers, size } = layout(shape);
  if (options.init.length !== size) throw new RangeError(`'init' must hold ${size} values, got ${options.init.length}`);
  const trainable = options.trainable ?? 'all';
  const last = layers[layers.length - 1] as LayerSlice;
  // The evolving slice of the flat vector (each choice is contiguous and ends the vector).
  const from =
    trainable === 'all' ? 0 : trainable === 'output-layer' ? last.w : trainable === 'output-bias' ? last.b : NaN;
  if (Number.isNaN(from))
    throw new RangeError(`'trainable' must be 'all', 'output-layer' or 'output-bias', got ${String(trainable)}`);
  const d = size - from;
  const theta = Float64Array.from(options.init);
  const m = new Float64Array(d);
  const v = new Float64Array(d);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const pool = new RolloutPool(shape, options.threads);
  const fitnessOf = (b: RolloutBatch) => mean(b.returns) + winWeight * mean(b.wins.map((w) => (w ? 1 : 0)));

  try {
    const validate = async () => {
      const b = await pool.play(theta, validationSeeds);
      return {
        validation: mean(b.returns),
        validationWinRate: mean(b.wins.map((w) => (w ? 1 : 0))),
        validationFitness: fitnessOf(b),
      };
    };
    const curve: EsGeneration[] = [];
    const v0 = await validate();
    let best = { params: Float32Array.from(theta), ...v0, generation: 0 };
    curve.push({ generation: 0, populationMean: NaN, populationBest: NaN, ...v0 });

    const eps = Array.from({ length: pairs }, () => new Float32Array(d));
    const task = options.progress?.('evolution strategies', generations);
    for (let gen = 1; gen <= generations; gen++) {
      const seeds = Array.from({ length: episodes }, (_, i) => trainingSeed(seed, STREAM.episodes + gen * 1024 + i));
      const jobs: Array<{ params: Float32Array; seeds: number[] }> = [];
      for (let k = 0; k < pairs; k++) {
        const e = eps[k] as Float32Array;
        const rng = new Rng(deriveSeed(seed, STREAM.noise + gen * 1024 + k));
        for (let i = 0; i < d; i++) e[i] = rng.gaussian();
        // Antithetic pair on the same episodes (common random numbers).
        for (const sign of [1, -1]) {
          const p = Float32Array.from(theta);
          for (let i = 0; i < d; i++) p[from + i] = (theta[from + i] as number) + sign * sigma * (e[i] as number);
          jobs.push({ params: p, seeds });
        }
      }
      const scores = Float64Array.from((await pool.playAll(jobs)).map(fitnessOf));
      // Centred ranks in [-0.5, 0.5] (ties share their mean rank).
      const ranks = centredRanks(scores);
      const grad = new Float64Array(d);
      for (let k = 0; k < pairs; k++) {
        const w = (ranks[2 * k] as number) - (ranks[2 * k + 1] as number);
        if (w === 0) continue;
        const e = eps[k] as Float32Array;
        for (let i = 0; i < d; i++) grad[i] = (grad[i] as number) + w * (e[i] as number);
      }
      const b1 = 1 - beta1 ** gen;
      const b2 = 1 - beta2 ** gen;
      for (let i = 0; i < d; i++) {
        const g = (grad[i] as number) / (2 * pairs * sigma);
        m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
        v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
        const step = (lr * ((m[i] as number) / b1)) / (Math.sqrt((v[i] as number) / b2) + 1e-8);
        theta[from + i] = (theta[from + i] as number) * (1 - decay) + step;
      }
      let popMean = 0;
      let top = -Infinity;
      for (const s of scores) {
        popMean += s / scores.length;
        if (s > top) top = s;
      }
      const point: EsGeneration = { generation: gen, populationMean: popMean, populationBest: top };
      if (gen % validateEvery === 0 || gen === generations) {
        Object.assign(point, await validate());
        if ((point.validationFitness as number) > best.validationFitness) {
          best = {
            params: Float32Array.from(theta),
            validation: point.validation as number,
            validationWinRate: point.validationWinRate as number,
            validationFitness: point.validationFitness as number,
            generation: gen,
          };
        }
      }
      curve.push(point);
      task?.update(gen, {
        status: `pop ${popMean.toFixed(3)}${point.validation !== undefined ? ` val ${point.validation.toFixed(3)} win ${((point.validationWinRate as number) * 100).toFixed(1)}%` : ''} best@${best.generation} ${best.validationFitness.toFixed(3)}`,
      });
    }
    task?.stop();
    return {
      params: best.params,
      validation: best.validation,
      validationWinRate: best.validationWinRate,
      bestGeneration: best.generation,
      curve,
      episodes: pool.played,
      trained: d,
      threads: pool.threads,
    };
  } finally {
    await pool.close();
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Centred ranks: the lowest value maps to -0.5, the highest to 0.5, ties share
 * their mean rank.
 *
 * @param xs - values
 * @returns one rank per value
 */
export function centredRanks(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const out = new Float64Array(n);
  if (n < 2) return out;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && xs[idx[j + 1] as number] === xs[idx[i] as number]) j++;
    const r = (i + j) / 2 / (n - 1) - 0.5;
    for (let k = i; k <= j; k++) out[idx[k] as number] = r;
    i = j + 1;
  }
  return out;
}
