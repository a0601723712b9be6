/**
 * Trains the npc-guard policy and writes its model folder:
 *
 * 1. collect expert demonstrations from seeded episodes against the scripted bots;
 * 2. behaviour-clone them into an MLP with @tensorflow/tfjs;
 * 3. improve it with evolution strategies in the arena;
 * 4. export ONNX + manifest (`<out>/1/model.onnx`, `<out>/manifest.json`);
 * 5. evaluate the ONNX file through the engine and write `<out>/report/`.
 *
 * ```sh
 * npx tsx models/train/guard/train-npc-guard.ts            # full budget -> models/npc-guard
 * npx tsx models/train/guard/train-npc-guard.ts --quick    # about a minute -> a temporary folder
 * npx tsx models/train/guard/train-npc-guard.ts --budget tiny --out /tmp/m/npc-guard --seed 3
 * ```
 *
 * Seeded and reproducible: the same seed and budget write the same model file.
 *
 * @module
 */
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GUARD_ACTIONS, GUARD_FEATURE_COUNT, GUARD_ACTION_COUNT, expertPolicy } from '../../../server/sim/index.js';
import { behaviourClone, type BcResult } from './behaviour-cloning.js';
import { actionHistogram, collectDataset } from './dataset.js';
import { evaluateGuard, evaluationTable, type GuardEvaluation } from './evaluate.js';
import { evolve, type EsResult, type EsTrainable } from './evolution.js';
import { initParams, layout, type MlpShape } from './mlp.js';
import { writeGuardModel, type WrittenGuardModel } from './onnx-export.js';
import { silentProgress, streamProgress, type ProgressFactory } from '../progress.js';
import { writeGuardReport } from './report.js';
import { meanSd, playEpisodes } from './rollout.js';
import { trainingSeed } from './seeds.js';

/** Training budgets: `tiny` for tests (seconds), `quick` (about a minute), `full` (the shipped model). */
export type GuardBudget = 'tiny' | 'quick' | 'full';

/** The knobs a budget sets. */
export interface BudgetSpec {
  /** Expert episodes for behaviour cloning, and one tick kept in `stride`. */
  expertEpisodes: number;
  stride: number;
  validationEpisodes: number;
  epochs: number;
  generations: number;
  pairs: number;
  episodesPerEval: number;
  esValidationEpisodes: number;
  validateEvery: number;
  evalEpisodes: number;
}

/** The budgets. */
export const BUDGETS: Readonly<Record<GuardBudget, Readonly<BudgetSpec>>> = Object.freeze({
  tiny: {
    expertEpisodes: 3,
    stride: 4,
    validationEpisodes: 1,
    epochs: 2,
    generations: 1,
    pairs: 2,
    episodesPerEval: 1,
    esValidationEpisodes: 2,
    validateEvery: 1,
    evalEpisodes: 4,
  },
  quick: {
    expertEpisodes: 12,
    stride: 2,
    validationEpisodes: 2,
    epochs: 3,
    generations: 4,
    pairs: 4,
    episodesPerEval: 6,
    esValidationEpisodes: 12,
    validateEvery: 2,
    evalEpisodes: 50,
  },
  full: {
    expertEpisodes: 40,
    stride: 2,
    validationEpisodes: 6,
    epochs: 6,
    generations: 20,
    pairs: 8,
    episodesPerEval: 24,
    esValidationEpisodes: 96,
    validateEvery: 4,
    evalEpisodes: 200,
  },
});

/** The network: 24 features → 32 → 32 → 6 logits, ReLU. */
export const GUARD_SHAPE: MlpShape = Object.freeze({
  input: GUARD_FEATURE_COUNT,
  hidden: [32, 32],
  output: GUARD_ACTION_COUNT,
  activation: 'relu',
});

/**
 * ES hyper-parameters. Only the output layer's biases (one preference per
 * action) evolve: with the full 2054-parameter vector, or even the 198 of the
 * output layer, the gradient estimate drowned in episode noise (one changed
 * decision re-rolls the rest of an episode) and the validation pick was luck.
 * Fitness adds the win rate to the mean return, as both are the goal.
 */
const ES = { sigma: 0.3, learningRate: 0.05, trainable: 'output-bias', winWeight: 1 } as const satisfies {
  sigma: number;
  learningRate: number;
  trainable: EsTrainable;
  winWeight: number;
};

/** Derived-seed streams of the pipeline. */
const STREAM = {
  expert: 0x42430000,
  validation: 0x42438000,
  init: 0x494e4954,
  shuffle: 0x53485546,
  esValidation: 0x45535600,
} as const;

