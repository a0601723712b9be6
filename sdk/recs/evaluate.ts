/**
 * Leave-one-out evaluation of a recommender against two baselines, in one run:
 *
 * - every user with ≥ 2 items has one of them held out (seeded choice);
 * - the model is trained on the rest, exported to ONNX, written to disk, and run
 *   through onnxruntime-node in batches — the file that would ship, not the
 *   trainer's arrays;
 * - popularity (users per item) and item-kNN (cosine between item columns,
 *   score = Σ history weight × similarity) are fitted on the same training split;
 * - items the user already has are excluded from every ranking; recall@k and
 *   NDCG@k are averaged over users (ties resolved in expectation, see metrics.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ErrorCode, PlaymindError } from '../protocol.js';
import { buildDataset, itemCounts, leaveOneOut, type Dataset, type HeldOut } from './dataset.js';
import { transformWeight, type WeightTransform } from './ease.js';
import type { Interaction } from './interactions.js';
import { MetricMean, rankScore, type RankScore } from './metrics.js';
import { TENSORS } from './onnx-export.js';
import { silentProgress, type ProgressFactory } from './progress.js';
import {
  fitRecommender,
  readRecommenderManifest,
  writeModelFolder,
  type FitOptions,
  type TrainedRecommender,
} from './trainer.js';

/** One row of the results table. */
export interface MethodResult extends RankScore {
  method: string;
}

/** The outcome of an evaluation. */
export interface EvalReport {
  k: number;
  seed: number;
  /** Users with a held-out item. */
  users: number;
  methods: MethodResult[];
  /** Seconds per step. */
  timings: Record<string, number>;
  /** The model trained on the split (λ, covered items…). */
  model?: Pick<TrainedRecommender, 'lambda' | 'lambdaScale' | 'curve'> & { coveredItems: number };
}

/** Options of {@link evaluateLeaveOneOut}. */
export interface EvalOptions {
  /** Seed of the held-out choice. @default 1 */
  seed?: number;
  /** Cut-off. @default 10 */
  k?: number;
  /** Users per onnxruntime call. @default 256 */
  batchSize?: number;
  /** Item-kNN neighbourhood size (per item); omitted: all neighbours. */
  knnNeighbours?: number;
  /** onnxruntime intra-op threads. @default 2 */
  threads?: number;
  /** Where the split model is written. @default a temporary folder, removed afterwards */
  modelDir?: string;
  progress?: ProgressFactory;
}

/** Popularity baseline: users per item in the training matrix. */
export function popularityScores(train: Dataset): Float32Array {
  return Float32Array.from(itemCounts(train));
}

/** Item-kNN with cosine similarity between item columns (dense similarity matrix). */
export class ItemKnn {
  private readonly sim: Float32Array;
  readonly nItems: number;

  /**
   * @param train - training matrix
   * @param transform - applied to weights (as the model does)
   * @param neighbours - keep only each item's top neighbours (omitted: all)
   */
  constructor(
    train: Dataset,
    private readonly transform: WeightTransform,
    neighbours?: number,
  ) {
    const n = train.items.length;
    this.nItems = n;
    const C = new Float32Array(n * n);
    for (let u = 0; u < train.users.length; u++) {
      const s = train.indptr[u]!;
      const e = train.indptr[u + 1]!;
      for (let a = s; a < e; a++) {
        const ia = train.indices[a]! * n;
        const wa = transformWeight(train.values[a]!, transform);
        for (let b = s; b < e; b++) C[ia + train.indices[b]!]! += wa * transformWeight(train.values[b]!, transform);
      }
    }
    const norm = new Float32Array(n);
    for (let i = 0; i < n; i++) norm[i] = Math.sqrt(C[i * n + i]!);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const d = norm[i]! * norm[j]!;
        C[i * n + j] = i === j || d === 0 ? 0 : C[i * n + j]! / d;
      }
    }
    if (neighbours !== undefined && neighbours < n) {
      // Keep, for every target item j, its `neighbours` most similar items (column-wise).
      const col = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) col[i] = C[i * n + j]!;
        const cut = Float32Array.from(col).sort()[n - neighbours]!;
        let keep = neighbours;
        for (let i = 0; i < n; i++) {
          if (col[i]! > cut) keep--;
        }
        for (let i = 0; i < n; i++) {
          const v = col[i]!;
          if (v < cut || (v === cut && keep-- <= 0)) C[i * n + j] = 0;
        }
      }
    }
    this.sim = C;
  }

  /** Scores every item for one user row. */
  score(train: Dataset, user: number, out: Float32Array): Float32Array {
    const n = this.nItems;
    out.fill(0);
    for (let p = train.indptr[user]!; p < train.indptr[user + 1]!; p++) {
      const row = train.indices[p]! * n;
      const w = transformWeight(train.values[p]!, this.transform);
      for (let j = 0; j < n; j++) out[j]! += w * this.sim[row + j]!;
    }
    return out;
  }
}

