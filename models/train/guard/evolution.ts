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
import { Mlp, type MlpShape } from './mlp.js';
import type { ProgressFactory } from '../progress.js';
import { meanSd, mlpPolicy, playEpisodes } from './rollout.js';
import { trainingSeed } from './seeds.js';

/** Options of {@link evolve}. */
export interface EsOptions {
  readonly shape: MlpShape;
  /** The starting parameters (e.g. from behaviour cloning). */
  readonly init: Float32Array;
  readonly generations: number;
  /** Antithetic pairs per generation (population = 2 × pairs). */
  readonly pairs: number;
  /** Episodes per fitness evaluation. */
  readonly episodes: number;
  /** Perturbation scale. @default 0.05 */
  readonly sigma?: number;
  /** Adam step size. @default 0.02 */
  readonly learningRate?: number;
  /** Decoupled weight decay per step. @default 0.001 */
  readonly weightDecay?: number;
  /** Training episode seeds of a generation are derived from this. */
  readonly seed: number;
  /** Seeds of the validation batch (fixed for the whole run). */
  readonly validationSeeds: readonly number[];
  /** Score the centre every this many generations (and at the end). @default 5 */
  readonly validateEvery?: number;
  readonly progress?: ProgressFactory;
}

/** One generation of the learning curve. */
export interface EsGeneration {
  generation: number;
  /** Mean fitness of the population (mean return over its batch). */
  populationMean: number;
  /** Best member's fitness. */
  populationBest: number;
  /** The centre's mean return on the validation batch (every `validateEvery`). */
  validation?: number;
}

/** What {@link evolve} returns. */
export interface EsResult {
  /** The best centre by validation return. */
  params: Float32Array;
  /** Its validation return. */
  validation: number;
  /** The generation it comes from (0 = the initial parameters). */
  bestGeneration: number;
  curve: EsGeneration[];
  /** Episodes played in all. */
  episodes: number;
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
  const validateEvery = Math.max(1, options.validateEvery ?? 5);
  const d = options.init.length;
  const theta = Float64Array.from(options.init);
  const m = new Float64Array(d);
  const v = new Float64Array(d);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const candidate = new Mlp(shape);
  const policy = mlpPolicy(candidate);
  let played = 0;

  const fitness = async (seeds: readonly number[]): Promise<number> => {
    const results = await playEpisodes(() => policy, seeds);
    played += seeds.length;
    return meanSd(results.map((r) => r.return)).mean;
  };
  const validate = async (): Promise<number> => {
    candidate.params.set(theta);
    return fitness(validationSeeds);
  };

  const curve: EsGeneration[] = [];
  let best = { params: Float32Array.from(theta), validation: await validate(), generation: 0 };
  curve.push({ generation: 0, populationMean: NaN, populationBest: NaN, validation: best.validation });

  const eps = Array.from({ length: pairs }, () => new Float32Array(d));
  const scores = new Float64Array(2 * pairs);
  const task = options.progress?.('evolution strategies', generations);
  for (let gen = 1; gen <= generations; gen++) {
    const seeds = Array.from({ length: episodes }, (_, i) => trainingSeed(seed, STREAM.episodes + gen * 1024 + i));
    for (let k = 0; k < pairs; k++) {
      const e = eps[k] as Float32Array;
      const rng = new Rng(deriveSeed(seed, STREAM.noise + gen * 1024 + k));
      for (let i = 0; i < d; i++) e[i] = rng.gaussian();
      for (const sign of [1, -1]) {
        for (let i = 0; i < d; i++) candidate.params[i] = (theta[i] as number) + sign * sigma * (e[i] as number);
        scores[2 * k + (sign > 0 ? 0 : 1)] = await fitness(seeds);
      }
    }
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
      theta[i] = (theta[i] as number) * (1 - decay) + step;
    }
    let mean = 0;
    let top = -Infinity;
    for (const s of scores) {
      mean += s / scores.length;
      if (s > top) top = s;
    }
    const point: EsGeneration = { generation: gen, populationMean: mean, populationBest: top };
    if (gen % validateEvery === 0 || gen === generations) {
      point.validation = await validate();
      if (point.validation > best.validation) best = { params: Float32Array.from(theta), validation: point.validation, generation: gen };
    }
    curve.push(point);
    task?.update(gen, { status: `pop ${mean.toFixed(3)}${point.validation !== undefined ? ` val ${point.validation.toFixed(3)}` : ''} best ${best.validation.toFixed(3)}` });
  }
  task?.stop();
  return { params: best.params, validation: best.validation, bestGeneration: best.generation, curve, episodes: played };
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
