/**
 * Small ONNX policies in the layouts Unity ML-Agents exports (written with the SDK's
 * graph builder over onnx-proto), for the cases the compat folder has no real file for:
 * visual and rank-3 sensors, hybrid actions, float discrete outputs, the 1.x layout.
 *
 * The layout follows ML-Agents' exporter (`ml-agents/mlagents/trainers/torch_entities/
 * model_serialization.py`: inputs `obs_N`, `action_masks`, `recurrent_in`; outputs
 * `version_number`, `memory_size`, `continuous_actions`, `continuous_action_output_shape`,
 * `deterministic_continuous_actions`, `discrete_actions`, `discrete_action_output_shape`,
 * `deterministic_discrete_actions`, `recurrent_out`; visual inputs channels first) and, for
 * version 2, the 1.x names (`vector_observation`, `visual_observation_N`, `action`,
 * `is_continuous_control`, `action_output_shape`).
 */
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';

/** Deterministic pseudo-random observation values in [-2, 2). */
export function seededValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 4 - 2);
}

/** A flat row as arrays nested by `dims` (row-major), the way a game builds a grid or an image. */
export function nestedAs(flat: ArrayLike<number>, dims: readonly number[], at = 0): unknown {
  if (dims.length === 1) return Array.from({ length: dims[0]! }, (_, i) => flat[at + i]!);
  const inner = dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: dims[0]! }, (_, i) => nestedAs(flat, dims.slice(1), at + i * inner));
}

/** What to build. */
export interface MlAgentsGraph {
  /** 3 (ML-Agents 2.x/3.x, `obs_N`) or 2 (1.x names). @default 3 */
  version?: 2 | 3;
  /** Observation inputs with their shapes after the batch dimension. */
  obs: { name: string; shape: number[] }[];
  /** Discrete branch sizes. */
  discrete?: number[];
  /** Number of continuous actions. */
  continuous?: number;
  /** Version 3: include the deterministic outputs. @default true */
  deterministic?: boolean;
  /** Version 3: dtype of the discrete outputs. @default 'int64' */
  discreteDtype?: 'int64' | 'float32';
  /** Recurrent memory size (version 3): `recurrent_in [batch, 1, M]` → `recurrent_out`. */
  memory?: number;
  /** Weight seed. */
  seed?: number;
}

/** Sorter-like (ML-Agents' Sorter example: `obs_0 [20, 23]` beside two vector sensors), two discrete branches. */
export const SORTER_LIKE: MlAgentsGraph = {
  obs: [
    { name: 'obs_0', shape: [20, 23] },
    { name: 'obs_1', shape: [10] },
    { name: 'obs_2', shape: [8] },
  ],
  discrete: [3, 2],
  seed: 3,
};

const HIDDEN = 16;