/**
 * Runs an ONNX recommender over users' histories, batched.
 * @param modelFile - the model.onnx to load
 * @param train - histories (raw weights, as the model expects)
 * @param users - which rows to score
 * @param onScores - called with each user's score row (the buffer is reused)
 */
export async function scoreWithOnnx(
  modelFile: string,
  train: Dataset,
  users: readonly number[],
  onScores: (index: number, scores: Float32Array) => void,
  options: { batchSize?: number; threads?: number; onBatch?: (done: number) => void } = {},
): Promise<void> {
  const { batchSize = 256, threads = 2 } = options;
  const n = train.items.length;
  const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    for (let start = 0; start < users.length; start += batchSize) {
      const rows = users.slice(start, start + batchSize);
      const input = new Float32Array(rows.length * n);
      rows.forEach((u, r) => {
        for (let p = train.indptr[u]!; p < train.indptr[u + 1]!; p++)
          input[r * n + train.indices[p]!] = train.values[p]!;
      });
      const out = await session.run({ [TENSORS.input]: new ort.Tensor('float32', input, [rows.length, n]) }, [
        TENSORS.scores,
      ]);
      const scores = out[TENSORS.scores]!;
      if (scores.dims[1] !== n)
        throw new PlaymindError(
          ErrorCode.CONTRACT_MISMATCH,
          `${modelFile}: scores have ${scores.dims[1]} columns, expected ${n}`,
        );
      const data = scores.data as Float32Array;
      rows.forEach((_, r) => onScores(start + r, data.subarray(r * n, (r + 1) * n)));
      options.onBatch?.(Math.min(users.length, start + batchSize));
    }
  } finally {
    await session.release();
  }
}

function seenMask(train: Dataset, user: number, mask: Uint8Array): Uint8Array {
  mask.fill(0);
  for (let p = train.indptr[user]!; p < train.indptr[user + 1]!; p++) mask[train.indices[p]!] = 1;
  return mask;
}

/**
 * Leave-one-out evaluation of the trainer against popularity and item-kNN.
 * @param ds - the full matrix (its item order is the catalogue)
 * @param fit - trainer options (name, weighted, λ…)
 * @returns the table's numbers
 */
