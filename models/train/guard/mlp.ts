/**
 * The npc-guard network as a flat parameter vector, with a fast pure-TypeScript
 * forward pass (no tfjs): evolution strategies evaluate thousands of episodes
 * with it, and the ONNX export reads the same layout.
 *
 * Layout of {@link Mlp.params}: for each layer in order, its weights `W` as
 * `[out, in]` row-major (the layout of `GraphBuilder.dense` and of a Gemm with
 * `transB = 1`), then its bias `b[out]`. Hidden layers use `activation`; the last
 * layer is linear (logits).
 *
 * @module
 */
import { Rng } from '../../../server/sim/index.js';

/** Hidden-layer activation. */
export type Activation = 'tanh' | 'relu';

/** The network's shape. */
export interface MlpShape {
  readonly input: number;
  readonly hidden: readonly number[];
  readonly output: number;
  readonly activation: Activation;
}

/** One dense layer's place in the flat vector. */
export interface LayerSlice {
  readonly inDim: number;
  readonly outDim: number;
  /** Offset of `W` (`outDim × inDim`). */
  readonly w: number;
  /** Offset of `b` (`outDim`). */
  readonly b: number;
}

/**
 * The layers of a shape, with their offsets in the flat vector.
 *
 * @param shape - the network shape
 * @returns the layers and the total parameter count
 */
export function layout(shape: MlpShape): { layers: LayerSlice[]; size: number } {
  const dims = [shape.input, ...shape.hidden, shape.output];
  const layers: LayerSlice[] = [];
  let off = 0;
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l] as number;
    const outDim = dims[l + 1] as number;
    layers.push({ inDim, outDim, w: off, b: off + inDim * outDim });
    off += inDim * outDim + outDim;
  }
  return { layers, size: off };
}

/** A multilayer perceptron over a flat float32 parameter vector. */
export class Mlp {
  readonly layers: readonly LayerSlice[];
  private readonly scratch: Float64Array[];

  /**
   * @param shape - the network shape
   * @param params - the flat parameters (kept by reference) @default zeros
   * @throws RangeError when `params` has the wrong length
   */
  constructor(
    readonly shape: MlpShape,
    readonly params: Float32Array = new Float32Array(layout(shape).size),
  ) {
    const { layers, size } = layout(shape);
    if (params.length !== size)
      throw new RangeError(`'params' must hold ${size} values for this shape, got ${params.length}`);
    this.layers = layers;
    this.scratch = [shape.input, ...shape.hidden, shape.output].map((d) => new Float64Array(d));
  }

  /** Number of parameters. */
  get size(): number {
    return this.params.length;
  }

  /**
   * Logits of one observation row.
   *
   * @param x - the observation (read from `offset`, `shape.input` values)
   * @param offset - @default 0
   * @returns the logits (a scratch buffer, overwritten by the next call)
   */
  logits(x: ArrayLike<number>, offset = 0): Float64Array {
    const p = this.params;
    const s0 = this.scratch[0] as Float64Array;
    for (let i = 0; i < s0.length; i++) s0[i] = x[offset + i] as number;
    const last = this.layers.length - 1;
    const tanh = this.shape.activation === 'tanh';
    for (let l = 0; l <= last; l++) {
      const L = this.layers[l] as LayerSlice;
      const inp = this.scratch[l] as Float64Array;
      const out = this.scratch[l + 1] as Float64Array;
      const n = L.inDim;
      for (let o = 0; o < L.outDim; o++) {
        let acc = p[L.b + o] as number;
        const row = L.w + o * n;
        for (let i = 0; i < n; i++) acc += (p[row + i] as number) * (inp[i] as number);
        out[o] = l === last ? acc : tanh ? Math.tanh(acc) : acc > 0 ? acc : 0;
      }
    }
    return this.scratch[last + 1] as Float64Array;
  }

  /**
   * The highest-scoring allowed action of one row (the SDK's decoding of logits
   * with a mask: the first maximum wins, masked actions are skipped).
   *
   * @param x - observation rows
   * @param masks - mask rows (1 = allowed)
   * @param row - which row
   * @returns the action index (0 when every action is masked)
   */
  act(x: ArrayLike<number>, masks: ArrayLike<number>, row: number): number {
    const A = this.shape.output;
    const z = this.logits(x, row * this.shape.input);
    let best = -1;
    let bestScore = -Infinity;
    for (let a = 0; a < A; a++) {
      if (masks[row * A + a] === 0) continue;
      const s = z[a] as number;
      if (best < 0 || s > bestScore) {
        best = a;
        bestScore = s;
      }
    }
    return best < 0 ? 0 : best;
  }
}

/**
 * Glorot-uniform weights and zero biases, from a seeded generator.
 *
 * @param shape - the network shape
 * @param seed - the initialisation seed
 * @returns fresh parameters
 */
export function initParams(shape: MlpShape, seed: number): Float32Array {
  const { layers, size } = layout(shape);
  const p = new Float32Array(size);
  const rng = new Rng(seed);
  for (const L of layers) {
    const limit = Math.sqrt(6 / (L.inDim + L.outDim));
    for (let i = 0; i < L.inDim * L.outDim; i++) p[L.w + i] = rng.range(-limit, limit);
  }
  return p;
}
