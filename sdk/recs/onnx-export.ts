/**
 * Writes a trained EASE recommender as an ONNX graph (opset 13):
 *
 * - input  `history`     float32 [-1, nItems]  multi-hot row, or raw weights (e.g. hours)
 * - output `scores`      float32 [-1, nItems]  one score per catalogue item
 * - output `top_scores`  float32 [-1, k]       best k items not in the history…
 * - output `top_indices` int64   [-1, k]       …as catalogue indices
 *
 * Weighted models apply `log1p` inside the graph, so callers feed raw weights.
 * Items the model does not cover (too few interactions) get a constant score far
 * below every modelled item, ordered by popularity.
 */
import { GraphBuilder } from '../onnx/graph-builder.js';
import type { WeightTransform } from './ease.js';

/** Score given to catalogue items the model does not cover (plus their user count). */
export const UNCOVERED_SCORE = -1e6;
/** Score the top-k outputs give to items already in the history. */
const MASKED_SCORE = -1e30;

/** Everything the graph needs. */
export interface RecommenderGraph {
  name: string;
  nItems: number;
  /** Covered items, catalogue indices, ascending. */
  kept: Int32Array;
  /** EASE weights over the kept items (n × n row-major). */
  weights: Float32Array;
  /** Added to the kept items' scores (the popularity tie-break). */
  prior: Float32Array;
  /** Per catalogue item: number of users (orders the uncovered items). */
  counts: Int32Array;
  transform: WeightTransform;
  /** Width of the top-k outputs (capped at nItems). */
  topK: number;
}

/** Names of the graph's tensors. */
export const TENSORS = {
  input: 'history',
  scores: 'scores',
  topScores: 'top_scores',
  topIndices: 'top_indices',
} as const;

/** Encodes the recommender as ONNX bytes. */
export function buildRecommenderOnnx(m: RecommenderGraph): Uint8Array {
  const nItems = m.nItems;
  const nKept = m.kept.length;
  const k = Math.min(m.topK, nItems);
  const g = new GraphBuilder(m.name);
  g.input(TENSORS.input, 'float32', ['batch', nItems]);
  g.output(TENSORS.scores, 'float32', ['batch', nItems]);
  g.output(TENSORS.topScores, 'float32', ['batch', k]);
  g.output(TENSORS.topIndices, 'int64', ['batch', k]);

  let x: string = TENSORS.input;
  if (m.transform === 'log1p') {
    const one = g.floats('one', [1], []);
    x = g.node('Log', [g.node('Add', [x, one])], ['log1p_history']);
  }
  const identity = nKept === nItems;
  if (!identity) x = g.node('Gather', [x, g.int64s('kept_items', m.kept, [nKept])], ['kept_history'], { axis: 1 });
  const mm = g.node('MatMul', [x, g.floats('ease_weights', m.weights, [nKept, nKept])], ['ease_scores']);
  const kept = g.node(
    'Add',
    [mm, g.floats('popularity_prior', m.prior, [nKept])],
    identity ? [TENSORS.scores] : ['kept_scores'],
  );
  if (!identity) {
    const inKept = new Uint8Array(nItems);
    for (const i of m.kept) inKept[i] = 1;
    const rare: number[] = [];
    for (let i = 0; i < nItems; i++) if (!inKept[i]) rare.push(i);
    // [kept..., rare...] → catalogue order.
    const inverse = new Array<number>(nItems);
    [...m.kept, ...rare].forEach((item, col) => (inverse[item] = col));
    const rareRow = g.floats(
      'uncovered_scores',
      rare.map((i) => UNCOVERED_SCORE + m.counts[i]!),
      [1, rare.length],
    );
    const shape = g.node('Shape', [TENSORS.input]);
    const rows = g.node('Slice', [
      shape,
      g.int64s('s0', [0], [1]),
      g.int64s('s1', [1], [1]),
      g.int64s('s_axes', [0], [1]),
    ]);
    const rareShape = g.node('Concat', [rows, g.int64s('n_uncovered', [rare.length], [1])], undefined, { axis: 0 });
    const rareScores = g.node('Expand', [rareRow, rareShape]);
    const all = g.node('Concat', [kept, rareScores], ['stacked_scores'], { axis: 1 });
    g.node('Gather', [all, g.int64s('catalogue_order', inverse, [nItems])], [TENSORS.scores], { axis: 1 });
  }
  const seen = g.node('Greater', [TENSORS.input, g.floats('zero', [0], [])], ['seen']);
  const masked = g.node(
    'Where',
    [seen, g.floats('masked_score', [MASKED_SCORE], []), TENSORS.scores],
    ['unseen_scores'],
  );
  g.node('TopK', [masked, g.int64s('k', [k], [1])], [TENSORS.topScores, TENSORS.topIndices], {
    axis: 1,
    largest: 1,
    sorted: 1,
  });
  return g.toBytes(13, 'playmind-train-recs');
}