export async function evaluateLeaveOneOut(
  ds: Dataset,
  fit: FitOptions,
  options: EvalOptions = {},
): Promise<EvalReport> {
  const { seed = 1, k = 10, batchSize = 256, threads = 2, progress = silentProgress } = options;
  const timings: Record<string, number> = {};
  const { train, heldOut } = leaveOneOut(ds, seed);
  if (heldOut.length === 0)
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, 'no user has 2 or more items: nothing to evaluate');
  const n = ds.items.length;
  const transform: WeightTransform = fit.weighted ? 'log1p' : 'none';
  const mask = new Uint8Array(n);

  let t = Date.now();
  const model = fitRecommender(train, { ...fit, progress });
  timings.train = (Date.now() - t) / 1000;
  const dir = options.modelDir ?? (await mkdtemp(join(tmpdir(), 'playmind-recs-eval-')));
  const methods: MethodResult[] = [];
  try {
    const written = await writeModelFolder(dir, model);
    t = Date.now();
    const mean = new MetricMean();
    const task = progress(`score ONNX (${heldOut.length} users)`, heldOut.length);
    await scoreWithOnnx(
      written.modelFile,
      train,
      heldOut.map((h) => h.user),
      (i, scores) => {
        const h = heldOut[i]!;
        mean.add(rankScore(scores, h.item, seenMask(train, h.user, mask), k));
      },
      { batchSize, threads, onBatch: (d) => task.update(d) },
    );
    task.stop();
    timings.onnx = (Date.now() - t) / 1000;
    methods.push({ method: 'EASE (ONNX)', ...mean.result() });
  } finally {
    if (!options.modelDir) await rm(dir, { recursive: true, force: true });
  }

  t = Date.now();
  const pop = popularityScores(train);
  const popMean = new MetricMean();
  for (const h of heldOut) popMean.add(rankScore(pop, h.item, seenMask(train, h.user, mask), k));
  methods.push({ method: 'popularity', ...popMean.result() });
  timings.popularity = (Date.now() - t) / 1000;

  t = Date.now();
  const knnTask = progress(`item-kNN (${n} items)`, heldOut.length);
  const knn = new ItemKnn(train, transform, options.knnNeighbours);
  const buf = new Float32Array(n);
  const knnMean = new MetricMean();
  heldOut.forEach((h, i) => {
    knnMean.add(rankScore(knn.score(train, h.user, buf), h.item, seenMask(train, h.user, mask), k));
    if ((i & 1023) === 0) knnTask.update(i);
  });
  knnTask.stop();
  methods.push({
    method: options.knnNeighbours ? `item-kNN cosine (k=${options.knnNeighbours})` : 'item-kNN cosine',
    ...knnMean.result(),
  });
  timings.knn = (Date.now() - t) / 1000;

  return {
    k,
    seed,
    users: heldOut.length,
    methods,
    timings,
    model: {
      lambda: model.lambda,
      lambdaScale: model.lambdaScale,
      curve: model.curve,
      coveredItems: model.kept.length,
    },
  };
}

/**
 * Evaluates a shipped model folder on new interactions (e.g. players it never saw):
 * leave-one-out on those users, the model fed their remaining history, against the
 * popularity ranking the manifest ships for cold start. Items outside the
 * catalogue are dropped.
 */
export async function evaluateModelFolder(
  dir: string,
  interactions: readonly Interaction[],
  options: { seed?: number; k?: number; batchSize?: number; threads?: number } = {},
): Promise<EvalReport> {
  const { seed = 1, k = 10 } = options;
  const manifest = await readRecommenderManifest(dir);
  const catalogue = manifest.recommender.catalogue.map((c) => c.id);
  const known = new Set(catalogue);
  const weighted = manifest.recommender.history === 'weighted';
  const ds = buildDataset(
    interactions.filter((r) => known.has(r.item)),
    { itemOrder: catalogue, weighted },
  );
  if (ds.items.length !== catalogue.length) throw new PlaymindError(ErrorCode.INTERNAL, 'catalogue order mismatch');
  const { train, heldOut }: { train: Dataset; heldOut: HeldOut[] } = leaveOneOut(ds, seed);
  const version = manifest.version ?? Math.max(...Object.keys(manifest.sha256 ?? { 1: '' }).map(Number));
  const mask = new Uint8Array(catalogue.length);
  const t = Date.now();
  const mean = new MetricMean();
  await scoreWithOnnx(
    join(dir, String(version), 'model.onnx'),
    train,
    heldOut.map((h) => h.user),
    (i, scores) => mean.add(rankScore(scores, heldOut[i]!.item, seenMask(train, heldOut[i]!.user, mask), k)),
    options,
  );
  const pop = Float32Array.from(manifest.recommender.catalogue, (c) => c.popularity ?? 0);
  const popMean = new MetricMean();
  for (const h of heldOut) popMean.add(rankScore(pop, h.item, seenMask(train, h.user, mask), k));
  return {
    k,
    seed,
    users: heldOut.length,
    methods: [
      { method: 'EASE (ONNX)', ...mean.result() },
      { method: 'popularity', ...popMean.result() },
    ],
    timings: { total: (Date.now() - t) / 1000 },
  };
}

/** The results as a Markdown table. */
export function formatTable(report: EvalReport): string {
  const k = report.k;
  const lines = [`| method | recall@${k} | NDCG@${k} |`, '|---|---:|---:|'];
  for (const m of report.methods) lines.push(`| ${m.method} | ${m.recall.toFixed(4)} | ${m.ndcg.toFixed(4)} |`);
  return lines.join('\n');
}
