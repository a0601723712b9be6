/**
 * Evaluation of the npc-guard model (`npm run eval`): seeded episodes against the
 * scripted player bots, played through the arena game (`server/game`, the code the
 * arena room and the demo run; `playEpisode`), the trained policy played by running its ONNX file
 * THROUGH THE ENGINE (`createBrain` in local mode on the models folder, one
 * batched `decide` with action masks per tick), next to the scripted expert and
 * a random policy on the same seeds. Reports mean return (± sd), win rate and
 * action agreement with the expert, as a Markdown table.
 *
 * ```sh
 * npx tsx models/train/guard/evaluate.ts [--models models] [--name npc-guard] [--episodes 200]
 * ```
 *
 * @module
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBrain, silentLogger, type Decision } from '../../../sdk/index.js';
import {
  GUARD_ACTION_COUNT,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
  expertGuardFromObservation,
  expertPolicy,
  randomPolicy,
  type EpisodeResult,
  type GuardPolicy,
} from '../../../server/sim/index.js';
import { playEpisode } from '../../../server/game/index.js';
import { silentProgress, streamProgress, type ProgressFactory } from '../progress.js';
import { meanSd } from './rollout.js';
import { evaluationSeeds } from './seeds.js';

/** One row of the evaluation table. */
export interface PolicyScore {
  policy: string;
  episodes: number;
  meanReturn: number;
  sdReturn: number;
  winRate: number;
  /** Share of decisions (living guards with a choice) equal to the expert's, on the states this policy visited. */
  agreement: number;
  /** Decisions counted for the agreement. */
  decisions: number;
}

/** The evaluation's outcome. */
export interface GuardEvaluation {
  /** The model as the engine named it, e.g. `npc-guard@1`. */
  model: string;
  seeds: { first: number; count: number };
  trained: PolicyScore;
  expert: PolicyScore;
  random: PolicyScore;
  /** Decisions per route (all must be `local`). */
  servedBy: Record<string, number>;
  /** Decisions per model id the engine reported. */
  models: Record<string, number>;
  /** Per-episode returns of the trained policy, expert and random (for plots). */
  returns: { trained: number[]; expert: number[]; random: number[] };
  seconds: number;
}

/** Options of {@link evaluateGuard}. */
export interface EvaluateOptions {
  /** The models folder (holding `<name>/manifest.json`). @default 'models' */
  readonly models?: string;
  /** @default 'npc-guard' */
  readonly name?: string;
  /** @default 200 */
  readonly episodes?: number;
  /** Episodes played at once (their decisions share engine batches). @default 10 */
  readonly concurrency?: number;
  /** Seed of the random policy. @default 7 */
  readonly randomSeed?: number;
  readonly progress?: ProgressFactory;
}

/** Counts of agreement with the expert. */
interface Agreement {
  same: number;
  total: number;
}

/** Wraps a policy to count how often its decisions equal the expert's. */
function withAgreement(policy: GuardPolicy, agreement: Agreement): GuardPolicy {
  return async (obs, n, masks, arena) => {
    const out = await policy(obs, n, masks, arena);
    for (let i = 0; i < n; i++) {
      let allowed = 0;
      for (let a = 0; a < GUARD_ACTION_COUNT; a++) if ((masks[i * GUARD_ACTION_COUNT + a] as number) > 0) allowed++;
      if (allowed < 2) continue;
      agreement.total++;
      if (out[i] === expertGuardFromObservation(obs.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT)))
        agreement.same++;
    }
    return out;
  };
}

/** Plays the seeds, `concurrency` episodes at a time, in seed order. */
async function play(
  seeds: readonly number[],
  policyFor: (seed: number) => GuardPolicy,
  concurrency: number,
  onDone: () => void,
): Promise<EpisodeResult[]> {
  const out: EpisodeResult[] = new Array(seeds.length);
  for (let start = 0; start < seeds.length; start += concurrency) {
    const wave = seeds.slice(start, start + concurrency);
    const results = await Promise.all(
      wave.map(async (seed) => {
        const r = await playEpisode({ seed, guardPolicy: policyFor(seed) });
        onDone();
        return r;
      }),
    );
    results.forEach((r, k) => (out[start + k] = r));
  }
  return out;
}

function score(policy: string, results: readonly EpisodeResult[], agreement: Agreement): PolicyScore {
  const { mean, sd } = meanSd(results.map((r) => r.return));
  return {
    policy,
    episodes: results.length,
    meanReturn: mean,
    sdReturn: sd,
    winRate: results.length > 0 ? results.filter((r) => r.win).length / results.length : 0,
    agreement: agreement.total > 0 ? agreement.same / agreement.total : 0,
    decisions: agreement.total,
  };
}

/**
 * Evaluates the model in `models/<name>` through the engine, and the expert and a
 * random policy on the same seeds.
 *
 * @param options - see {@link EvaluateOptions}
 * @returns the scores of the three policies and how the decisions were served
 * @throws Error when a decision was not served locally by the model (e.g. the
 *   model failed to load and the fallback answered): the table would not be the model's
 */
