/**
 * A recommender trainer for any interaction log: aggregates (user, item, weight)
 * rows, fits EASE (a closed-form item × item model, Steck 2019) with λ chosen on a
 * seeded validation split, and writes a Playmind model folder:
 *
 * ```
 * <out>/manifest.json     kind "recommender": catalogue (ids, titles, tags, popularity), report
 * <out>/<version>/model.onnx
 * ```
 *
 * The readers for tsv/csv/jsonl logs are re-exported from here.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseManifest, type ManifestInput, type RecommenderManifest } from '../contract/manifest.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import { buildDataset, describeDataset, itemCounts, type Dataset } from './dataset.js';
import {
  easeFromGram,
  gramMatrix,
  meanDiagonal,
  popularityPrior,
  selectItems,
  tuneLambda,
  type LambdaPoint,
  type WeightTransform,
} from './ease.js';
import type { Interaction } from './interactions.js';
import { buildRecommenderOnnx, TENSORS } from './onnx-export.js';
import { silentProgress, type ProgressFactory } from './progress.js';

export { formatFromPath, parseInteractions, readInteractions, readTitles, splitCsvLine } from './interactions.js';
export type { ColumnSelection, Interaction, LogFormat, ReadOptions, ReadResult } from './interactions.js';

/** Item metadata a caller may provide (a game's own catalogue). */
export interface CatalogueEntry {
  id: string;
  title?: string;
  tags?: string[];
}

/** λ candidates, as multiples of the mean diagonal of XᵀX. */
export const DEFAULT_LAMBDA_GRID: readonly number[] = [0.03, 0.1, 0.3, 1, 3];

/** Options of {@link fitRecommender}. */
export interface FitOptions {
  /** Model name (manifest `name`). */
  name: string;
  /** Input is a weighted row (raw weights, log1p in the graph) rather than multi-hot. @default false */
  weighted?: boolean;
  /** Items with metadata; their order starts the catalogue. */
  catalogue?: readonly CatalogueEntry[];
  /** Titles by item id (e.g. from `--titles`). */
  titles?: ReadonlyMap<string, string>;
  /** A fixed λ, or 'auto' to choose it on a validation split. @default 'auto' */
  lambda?: number | 'auto';
  /**
   * λ as a multiple of the mean Gram diagonal (overrides `lambda`); used to carry a
   * λ chosen on an evaluation split over to the full data.
   */
  lambdaMultiple?: number;
  /** Candidates for 'auto', as multiples of the mean Gram diagonal. @default DEFAULT_LAMBDA_GRID */
  lambdaGrid?: readonly number[];
  /** Items need this many users to be modelled (others rank last, by popularity). @default 2 */
  minItemCount?: number;
  /** At most this many items are modelled (the Gram inversion is O(n³)). @default 2000 */
  maxItems?: number;
  /** Width of the top-k outputs. @default 20 */
  topK?: number;
  /** @default 1 */
  seed?: number;
  progress?: ProgressFactory;
}

/** Options of {@link trainRecommender}. */
export interface TrainOptions extends FitOptions {
  interactions: readonly Interaction[];
}

/** A fitted model, ready to be written. */
export interface TrainedRecommender {
  name: string;
  dataset: Dataset;
  weighted: boolean;
  transform: WeightTransform;
  counts: Int32Array;
  /** Modelled items (catalogue indices). */
  kept: Int32Array;
  lambda: number;
  /** λ as a multiple of the mean Gram diagonal. */
  lambdaScale: number;
  /** Validation curve when λ was tuned. */
  curve?: LambdaPoint[];
  minItemCount: number;
  topK: number;
  seed: number;
  onnx: Uint8Array;
  catalogue: Array<{ id: string; title?: string; tags?: string[]; popularity: number }>;
  /** Seconds per step. */
  timings: Record<string, number>;
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, message);
}

/**
 * Fits EASE on a prepared matrix (the evaluation calls this on its training split).
 * @param ds - user × item matrix; its item order is the catalogue order
 * @param options - see {@link FitOptions}
 */
