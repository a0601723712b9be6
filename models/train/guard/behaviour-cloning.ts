/**
 * Behaviour cloning with @tensorflow/tfjs (pure JS, CPU backend): fits the MLP's
 * logits to the expert's actions by masked softmax cross-entropy (masked actions
 * get a large negative logit, as the SDK ignores them when decoding), with label
 * smoothing so the logits keep moderate margins that reinforcement learning can
 * still move. Seeded: same data and seed, same weights.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { GUARD_ACTION_COUNT, GUARD_FEATURE_COUNT, Rng } from '../../../server/sim/index.js';
import type { BcDataset } from './dataset.js';
import { layout, type MlpShape } from './mlp.js';
import type { ProgressFactory } from '../progress.js';

/** Options of {@link behaviourClone}. */
export interface BcOptions {
  readonly shape: MlpShape;
  /** Initial parameters (flat, see `mlp.ts`). */
  readonly init: Float32Array;
  readonly data: BcDataset;
  /** Held-out rows, for the validation curve. */
  readonly validation?: BcDataset;
  readonly epochs: number;
  /** @default 256 */
  readonly batchSize?: number;
  /** Adam learning rate. @default 0.003 */
  readonly learningRate?: number;
  /** Label smoothing over the allowed actions. @default 0.05 */
  readonly labelSmoothing?: number;
  /** Shuffling seed. */
  readonly seed: number;
  readonly progress?: ProgressFactory;
}

/** One epoch of the learning curve. */
export interface BcEpoch {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** What {@link behaviourClone} returns. */
export interface BcResult {
  params: Float32Array;
  curve: BcEpoch[];
}

let backendReady: Promise<boolean> | null = null;

/** Selects tfjs's pure-JS CPU backend once. */
function cpuBackend(): Promise<boolean> {
  backendReady ??= tf.setBackend('cpu');
  return backendReady;
}

/**
 * Trains the MLP on expert actions.
 *
 * @param options - see {@link BcOptions}
 * @returns the trained flat parameters and the per-epoch curve
 */
export async function behaviourClone(options: BcOptions): Promise<BcResult> {
  await cpuBackend();
  const { shape, data, epochs, seed } = options;
  const batchSize = options.batchSize ?? 256;
  const smoothing = options.labelSmoothing ?? 0.05;
  const { layers } = layout(shape);
  const vars = layers.map((L) => ({
    w: tf.variable(tf.tensor2d(options.init.subarray(L.w, L.w + L.inDim * L.outDim), [L.outDim, L.inDim]), true),
    b: tf.variable(tf.tensor1d(options.init.subarray(L.b, L.b + L.outDim)), true),
  }));
  const optimizer = tf.train.adam(options.learningRate ?? 0.003);

  const forward = (x: tf.Tensor2D): tf.Tensor2D => {
    let h: tf.Tensor2D = x;
    vars.forEach((v, l) => {
      const z = tf.add(tf.matMul(h, v.w, false, true), v.b) as tf.Tensor2D;
      h = l === vars.length - 1 ? z : shape.activation === 'tanh' ? tf.tanh(z) : tf.relu(z);
    });
    return h;
  };
  /** Masked cross-entropy against smoothed targets, and accuracy of the masked argmax. */
  const lossOf = (x: tf.Tensor2D, m: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar => {
    const logits = tf.add(forward(x), tf.mul(tf.sub(m, 1), 1e4));
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  };
  const targets = (
    d: BcDataset,
    idx: Int32Array,
  ): { x: tf.Tensor2D; m: tf.Tensor2D; t: tf.Tensor2D; y: Int32Array } => {
    const n = idx.length;
    const x = new Float32Array(n * GUARD_FEATURE_COUNT);
    const m = new Float32Array(n * GUARD_ACTION_COUNT);
    const t = new Float32Array(n * GUARD_ACTION_COUNT);
    const y = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const i = idx[r] as number;
      x.set(d.obs.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT), r * GUARD_FEATURE_COUNT);
      const mask = d.masks.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT);
      m.set(mask, r * GUARD_ACTION_COUNT);
      let allowed = 0;
      for (let a = 0; a < GUARD_ACTION_COUNT; a++) allowed += (mask[a] as number) > 0 ? 1 : 0;
      const label = d.actions[i] as number;
      y[r] = label;
      for (let a = 0; a < GUARD_ACTION_COUNT; a++) {
        if ((mask[a] as number) <= 0) continue;
        t[r * GUARD_ACTION_COUNT + a] = (a === label ? 1 - smoothing : 0) + smoothing / allowed;
      }
    }
    return {
      x: tf.tensor2d(x, [n, GUARD_FEATURE_COUNT]),
      m: tf.tensor2d(m, [n, GUARD_ACTION_COUNT]),
      t: tf.tensor2d(t, [n, GUARD_ACTION_COUNT]),
      y,
    };
  };
  const evaluate = (d: BcDataset): { loss: number; accuracy: number } => {
    const all = Int32Array.from({ length: d.size }, (_, i) => i);
    const b = targets(d, all);
    const res = tf.tidy(() => {
      const logits = tf.add(forward(b.x), tf.mul(tf.sub(b.m, 1), 1e4));
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(b.t, tf.logSoftmax(logits)), 1)));
      return { loss: loss.dataSync()[0] as number, pred: tf.argMax(logits, 1).dataSync() };
    });
    let ok = 0;
    for (let r = 0; r < d.size; r++) if (res.pred[r] === b.y[r]) ok++;
    tf.dispose([b.x, b.m, b.t]);
    return { loss: res.loss, accuracy: d.size > 0 ? ok / d.size : 0 };
  };

  const rng = new Rng(seed);
  const order = Int32Array.from({ length: data.size }, (_, i) => i);
  const batches = Math.ceil(data.size / batchSize);
  const curve: BcEpoch[] = [];
  const task = options.progress?.('behaviour cloning', epochs * batches);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    for (let k = 0; k < batches; k++) {
      const b = targets(data, order.subarray(k * batchSize, Math.min(data.size, (k + 1) * batchSize)));
      optimizer.minimize(() => lossOf(b.x, b.m, b.t));
      tf.dispose([b.x, b.m, b.t]);
      task?.update((epoch - 1) * batches + k + 1, { status: `epoch ${epoch}/${epochs}` });
    }
    const train = evaluate(data);
    const point: BcEpoch = { epoch, loss: train.loss, accuracy: train.accuracy };
    if (options.validation && options.validation.size > 0) {
      const val = evaluate(options.validation);
      point.valLoss = val.loss;
      point.valAccuracy = val.accuracy;
    }
    curve.push(point);
  }
  task?.stop();

  const params = new Float32Array(options.init.length);
  layers.forEach((L, l) => {
    const v = vars[l]!;
    params.set(v.w.dataSync(), L.w);
    params.set(v.b.dataSync(), L.b);
  });
  tf.dispose(vars.flatMap((v) => [v.w, v.b]));
  optimizer.dispose();
  return { params, curve };
}