export async function evaluateGuard(options: EvaluateOptions = {}): Promise<GuardEvaluation> {
  const started = Date.now();
  const name = options.name ?? 'npc-guard';
  const count = options.episodes ?? 200;
  const concurrency = Math.max(1, options.concurrency ?? 10);
  const randomSeed = options.randomSeed ?? 7;
  const progress = options.progress ?? silentProgress;
  const seeds = evaluationSeeds(count);
  const brain = await createBrain({
    mode: 'local',
    models: resolve(options.models ?? 'models'),
    heuristics: GUARD_HEURISTICS,
    logger: silentLogger,
  });
  const servedBy: Record<string, number> = {};
  const models: Record<string, number> = {};
  try {
    const handle = brain.policy(name);
    await handle.manifest();
    const onnxPolicy: GuardPolicy = async (obs, n, masks) => {
      const rows: Float32Array[] = [];
      const rowMasks: Float32Array[] = [];
      for (let i = 0; i < n; i++) {
        rows.push(obs.slice(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
        rowMasks.push(masks.slice(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT));
      }
      const decisions: Decision[] = await handle.decide(rows, { masks: rowMasks });
      const out = new Int32Array(n);
      decisions.forEach((d, i) => {
        servedBy[d.servedBy] = (servedBy[d.servedBy] ?? 0) + 1;
        models[d.model] = (models[d.model] ?? 0) + 1;
        out[i] = d.index ?? 0;
      });
      return out;
    };

    const task = progress(`evaluate ${count} episodes`, 3 * count);
    let done = 0;
    const tick = () => task.update(++done);
    const agreeTrained: Agreement = { same: 0, total: 0 };
    const agreeExpert: Agreement = { same: 0, total: 0 };
    const agreeRandom: Agreement = { same: 0, total: 0 };
    const trained = await play(seeds, () => withAgreement(onnxPolicy, agreeTrained), concurrency, tick);
    const expert = await play(seeds, () => withAgreement(expertPolicy, agreeExpert), 1, tick);
    const random = await play(
      seeds,
      (seed) => withAgreement(randomPolicy(randomSeed * 7919 + seed), agreeRandom),
      1,
      tick,
    );
    task.stop();

    const ids = Object.keys(models);
    const notLocal = Object.entries(servedBy).filter(([route]) => route !== 'local');
    if (notLocal.length > 0 || ids.length !== 1) {
      throw new Error(
        `evaluation of "${name}": expected every decision from one model version served locally, got routes ${JSON.stringify(servedBy)} and models ${JSON.stringify(models)}`,
      );
    }
    return {
      model: ids[0] as string,
      seeds: { first: seeds[0] ?? 0, count },
      trained: score(ids[0] as string, trained, agreeTrained),
      expert: score('scripted expert (FSM)', expert, agreeExpert),
      random: score('random (uniform over allowed actions)', random, agreeRandom),
      servedBy,
      models,
      returns: {
        trained: trained.map((r) => r.return),
        expert: expert.map((r) => r.return),
        random: random.map((r) => r.return),
      },
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await brain.close();
  }
}

/**
 * The evaluation as a Markdown table.
 *
 * @param e - an evaluation
 * @returns the table (with a header line)
 */
export function evaluationTable(e: GuardEvaluation): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const row = (s: PolicyScore) =>
    `| ${s.policy} | ${s.meanReturn.toFixed(3)} ± ${s.sdReturn.toFixed(3)} | ${pct(s.winRate)} | ${pct(s.agreement)} |`;
  return [
    `${e.seeds.count} seeded episodes (seeds ${e.seeds.first}–${e.seeds.first + e.seeds.count - 1}) against the scripted bots (fighter, collector, quester); the trained policy is the ONNX file run through the engine (createBrain local, one batched decide with masks per tick).`,
    '',
    '| policy | mean return ± sd | win rate | agreement with expert |',
    '|---|---|---|---|',
    row(e.trained),
    row(e.expert),
    row(e.random),
  ].join('\n');
}

/**
 * Command line: evaluates `models/npc-guard` and prints the table.
 *
 * @param argv - arguments after the script @default process.argv.slice(2)
 * @returns the evaluation
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<GuardEvaluation> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'models' },
      name: { type: 'string', default: 'npc-guard' },
      episodes: { type: 'string', default: '200' },
    },
    allowPositionals: false,
  });
  const episodes = Number(values.episodes);
  if (!Number.isInteger(episodes) || episodes < 1)
    throw new RangeError(`'--episodes' must be a positive integer, got ${values.episodes}`);
  const e = await evaluateGuard({ models: values.models, name: values.name, episodes, progress: streamProgress() });
  process.stdout.write(`\n## ${values.name} evaluation\n\n${evaluationTable(e)}\n\n(${e.seconds.toFixed(1)} s)\n`);
  return e;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
