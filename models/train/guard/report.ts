/**
 * The npc-guard training report: `report/README.md` plus SVG plots (behaviour
 * cloning loss and accuracy, the evolution-strategies return curve with the
 * expert's level, the evaluation bars).
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BcEpoch } from './behaviour-cloning.js';
import type { EsGeneration } from './evolution.js';
import { evaluationTable, type GuardEvaluation } from './evaluate.js';
import { barChart, lineChart } from './svg-plots.js';

/** Everything the report shows. */
export interface GuardReportInput {
  readonly name: string;
  readonly command: string;
  readonly seed: number;
  readonly budget: string;
  readonly architecture: string;
  readonly parameters: number;
  readonly modelBytes: number;
  readonly sha256: string;
  readonly data: {
    trainEpisodes: number;
    trainRows: number;
    validationRows: number;
    actionCounts: Record<string, number>;
  };
  readonly bc: { epochs: number; curve: readonly BcEpoch[] };
  readonly es: {
    generations: number;
    pairs: number;
    episodesPerEval: number;
    sigma: number;
    learningRate: number;
    /** Which parameters evolved, and how many. */
    trainable: string;
    trainedParameters: number;
    /** Fitness = mean return + winWeight × win rate. */
    winWeight: number;
    /** Rollout threads (the result does not depend on it). */
    threads: number;
    validationEpisodes: number;
    curve: readonly EsGeneration[];
    bestGeneration: number;
    episodes: number;
    /** The expert's mean return on the validation batch. */
    expertValidation: number;
    /** The expert's win rate on the validation batch. */
    expertValidationWinRate: number;
  };
  readonly evaluation: GuardEvaluation;
  /** Seconds per step. */
  readonly timings: Record<string, number>;
}

/**
 * Writes `<dir>/report/README.md` and its plots.
 *
 * @param dir - the model folder
 * @param r - what to report
 * @returns the files written
 */