export function fitRecommender(ds: Dataset, options: FitOptions): TrainedRecommender {
  const {
    name,
    weighted = false,
    lambda = 'auto',
    lambdaGrid = DEFAULT_LAMBDA_GRID,
    minItemCount = 2,
    maxItems = 2000,
    topK = 20,
    seed = 1,
    progress = silentProgress,
  } = options;
  check(
    typeof name === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name),
    `'name' must use letters, digits, ".", "_" and "-" (got "${name}")`,
  );
  check(
    lambda === 'auto' || (typeof lambda === 'number' && lambda > 0),
    `'lambda' must be a positive number or 'auto'`,
  );
  check(lambdaGrid.length > 0 && lambdaGrid.every((v) => v > 0), `'lambdaGrid' must hold positive numbers`);
  check(Number.isInteger(minItemCount) && minItemCount >= 1, `'minItemCount' must be an integer ≥ 1`);
  check(Number.isInteger(maxItems) && maxItems >= 1, `'maxItems' must be an integer ≥ 1`);
  check(Number.isInteger(topK) && topK >= 1, `'topK' must be an integer ≥ 1`);
  check(ds.items.length > 0 && ds.users.length > 0, 'no interactions to train on');
  const timings: Record<string, number> = {};
  const transform: WeightTransform = weighted ? 'log1p' : 'none';
  const counts = itemCounts(ds);
  let kept = selectItems(counts, minItemCount, maxItems);
  if (kept.length === 0) kept = selectItems(counts, 1, maxItems);
  check(kept.length > 0, 'no item has an interaction');
  const n = kept.length;

  let t = Date.now();
  let chosen: number;
  let curve: LambdaPoint[] | undefined;
  const G = gramMatrix(ds, kept, transform);
  const scale = meanDiagonal(G, n) || 1;
  if (options.lambdaMultiple !== undefined) {
    check(options.lambdaMultiple > 0, `'lambdaMultiple' must be > 0`);
    chosen = options.lambdaMultiple * scale;
  } else if (lambda === 'auto') {
    const task = progress(`tune λ (${lambdaGrid.length}×${n})`, 1);
    const tuned = tuneLambda(ds, {
      kept,
      transform,
      grid: lambdaGrid,
      seed: seed + 7919,
      tick: (d, total) => task.update(d, { total }),
    });
    task.stop();
    // The inner split has slightly smaller counts: carry λ over as a multiple of the scale.
    const bestIndex = tuned.curve.reduce((b, c, i, all) => (c.ndcg > all[b]!.ndcg ? i : b), 0);
    chosen = lambdaGrid[bestIndex]! * scale;
    curve = tuned.curve.map((c, i) => ({ ...c, lambda: lambdaGrid[i]! * scale }));
    timings.tune = (Date.now() - t) / 1000;
  } else {
    chosen = lambda;
  }
  t = Date.now();
  const task = progress(`fit EASE (${n} items)`, 1);
  const B = easeFromGram(G, n, chosen, (d, total) => task.update(d, { total }));
  task.stop();
  timings.fit = (Date.now() - t) / 1000;

  t = Date.now();
  const onnx = buildRecommenderOnnx({
    name,
    nItems: ds.items.length,
    kept,
    weights: B,
    prior: popularityPrior(counts, kept),
    counts,
    transform,
    topK,
  });
  timings.export = (Date.now() - t) / 1000;

  const meta = new Map((options.catalogue ?? []).map((c) => [c.id, c]));
  const catalogue = ds.items.map((id, i) => {
    const m = meta.get(id);
    const title = m?.title ?? options.titles?.get(id);
    return {
      id,
      ...(title !== undefined ? { title } : {}),
      ...(m?.tags ? { tags: [...m.tags] } : {}),
      popularity: counts[i]!,
    };
  });
  return {
    name,
    dataset: ds,
    weighted,
    transform,
    counts,
    kept,
    lambda: chosen,
    lambdaScale: chosen / scale,
    curve,
    minItemCount,
    topK: Math.min(topK, ds.items.length),
    seed,
    onnx,
    catalogue,
    timings,
  };
}

/**
 * Aggregates an interaction log and fits the model.
 * @example
 * const model = trainRecommender({ name: 'quest-recs', interactions });
 * await writeModelFolder('models/quest-recs', model);
 */
export function trainRecommender(options: TrainOptions): TrainedRecommender {
  check(Array.isArray(options.interactions), `'interactions' must be an array`);
  check(options.interactions.length > 0, 'no interactions to train on');
  const ds = buildDataset(options.interactions, {
    itemOrder: options.catalogue?.map((c) => c.id),
    weighted: options.weighted ?? false,
  });
  return fitRecommender(ds, options);
}

