/**
 * The whole `train-recs` run as a function: read a log (or take interactions),
 * optionally evaluate leave-one-out against the baselines, fit on all the data,
 * write the model folder and its report. The CLI, the quest-recs pipeline and the
 * Steam run all go through here.
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import { buildDataset, describeDataset } from './dataset.js';
import { evaluateLeaveOneOut, type EvalReport } from './evaluate.js';
import { readInteractions, readTitles, type Interaction, type LogFormat, type ReadResult } from './interactions.js';
import { silentProgress, type ProgressFactory } from './progress.js';
import { writeReport } from './report.js';
import {
  fitRecommender,
  nameFromDir,
  writeModelFolder,
  type FitOptions,
  type TrainedRecommender,
  type WrittenModel,
} from './trainer.js';

/** Options of {@link trainRecsPipeline}. */
export interface PipelineOptions extends Omit<FitOptions, 'name' | 'progress' | 'titles'> {
  /** Output model folder (`models/<name>`). */
  out: string;
  /** Model name. @default the output folder's base name */
  name?: string;
  /** A log file to read, or interactions already in memory. */
  interactions: string | readonly Interaction[];
  /** Columns and format of the log file. */
  columns?: { userCol: string; itemCol: string; weightCol?: string; format?: LogFormat };
  /** A file of item titles. */
  titles?: { file: string; itemCol: string; titleCol: string; format?: LogFormat };
  /** Run the leave-one-out evaluation first (its numbers go into the manifest and report). @default false */
  evaluate?: boolean;
  /** Seed of the held-out choice. @default the training seed */
  evalSeed?: number;
  /** Item-kNN neighbourhood for the baseline (omitted: all). */
  knnNeighbours?: number;
  /** Version folder. @default 1 */
  version?: number;
  /** Describes the data in the report. @default the file name */
  source?: string;
  /** The command that regenerates the model (for the report). */
  command?: string;
  /** Extra Markdown for the report, or a function that makes it once the model folder is written. */
  extraReport?: string | ((written: WrittenModel) => Promise<string>);
  /** Extra manifest report fields. */
  manifestReport?: Record<string, unknown>;
  progress?: ProgressFactory;
  /** Informational lines (columns ignored, counts…). */
  log?: (line: string) => void;
}

/** What {@link trainRecsPipeline} did. */
export interface PipelineResult {
  written: WrittenModel;
  model: TrainedRecommender;
  evaluation?: EvalReport;
  read?: ReadResult;
  reportFiles: string[];
  /** Seconds per step. */
  timings: Record<string, number>;
}

/**
 * Trains a recommender from an interaction log and writes `<out>/manifest.json`,
 * `<out>/<version>/model.onnx` and `<out>/report/`.
 * @example
 * await trainRecsPipeline({ interactions: 'log.tsv', columns: { userCol: 'user', itemCol: 'item' }, out: 'models/shop-recs', evaluate: true });
 */
export async function trainRecsPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const progress = o.progress ?? silentProgress;
  const log = o.log ?? (() => {});
  const timings: Record<string, number> = {};
  const name = o.name ?? nameFromDir(o.out);
  let t = Date.now();
  let interactions: readonly Interaction[];
  let read: ReadResult | undefined;
  let weighted = o.weighted ?? false;
  if (typeof o.interactions === 'string') {
    if (!o.columns)
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'columns' is required when 'interactions' is a file`);
    const task = progress('read interactions', 1);
    read = await readInteractions(o.interactions, {
      ...o.columns,
      onProgress: (d, total) => task.update(d, { total }),
    });
    task.stop();
    interactions = read.interactions;
    weighted = o.weighted ?? o.columns.weightCol !== undefined;
    log(`${o.interactions}: ${read.lines} lines (${read.format}), columns ${read.columns.join(', ')}`);
    if (read.ignoredColumns.length > 0) log(`ignored columns: ${read.ignoredColumns.join(', ')}`);
  } else {
    interactions = o.interactions;
  }
  let titles: Map<string, string> | undefined;
  if (o.titles) {
    titles = await readTitles(o.titles.file, o.titles);
  }
  const ds = buildDataset(interactions, { itemOrder: o.catalogue?.map((c) => c.id), weighted });
  if (titles) {
    const missing = ds.items.filter((id) => !titles!.has(id)).length;
    log(`titles: ${titles.size} read, ${ds.items.length - missing} of ${ds.items.length} items titled`);
  }
  timings.read = (Date.now() - t) / 1000;
  const stats = describeDataset(ds);
  log(`${stats.users} users, ${stats.items} items, ${stats.interactions} user-item pairs`);
  const fit: FitOptions = { ...o, name, weighted, titles, progress };

  let evaluation: EvalReport | undefined;
  if (o.evaluate) {
    t = Date.now();
    evaluation = await evaluateLeaveOneOut(ds, fit, {
      seed: o.evalSeed ?? o.seed ?? 1,
      progress,
      knnNeighbours: o.knnNeighbours,
    });
    timings.evaluate = (Date.now() - t) / 1000;
  }
  t = Date.now();
  // With an evaluation, its tuned λ (as a multiple of the Gram scale) is reused instead of tuning again.
  const model = fitRecommender(
    ds,
    evaluation?.model && o.lambda === undefined ? { ...fit, lambdaMultiple: evaluation.model.lambdaScale } : fit,
  );
  timings.train = (Date.now() - t) / 1000;
  const curve = model.curve ?? evaluation?.model?.curve;
  const written = await writeModelFolder(o.out, model, {
    version: o.version,
    report: {
      source: o.source ?? (typeof o.interactions === 'string' ? o.interactions : 'in-memory interactions'),
      ...(curve && !model.curve
        ? { lambdaValidation: curve, lambdaValidationNote: 'tuned on the evaluation training split' }
        : {}),
      ...(evaluation
        ? {
            evaluation: {
              protocol: `leave-one-out, seed ${evaluation.seed}, ${evaluation.users} users, seen items excluded; model run from its ONNX file`,
              k: evaluation.k,
              methods: evaluation.methods,
            },
          }
        : {}),
      ...(o.command ? { command: o.command } : {}),
      ...o.manifestReport,
    },
  });
  const reportFiles = await writeReport(written.dir, {
    name,
    source: o.source ?? (typeof o.interactions === 'string' ? o.interactions : 'in-memory interactions'),
    data: stats,
    history: weighted ? 'weighted' : 'multi-hot',
    lambda: model.lambda,
    lambdaMultiple: model.lambdaScale,
    coveredItems: model.kept.length,
    curve,
    evaluation,
    command: o.command,
    extra: typeof o.extraReport === 'function' ? await o.extraReport(written) : o.extraReport,
  });
  return { written, model, evaluation, read, reportFiles, timings };
}