export async function writeGuardReport(dir: string, r: GuardReportInput): Promise<string[]> {
  const out = join(dir, 'report');
  await mkdir(out, { recursive: true });
  const files: Record<string, string> = {};

  files['bc-loss.svg'] = lineChart('Behaviour cloning: masked cross-entropy per epoch', 'epoch', 'loss', [
    { label: 'train loss', color: '#1f77b4', points: r.bc.curve.map((p) => [p.epoch, p.loss] as const) },
    { label: 'validation loss', color: '#ff7f0e', points: r.bc.curve.map((p) => [p.epoch, p.valLoss ?? NaN] as const) },
  ]);
  files['bc-accuracy.svg'] = lineChart('Behaviour cloning: agreement with the expert per epoch', 'epoch', 'accuracy', [
    { label: 'train', color: '#1f77b4', points: r.bc.curve.map((p) => [p.epoch, p.accuracy] as const) },
    { label: 'validation', color: '#ff7f0e', points: r.bc.curve.map((p) => [p.epoch, p.valAccuracy ?? NaN] as const) },
  ]);
  const gens = r.es.curve.filter((p) => p.generation > 0);
  files['es-return.svg'] = lineChart(
    'Evolution strategies: mean episode return',
    'generation',
    'mean return',
    [
      {
        label: 'population mean (training batch)',
        color: '#9ecae1',
        points: gens.map((p) => [p.generation, p.populationMean] as const),
      },
      {
        label: 'centre on the validation batch',
        color: '#d62728',
        points: r.es.curve
          .filter((p) => p.validation !== undefined)
          .map((p) => [p.generation, p.validation as number] as const),
      },
    ],
    [
      {
        label: `expert on the validation batch (${r.es.expertValidation.toFixed(3)})`,
        y: r.es.expertValidation,
        color: '#2ca02c',
      },
    ],
  );
  const e = r.evaluation;
  files['evaluation.svg'] = barChart(
    `Evaluation: mean return ± sd over ${e.seeds.count} seeded episodes`,
    'mean return',
    [
      { label: `trained (${e.model})`, value: e.trained.meanReturn, err: e.trained.sdReturn, color: '#d62728' },
      { label: 'scripted expert', value: e.expert.meanReturn, err: e.expert.sdReturn, color: '#2ca02c' },
      { label: 'random', value: e.random.meanReturn, err: e.random.sdReturn, color: '#7f7f7f' },
    ],
  );
  files['win-rate.svg'] = barChart(`Evaluation: win rate over ${e.seeds.count} seeded episodes`, 'win rate', [
    { label: `trained (${e.model})`, value: e.trained.winRate, color: '#d62728' },
    { label: 'scripted expert', value: e.expert.winRate, color: '#2ca02c' },
    { label: 'random', value: e.random.winRate, color: '#7f7f7f' },
  ]);

  const delta = e.trained.meanReturn - e.expert.meanReturn;
  const verdict =
    delta >= 0
      ? `The trained policy's mean return is ${delta.toFixed(3)} above the expert's on these seeds (goal: ≥ the expert) and ${(e.trained.meanReturn - e.random.meanReturn).toFixed(3)} above random.`
      : `The trained policy's mean return is ${(-delta).toFixed(3)} BELOW the expert's on these seeds (goal not met) and ${(e.trained.meanReturn - e.random.meanReturn).toFixed(3)} above random.`;
  const lastBc = r.bc.curve[r.bc.curve.length - 1];
  const total = Object.values(r.timings).reduce((a, b) => a + b, 0);
  const readme = `# ${r.name}: training report

A guard policy for the Playmind arena (\`server/sim\`): an MLP (${r.architecture}, ${r.parameters} parameters,
${r.modelBytes} bytes of ONNX) that is first **behaviour-cloned** from the scripted expert guard
(the finite-state machine of \`server/sim/expert-guard.ts\`, also the model's fallback heuristic), then
improved by **evolution strategies** in the arena against the scripted player bots.

Regenerate it with \`${r.command}\` (seed ${r.seed}, budget \`${r.budget}\`; the same seed gives the same file,
sha256 \`${r.sha256}\`).

## Evaluation

${evaluationTable(e)}

${verdict}
"Agreement with expert" is the share of the policy's decisions (living guards with a choice, on the
states the policy itself visited) equal to what the expert would do there; the expert agrees with itself
by definition. The evaluation took ${e.seconds.toFixed(1)} s; every decision was served by
\`${e.model}\` through the local engine (${Object.entries(e.servedBy)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}).
Re-run it with \`npm run eval\` (\`npx tsx models/train/guard/evaluate.ts\`).

![evaluation](evaluation.svg)
![win rate](win-rate.svg)

## Data

- Expert demonstrations: ${r.data.trainEpisodes} seeded episodes (expert guards vs. the scripted bots);
  ${r.data.trainRows} training rows and ${r.data.validationRows} validation rows (living guards with more than one allowed action).
- Expert labels: ${Object.entries(r.data.actionCounts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}.
- Evaluation seeds ${e.seeds.first}… are never used for training (training seeds are derived with the top bit set).

## Behaviour cloning

Masked softmax cross-entropy (masked actions get −10⁴, as the SDK skips them when decoding), label smoothing,
Adam, ${r.bc.epochs} epochs, tfjs CPU backend, seeded initialisation and shuffling.
Final: train loss ${lastBc?.loss.toFixed(4)}, accuracy ${((lastBc?.accuracy ?? 0) * 100).toFixed(2)} %;
validation accuracy ${((lastBc?.valAccuracy ?? 0) * 100).toFixed(2)} %.

![bc loss](bc-loss.svg)
![bc accuracy](bc-accuracy.svg)

## Evolution strategies

OpenAI-ES from the cloned network: ${r.es.generations} generations of ${r.es.pairs} antithetic pairs (σ = ${r.es.sigma}),
each pair played on the same ${r.es.episodesPerEval} seeded episodes, shared by the whole generation (common random numbers);
fitness = mean return + ${r.es.winWeight} × win rate; centred-rank shaping; Adam (lr ${r.es.learningRate}).
${
  r.es.trainable === 'all'
    ? `All ${r.es.trainedParameters} parameters evolve.`
    : `Only ${r.es.trainable === 'output-bias' ? `the output layer's biases (${r.es.trainedParameters} parameters: one preference per action)` : `the output layer (${r.es.trainedParameters} parameters)`} evolve; the rest keeps its cloned values.
Perturbing all ${r.parameters} parameters gave a gradient estimate drowned in episode noise: a single changed
decision re-rolls the rest of an episode (even σ = 0.01 changes most episodes), so the return differences between
the members of a pair are mostly noise, and the best validated centre was an early, lucky draw.`
}
The centre is scored every few generations on a fixed validation batch of ${r.es.validationEpisodes} episodes (mean return ${
    r.es.curve[0]?.validation?.toFixed(3) ?? '?'
  }, win rate ${pct(r.es.curve[0]?.validationWinRate)} for the cloned policy; the expert: ${r.es.expertValidation.toFixed(3)}, ${pct(r.es.expertValidationWinRate)});
the centre of best validation fitness is kept (generation ${r.es.bestGeneration}${r.es.bestGeneration === 0 ? ', i.e. the cloned policy: ES did not beat it on validation' : ''}).
${r.es.episodes} episodes played, with a pure-TypeScript forward pass of the MLP on ${r.es.threads} worker thread${r.es.threads === 1 ? '' : 's'}
(each episode is a function of the parameters and its seed, and results are gathered in order: the model does not depend on the number of threads).

![es return](es-return.svg)

## Time

${Object.entries(r.timings)
  .map(([k, v]) => `- ${k}: ${v.toFixed(1)} s`)
  .join('\n')}
- total: ${total.toFixed(1)} s
`;
  files['README.md'] = readme;
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    await writeFile(join(out, file), text);
    written.push(join(out, file));
  }
  return written;
}

function pct(x: number | undefined): string {
  return x === undefined ? '?' : `${(x * 100).toFixed(1)} %`;
}