/** Options of {@link writeModelFolder}. */
export interface WriteOptions {
  /** Version folder to write. @default 1 */
  version?: number;
  description?: string;
  /** Extra report fields (data source, evaluation, links). */
  report?: Record<string, unknown>;
}

/** What {@link writeModelFolder} wrote. */
export interface WrittenModel {
  dir: string;
  manifestFile: string;
  modelFile: string;
  sha256: string;
  manifest: RecommenderManifest;
}

/** The manifest of a trained model (validated with the contract's schema). */
export function recommenderManifest(
  model: TrainedRecommender,
  sha256: string,
  options: WriteOptions = {},
): RecommenderManifest {
  const version = options.version ?? 1;
  const nItems = model.dataset.items.length;
  const stats = describeDataset(model.dataset);
  const raw: ManifestInput = {
    name: model.name,
    kind: 'recommender',
    format: 'playmind',
    description:
      options.description ??
      `EASE item-to-item recommender over ${nItems} items (${model.weighted ? 'weighted history, log1p applied in the graph' : 'multi-hot history'}).`,
    inputs: [{ name: TENSORS.input, dtype: 'float32', shape: [-1, nItems] }],
    outputs: [
      { name: TENSORS.scores, dtype: 'float32', shape: [-1, nItems] },
      { name: TENSORS.topScores, dtype: 'float32', shape: [-1, model.topK] },
      { name: TENSORS.topIndices, dtype: 'int64', shape: [-1, model.topK] },
    ],
    recommender: {
      catalogue: model.catalogue,
      input: TENSORS.input,
      output: TENSORS.scores,
      history: model.weighted ? 'weighted' : 'multi-hot',
      coldStart: 'popularity',
    },
    sha256: { [String(version)]: sha256 },
    report: {
      trainer: 'ease',
      algorithm: 'EASE (Steck 2019): B = I - P/diag(P), P = (XᵀX + λI)⁻¹; scores = history · B',
      lambda: model.lambda,
      lambdaOverMeanGramDiagonal: model.lambdaScale,
      ...(model.curve ? { lambdaValidation: model.curve } : {}),
      weightTransform:
        model.transform === 'log1p' ? 'log1p, applied inside the graph: feed raw weights' : 'none (multi-hot)',
      coveredItems: model.kept.length,
      minItemCount: model.minItemCount,
      uncoveredItems: 'items with fewer users than minItemCount score below every covered item, ordered by popularity',
      topK: {
        k: model.topK,
        scores: TENSORS.topScores,
        indices: TENSORS.topIndices,
        excludesHistory: true,
        note: 'catalogue indices of the best k items whose history value is 0; when fewer than k are left, the rest are history items with score -1e30',
      },
      data: stats,
      seed: model.seed,
      ...options.report,
    },
  };
  return parseManifest(raw, `${model.name}/manifest.json`) as RecommenderManifest;
}

/**
 * Writes `<dir>/manifest.json` and `<dir>/<version>/model.onnx`; the manifest is
 * validated with the contract's schema before anything is written.
 * @param dir - the model folder (its base name is usually the model name)
 */
export async function writeModelFolder(
  dir: string,
  model: TrainedRecommender,
  options: WriteOptions = {},
): Promise<WrittenModel> {
  const version = options.version ?? 1;
  check(Number.isInteger(version) && version >= 1, `'version' must be an integer ≥ 1`);
  const sha256 = createHash('sha256').update(model.onnx).digest('hex');
  const manifest = recommenderManifest(model, sha256, options);
  const out = resolve(dir);
  await mkdir(join(out, String(version)), { recursive: true });
  const modelFile = join(out, String(version), 'model.onnx');
  const manifestFile = join(out, 'manifest.json');
  await writeFile(modelFile, model.onnx);
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  return { dir: out, manifestFile, modelFile, sha256, manifest };
}

/** Reads and validates a model folder's manifest (must be a recommender). */
export async function readRecommenderManifest(dir: string): Promise<RecommenderManifest> {
  const file = join(dir, 'manifest.json');
  const m = parseManifest(await readFile(file, 'utf8'), file);
  if (m.kind !== 'recommender')
    throw new PlaymindError(ErrorCode.WRONG_KIND, `${file}: kind is "${m.kind}", not "recommender"`);
  return m;
}

/** A model name from an output folder (`models/quest-recs` → `quest-recs`). */
export function nameFromDir(dir: string): string {
  return basename(resolve(dir));
}
