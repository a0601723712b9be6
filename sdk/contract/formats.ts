/**
 * Recognises the layout of an ONNX model and proposes its manifest: Unity ML-Agents
 * exports (see `format-ml-agents.ts`), Godot RL Agents exports (`format-godot-rl.ts`), and
 * any other model as kind `tensor`. Every inspection says what it recognised in the file
 * and what it assumed where the file says nothing.
 */
import type { BackendSession } from '../engine/backend.js';
import type { GraphSummary, ValueSummary } from '../onnx/graph-reader.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import { inspectGodotRl, type GodotActionSpace, type GodotDecoding } from './format-godot-rl.js';
import { inspectMlAgents } from './format-ml-agents.js';
import { describeSpec, specOf, type InspectContext, type Notes } from './inspect-context.js';
import { DTypeSchema, type ManifestInput, type TensorSpec } from './manifest.js';

export { specOf } from './inspect-context.js';

/** What an inspection found. */
export interface Inspection {
  format: 'ml-agents' | 'godot-rl' | 'playmind';
  kind: 'policy' | 'tensor';
  manifest: ManifestInput;
  /** What was recognised in the file (layout, versions, tensors, actions). */
  recognised: string[];
  /** What was assumed where the file does not say (and how to change it). */
  assumed: string[];
  /** `recognised` then `assumed`, one list. */
  notes: string[];
}

/** Options of {@link inspectModel}. */
export interface InspectOptions {
  /** What the ONNX file says of itself beyond the session's metadata (output kinds, shapes, producer, ops). */
  graph?: GraphSummary;
  /** A Godot RL Agents action space, as the game's `AIController.get_action_space()` returns it. */
  godotActions?: GodotActionSpace;
  /** How the game's Godot RL Agents plugin decodes actions. @default 'argmax' */
  godotDecoding?: GodotDecoding;
}

/**
 * Inspects a loaded session and proposes a manifest.
 * @param name - the model's name
 * @param session - a session on the model (run once with zeros to read ML-Agents' constant outputs)
 * @param options - what the file itself says ({@link InspectOptions.graph}) and a Godot action space
 * @throws PlaymindError `model_load_failed` when no output can be served (every one is a sequence or map),
 *   `invalid_argument` when a Godot action space is given for a model that is no Godot RL Agents export
 */
export async function inspectModel(
  name: string,
  session: BackendSession,
  options: InspectOptions = {},
): Promise<Inspection> {
  const notes: Notes = { recognised: [], assumed: [] };
  const graph = options.graph;
  if (graph) {
    const opsets = Object.entries(graph.opsets)
      .map(([d, v]) => (d === '' || d === 'ai.onnx' ? `opset ${v}` : `${d} opset ${v}`))
      .join(', ');
    notes.recognised.push(
      `ONNX IR ${graph.irVersion}, ${opsets}${graph.producer ? `, produced by ${graph.producer}` : ''}`,
    );
  }
  const { inputs, outputs, unservable } = servableTensors(name, session, graph, notes);
  const ctx: InspectContext = { name, session, inputs, outputs, graph, notes };
  describeNumerics(ctx);

  const ml = await inspectMlAgents(ctx);
  const godot = ml ? null : inspectGodotRl(ctx, options.godotActions, options.godotDecoding);
  if (options.godotActions && !godot) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${name}: an action space (--actions) describes a Godot RL Agents policy, but this model is ${ml ? 'a Unity ML-Agents export' : 'no Godot RL Agents export (it needs a "state_ins" input and an "output" output)'}`,
    );
  }
  const found = ml ?? godot;
  if (found) return finish(found.format, 'policy', found.manifest, notes);

  if (unservable.length > 0 && outputs.length === 0) {
    throw new PlaymindError(
      ErrorCode.MODEL_LOAD_FAILED,
      `${name}: no output can be served: ${unservable.map((o) => `"${o.name}" is a ${o.type}`).join('; ')}. onnxruntime's JavaScript API returns tensors only; re-export the model with tensor outputs (skl2onnx: options={'zipmap': False})`,
      { details: { outputs: unservable.map((o) => o.name) } },
    );
  }
  notes.recognised.push(
    `no known policy layout: kind tensor with inputs ${inputs.map(describeSpec).join(', ')}; outputs ${outputs.map(describeSpec).join(', ')}`,
  );
  const batching = tensorBatching(ctx);
  return finish(
    'playmind',
    'tensor',
    { name, kind: 'tensor', format: 'playmind', inputs, outputs, ...batching },
    notes,
  );
}

function finish(
  format: Inspection['format'],
  kind: Inspection['kind'],
  manifest: ManifestInput,
  notes: Notes,
): Inspection {
  return {
    format,
    kind,
    manifest,
    recognised: notes.recognised,
    assumed: notes.assumed,
    notes: [...notes.recognised, ...notes.assumed],
  };
}

/**
 * The session's inputs and outputs as manifest specs, leaving out the outputs onnxruntime's
 * JavaScript API cannot return (sequences, maps: e.g. skl2onnx's ZipMap `output_probability`).
 */