/** Options of {@link trainNpcGuard}. */
export interface TrainGuardOptions {
  /** The model folder to write (`models/npc-guard`); its base name is the model name. */
  readonly outDir: string;
  /** @default 'full' */
  readonly budget?: GuardBudget;
  /** @default 1 */
  readonly seed?: number;
  /** Evaluation episodes. @default the budget's */
  readonly evalEpisodes?: number;
  /** The command shown in the report. */
  readonly command?: string;
  /** @default silent */
  readonly progress?: ProgressFactory;
  /** Informational lines. @default none */
  readonly log?: (line: string) => void;
}

/** What {@link trainNpcGuard} did. */
export interface TrainGuardResult {
  readonly written: WrittenGuardModel;
  readonly evaluation: GuardEvaluation;
  readonly bc: BcResult;
  readonly es: EsResult;
  readonly reportFiles: string[];
  /** Seconds per step. */
  readonly timings: Record<string, number>;
}

/**
 * Trains npc-guard and writes its folder, manifest, report and plots.
 *
 * @param options - see {@link TrainGuardOptions}
 * @returns what was written and measured
 * @example
 * const { evaluation } = await trainNpcGuard({ outDir: '/tmp/m/npc-guard', budget: 'tiny', seed: 1 });
 */
export async function trainNpcGuard(options: TrainGuardOptions): Promise<TrainGuardResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`'options' must be an object`);
  if (typeof options.outDir !== 'string' || options.outDir.length === 0)
    throw new TypeError(`'outDir' must be a non-empty string`);
  const budget = options.budget ?? 'full';
  const spec = BUDGETS[budget];
  if (spec === undefined)
    throw new RangeError(`'budget' must be one of ${Object.keys(BUDGETS).join(', ')}, got ${String(budget)}`);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`'seed' must be a non-negative integer, got ${seed}`);
  const outDir = resolve(options.outDir);
  const progress = options.progress ?? silentProgress;
  const log = options.log ?? (() => {});
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await fn();
    timings[step] = (Date.now() - t0) / 1000;
    return r;
  };

  const seedsOf = (stream: number, n: number) => Array.from({ length: n }, (_, i) => trainingSeed(seed, stream + i));
  const data = await timed('collect expert data', () =>
    collectDataset({ seeds: seedsOf(STREAM.expert, spec.expertEpisodes), stride: spec.stride, progress }),
  );
  const validation = await collectDataset({
    seeds: seedsOf(STREAM.validation, spec.validationEpisodes),
    stride: spec.stride * 2,
  });
  log(`expert data: ${data.size} rows from ${data.episodes} episodes, ${validation.size} validation rows`);

  const bc = await timed('behaviour cloning', () =>
    behaviourClone({
      shape: GUARD_SHAPE,
      init: initParams(GUARD_SHAPE, trainingSeed(seed, STREAM.init)),
      data,
      validation,
      epochs: spec.epochs,
      seed: trainingSeed(seed, STREAM.shuffle),
      progress,
    }),
  );
  const lastBc = bc.curve[bc.curve.length - 1];
  log(
    `behaviour cloning: accuracy ${((lastBc?.accuracy ?? 0) * 100).toFixed(2)} %, validation ${((lastBc?.valAccuracy ?? 0) * 100).toFixed(2)} %`,
  );

  const esValidationSeeds = seedsOf(STREAM.esValidation, spec.esValidationEpisodes);
  const es = await timed('evolution strategies', () =>
    evolve({
      shape: GUARD_SHAPE,
      init: bc.params,
      generations: spec.generations,
      pairs: spec.pairs,
      episodes: spec.episodesPerEval,
      sigma: ES.sigma,
      learningRate: ES.learningRate,
      trainable: ES.trainable,
      winWeight: ES.winWeight,
      seed,
      validationSeeds: esValidationSeeds,
      validateEvery: spec.validateEvery,
      progress,
    }),
  );
  const expertRuns = await playEpisodes(() => expertPolicy, esValidationSeeds);
  const expertValidation = meanSd(expertRuns.map((r) => r.return)).mean;
  const expertValidationWinRate = expertRuns.filter((r) => r.win).length / Math.max(1, expertRuns.length);
  log(
    `evolution strategies: validation return ${es.validation.toFixed(3)}, win rate ${(es.validationWinRate * 100).toFixed(1)} % (generation ${es.bestGeneration}; expert ${expertValidation.toFixed(3)}, ${(expertValidationWinRate * 100).toFixed(1)} %)`,
  );

  const shapeText = `${GUARD_SHAPE.input} → ${GUARD_SHAPE.hidden.join(' → ')} → ${GUARD_SHAPE.output}, ${GUARD_SHAPE.activation}`;
  const histogram = actionHistogram(data);
  // The evolution-strategies settings, as both the manifest's report and the README state them.
  const esSettings = {
    generations: spec.generations,
    pairs: spec.pairs,
    episodesPerEval: spec.episodesPerEval,
    sigma: ES.sigma,
    learningRate: ES.learningRate,
    trainable: ES.trainable,
    trainedParameters: es.trained,
    winWeight: ES.winWeight,
  };
  const baseReport = {
    trainer: 'models/train/guard/train-npc-guard.ts',
    command: options.command ?? `npx tsx models/train/guard/train-npc-guard.ts --budget ${budget} --seed ${seed}`,
    seed,
    budget,
    architecture: shapeText,
    parameters: layout(GUARD_SHAPE).size,
    data: {
      expertEpisodes: data.episodes,
      trainRows: data.size,
      validationRows: validation.size,
      stride: spec.stride,
      actionCounts: Object.fromEntries(GUARD_ACTIONS.map((a, i) => [a, histogram[i] ?? 0])),
    },
    behaviourCloning: { epochs: spec.epochs, final: lastBc },
    evolutionStrategies: {
      ...esSettings,
      validationEpisodes: spec.esValidationEpisodes,
      bestGeneration: es.bestGeneration,
      validationReturn: es.validation,
      validationWinRate: es.validationWinRate,
      expertValidationReturn: expertValidation,
      expertValidationWinRate,
      episodesPlayed: es.episodes,
    },
  };
  // Write the model first: the evaluation runs this file through the engine.
  let written = await writeGuardModel({ dir: outDir, shape: GUARD_SHAPE, params: es.params, report: baseReport });
  const evaluation = await timed('evaluation (ONNX through the engine)', () =>
    evaluateGuard({
      models: dirname(outDir),
      name: written.manifestPath.split(/[\\/]/).at(-2),
      episodes: options.evalEpisodes ?? spec.evalEpisodes,
      progress,
    }),
  );
  const table = (s: GuardEvaluation['trained']) => ({
    meanReturn: round(s.meanReturn),
    sdReturn: round(s.sdReturn),
    winRate: round(s.winRate),
    agreementWithExpert: round(s.agreement),
  });
  written = await writeGuardModel({
    dir: outDir,
    shape: GUARD_SHAPE,
    params: es.params,
    report: {
      ...baseReport,
      evaluation: {
        episodes: evaluation.seeds.count,
        seeds: `${evaluation.seeds.first}..${evaluation.seeds.first + evaluation.seeds.count - 1}`,
        opponents: 'scripted bots: fighter, collector, quester',
        trained: table(evaluation.trained),
        expert: table(evaluation.expert),
        random: table(evaluation.random),
      },
      readme: 'report/README.md',
    },
  });
  const reportFiles = await writeGuardReport(outDir, {
    name: evaluation.model.split('@')[0] ?? 'npc-guard',
    command: baseReport.command,
    seed,
    budget,
    architecture: shapeText,
    parameters: baseReport.parameters,
    modelBytes: written.bytes,
    sha256: written.sha256,
    data: {
      trainEpisodes: data.episodes,
      trainRows: data.size,
      validationRows: validation.size,
      actionCounts: baseReport.data.actionCounts,
    },
    bc: { epochs: spec.epochs, curve: bc.curve },
    es: {
      ...esSettings,
      threads: es.threads,
      validationEpisodes: spec.esValidationEpisodes,
      curve: es.curve,
      bestGeneration: es.bestGeneration,
      episodes: es.episodes,
      expertValidation,
      expertValidationWinRate,
    },
    evaluation,
    timings,
  });
  return { written, evaluation, bc, es, reportFiles, timings };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/**
 * Command line. `--quick` trains the quick budget into a temporary folder unless
 * `--out` is given; otherwise the full budget writes `models/npc-guard`.
 *
 * @param argv - arguments @default process.argv.slice(2)
 * @returns the training result
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<TrainGuardResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      budget: { type: 'string' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
    allowPositionals: false,
    strict: false,
  });
  const budget = (
    typeof values.budget === 'string' ? values.budget : values.quick === true ? 'quick' : 'full'
  ) as GuardBudget;
  if (!(budget in BUDGETS))
    throw new RangeError(`'--budget' must be one of ${Object.keys(BUDGETS).join(', ')}, got ${budget}`);
  const seed = Number(values.seed);
  const outDir =
    typeof values.out === 'string'
      ? values.out
      : budget === 'full'
        ? join('models', 'npc-guard')
        : join(tmpdir(), `playmind-${budget}`, 'npc-guard');
  const started = Date.now();
  process.stderr.write(`npc-guard: training (budget ${budget}, seed ${seed}) -> ${outDir}\n`);
  const result = await trainNpcGuard({
    outDir,
    budget,
    seed,
    command: `npx tsx models/train/guard/train-npc-guard.ts${budget === 'full' ? '' : ` --budget ${budget}`}${seed !== 1 ? ` --seed ${seed}` : ''}`,
    progress: streamProgress(),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    `${evaluationTable(result.evaluation)}\n\nnpc-guard: wrote ${result.written.modelPath} (${result.written.bytes} bytes) and ${result.reportFiles.length} report files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return result;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