/** Builds the policy; returns the ONNX bytes. */
export function mlAgentsPolicyBytes(spec: MlAgentsGraph): Uint8Array {
  const version = spec.version ?? 3;
  const g = new GraphBuilder('ml-agents-policy');
  let seed = spec.seed ?? 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const weights = (n: number, scale: number) => Array.from({ length: n }, () => rand() * scale);
  const branches = spec.discrete ?? [];
  const actionsTotal = branches.reduce((a, b) => a + b, 0);
  const cont = spec.continuous ?? 0;

  let total = 0;
  const flat: string[] = [];
  for (const o of spec.obs) {
    g.input(o.name, 'float32', ['batch', ...o.shape]);
    flat.push(g.node('Flatten', [o.name], undefined, { axis: 1 }));
    total += o.shape.reduce((a, b) => a * b, 1);
  }
  if (branches.length > 0) g.input('action_masks', 'float32', ['batch', actionsTotal]);
  if (spec.memory) {
    g.input('recurrent_in', 'float32', ['batch', 1, spec.memory]);
    flat.push(g.node('Flatten', ['recurrent_in'], undefined, { axis: 1 }));
    total += spec.memory;
  }
  const x = flat.length === 1 ? flat[0]! : g.node('Concat', flat, undefined, { axis: 1 });
  const hidden = g.node('Tanh', [
    g.dense(x, weights(total * HIDDEN, 1 / Math.sqrt(total)), weights(HIDDEN, 0.1), total, HIDDEN),
  ]);

  const constant = (name: string, values: number[], dims: number[]) => {
    g.node('Identity', [g.floats(`${name}_value`, values, dims)], [name]);
    g.output(name, 'float32', dims);
  };
  constant('version_number', [version], [1]);
  constant('memory_size', [spec.memory ?? 0], [1]);

  let bounds: [string, string] | undefined;
  const clipped = (t: string) => {
    bounds ??= [g.floats('minus_three', [-3], []), g.floats('three', [3], [])];
    return g.node('Div', [g.node('Clip', [t, ...bounds]), bounds[1]]);
  };

  // Continuous: means, clipped to [-1, 1] as ML-Agents' exporter does; the sampled output adds noise.
  let means: string | undefined;
  let sampledCont: string | undefined;
  if (cont > 0) {
    means = g.dense(hidden, weights(HIDDEN * cont, 1), weights(cont, 0.1), HIDDEN, cont);
    const noise = g.node('Mul', [
      g.node('RandomNormalLike', [means], undefined, { dtype: 1 }),
      g.floats('sigma', [0.5], []),
    ]);
    sampledCont = g.node('Add', [means, noise]);
  }
  // Discrete: masked probabilities per branch; deterministic = argmax, sampled = multinomial.
  const argmaxes: string[] = [];
  const samples: string[] = [];
  const logProbs: string[] = [];
  let start = 0;
  branches.forEach((size, b) => {
    const logits = g.dense(hidden, weights(HIDDEN * size, 2), weights(size, 0.2), HIDDEN, size);
    const mask = g.node('Slice', [
      'action_masks',
      g.int64s(`mask_start_${b}`, [start], [1]),
      g.int64s(`mask_end_${b}`, [start + size], [1]),
      g.int64s(`mask_axis_${b}`, [1], [1]),
    ]);
    const probs = g.node('Mul', [g.node('Softmax', [logits], undefined, { axis: 1 }), mask]);
    const normalised = g.node('Div', [
      g.node('Add', [probs, g.floats(`eps_${b}`, [1e-10], [])]),
      g.node(
        'ReduceSum',
        [g.node('Add', [probs, g.floats(`eps2_${b}`, [1e-10], [])]), g.int64s(`axes_${b}`, [1], [1])],
        undefined,
        { keepdims: 1 },
      ),
    ]);
    const logp = g.node('Log', [normalised]);
    logProbs.push(logp);
    argmaxes.push(g.node('ArgMax', [normalised], undefined, { axis: 1, keepdims: 1 }));
    samples.push(g.node('Multinomial', [logp], undefined, { dtype: 7, sample_size: 1 }));
    start += size;
  });
  const concat = (parts: string[]) =>
    parts.length === 1 ? parts[0]! : g.node('Concat', parts, undefined, { axis: 1 });

  if (version === 3) {
    if (cont > 0) {
      g.node('Identity', [clipped(sampledCont!)], ['continuous_actions']);
      g.output('continuous_actions', 'float32', ['batch', cont]);
      constant('continuous_action_output_shape', [cont], [1]);
      if (spec.deterministic ?? true) {
        g.node('Identity', [clipped(means!)], ['deterministic_continuous_actions']);
        g.output('deterministic_continuous_actions', 'float32', ['batch', cont]);
      }
    }
    if (branches.length > 0) {
      const asDtype = (t: string) => (spec.discreteDtype === 'float32' ? g.node('Cast', [t], undefined, { to: 1 }) : t);
      const dtype = spec.discreteDtype ?? 'int64';
      g.node('Identity', [asDtype(concat(samples))], ['discrete_actions']);
      g.output('discrete_actions', dtype, ['batch', branches.length]);
      constant('discrete_action_output_shape', branches, [1, branches.length]);
      if (spec.deterministic ?? true) {
        g.node('Identity', [asDtype(concat(argmaxes))], ['deterministic_discrete_actions']);
        g.output('deterministic_discrete_actions', dtype, ['batch', branches.length]);
      }
    }
    if (spec.memory) {
      const m = spec.memory;
      const next = g.node('Tanh', [g.dense(x, weights(total * m, 1 / Math.sqrt(total)), weights(m, 0.1), total, m)]);
      g.node('Reshape', [next, g.int64s('memory_shape', [-1, 1, m], [3])], ['recurrent_out']);
      g.output('recurrent_out', 'float32', ['batch', 1, m]);
    }
  } else {
    // ML-Agents 1.x: one `action` output — sampled continuous actions, or the log-probabilities of every branch.
    if (cont > 0) g.node('Identity', [clipped(sampledCont!)], ['action']);
    else g.node('Identity', [concat(logProbs)], ['action']);
    g.output('action', 'float32', ['batch', cont > 0 ? cont : actionsTotal]);
    constant('is_continuous_control', [cont > 0 ? 1 : 0], [1]);
    constant('action_output_shape', [cont > 0 ? cont : actionsTotal], [1]);
  }
  return g.toBytes(13, 'pytorch');
}