function servableTensors(
  name: string,
  session: BackendSession,
  graph: GraphSummary | undefined,
  notes: Notes,
): { inputs: TensorSpec[]; outputs: TensorSpec[]; unservable: ValueSummary[] } {
  const declared = new Map((graph?.outputs ?? []).map((o) => [o.name, o]));
  const declaredIn = new Map((graph?.inputs ?? []).map((o) => [o.name, o]));
  const known = new Set<string>(DTypeSchema.options);
  const unservable: ValueSummary[] = [];
  const outputs: TensorSpec[] = [];
  for (const m of session.outputs) {
    const g = declared.get(m.name);
    const nonTensor = g ? g.kind !== 'tensor' : m.dtype === 'unknown';
    const badType = !nonTensor && m.dtype !== 'unknown' && !known.has(m.dtype);
    if (nonTensor || badType) {
      unservable.push(g ?? { name: m.name, kind: 'unknown', type: nonTensor ? 'non-tensor value' : m.dtype });
      continue;
    }
    outputs.push(specOf(m));
  }
  if (unservable.length > 0 && outputs.length > 0) {
    notes.assumed.push(
      `left out of the manifest: ${unservable.map((o) => `"${o.name}" (${o.type})`).join(', ')} — onnxruntime's JavaScript API returns tensors only, so run() serves ${outputs.map((o) => `"${o.name}"`).join(', ')}; re-export with tensor outputs to get the rest (skl2onnx: options={'zipmap': False})`,
    );
  }
  const inputs: TensorSpec[] = [];
  for (const m of session.inputs) {
    const g = declaredIn.get(m.name);
    if ((g && g.kind !== 'tensor') || (!g && m.dtype === 'unknown')) {
      throw new PlaymindError(
        ErrorCode.MODEL_LOAD_FAILED,
        `${name}: input "${m.name}" is a ${g?.type ?? 'non-tensor value'}; Playmind feeds tensors only`,
        { details: { input: m.name } },
      );
    }
    if (g && g.rank === undefined) {
      throw new PlaymindError(
        ErrorCode.MODEL_LOAD_FAILED,
        `${name}: input "${m.name}" declares no shape, so its rank is unknown and feeds cannot be checked; re-export it with a shape (dynamic dims are fine)`,
        { details: { input: m.name } },
      );
    }
    inputs.push(specOf(m));
  }
  return { inputs, outputs, unservable };
}

/** Notes on float16 tensors, quantised weights and their operators. */
function describeNumerics(ctx: InspectContext): void {
  const { inputs, outputs, graph, notes } = ctx;
  const half = [...inputs, ...outputs].filter((t) => t.dtype === 'float16').map((t) => t.name);
  if (half.length > 0) {
    notes.recognised.push(
      `float16 tensors: ${half.join(', ')} — run() takes and returns their values as IEEE-754 half-precision bits in a Uint16Array (onnxruntime's form); policies convert from and to float32 themselves`,
    );
  }
  if (!graph) return;
  const quantOps = Object.keys(graph.ops).filter((op) =>
    /^(QuantizeLinear|DequantizeLinear|DynamicQuantizeLinear|QLinear\w+|MatMulInteger|ConvInteger|com\.microsoft\.(QLinear\w+|QGemm|QAttention|DynamicQuantize\w+|MatMulIntegerToFloat|MatMulNBits))$/.test(
      op,
    ),
  );
  const int8 = (graph.weightTypes.int8 ?? 0) + (graph.weightTypes.uint8 ?? 0);
  if (quantOps.length > 0 || int8 > 0) {
    notes.recognised.push(
      `quantised: ${int8} int8/uint8 weight tensor(s)${quantOps.length > 0 ? `, operators ${quantOps.join(', ')}` : ''} (onnxruntime runs them on the CPU)`,
    );
  }
  const halfWeights = graph.weightTypes.float16 ?? 0;
  if (halfWeights > 0) notes.recognised.push(`float16 weights: ${halfWeights} tensor(s)`);
}

/**
 * How a tensor model may be batched. Requests are merged along dim 0 only when every input
 * and output has a dynamic first dim: an output without one (a scalar, a fixed first dim, no
 * declared shape) may depend on every row of the batch, so each request then runs alone.
 */
function tensorBatching(ctx: InspectContext): { batching?: { maxBatchSize: number } } {
  const { inputs, outputs, graph, notes } = ctx;
  const rankOf = new Map((graph?.outputs ?? []).map((o) => [o.name, o.rank]));
  const fixedIn = inputs.filter((t) => t.shape.length > 0 && t.shape[0]! >= 0);
  if (fixedIn.length > 0) {
    notes.recognised.push(
      `fixed batch size: ${fixedIn.map((t) => `${t.name} takes ${t.shape[0]} row(s)`).join(', ')} — each request runs alone and must have exactly that many rows`,
    );
    return {};
  }
  const scalarIn = inputs.filter((t) => t.shape.length === 0);
  const unbatched = outputs.filter((t) => t.shape.length === 0 || t.shape[0]! >= 0);
  const why = (t: TensorSpec) =>
    rankOf.has(t.name) && rankOf.get(t.name) === undefined
      ? `"${t.name}" declares no shape`
      : t.shape.length === 0
        ? `"${t.name}" is a scalar (rank 0)`
        : `"${t.name}" has a fixed first dim of ${t.shape[0]}`;
  const dynamicOther = inputs.flatMap((t) =>
    t.shape.slice(1).flatMap((d, i) => (d < 0 ? [`dim ${i + 1} of ${t.name}`] : [])),
  );
  if (dynamicOther.length > 0) {
    notes.assumed.push(
      `dynamic dims besides the batch (${dynamicOther.join(', ')}) take any size; requests are merged into one run only when those sizes agree`,
    );
  }
  if (scalarIn.length > 0 || unbatched.length > 0) {
    const reasons = [
      ...scalarIn.map((t) => `input "${t.name}" is a scalar (rank 0)`),
      ...unbatched.map((t) => `output ${why(t)}`),
    ];
    notes.assumed.push(
      `${reasons.join('; ')}: it may depend on every row of a batch, so requests are never merged into one run (batching.maxBatchSize 1) and such outputs are returned whole`,
    );
    return { batching: { maxBatchSize: 1 } };
  }
  if (inputs.length > 0) {
    notes.assumed.push(
      'dim 0 of every input and output is the batch: concurrent requests are merged along it into one run and split back',
    );
  }
  return {};
}
