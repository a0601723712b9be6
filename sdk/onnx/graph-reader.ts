/**
 * Reads what an ONNX file says of itself beyond what a session's metadata gives: the
 * producer and opsets, the kind of every graph output (tensor, sequence, map), which
 * inputs and outputs declare no shape, the operators and weight types used (quantised,
 * float16), and the external weight files it references (`model.onnx.data`).
 *
 * Node-only in practice (the `playmind import` command); it reads bytes, not files.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** ONNX element types by their TensorProto.DataType number. */
const ELEM_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
};

/** The element type name of an ONNX data type number (`float32`, `int8`, ...). */
export function elemTypeName(t: number | null | undefined): string {
  return ELEM_NAMES[t ?? 0] ?? `type ${t}`;
}

/** One graph input or output as the file declares it. */
export interface ValueSummary {
  name: string;
  /** `tensor`, or the non-tensor kind (`sequence`, `map`, `optional`, `sparse_tensor`). */
  kind: 'tensor' | 'sequence' | 'map' | 'optional' | 'sparse_tensor' | 'unknown';
  /** A readable type: `float32[batch, 4]`, `sequence(map(int64, float32))`. */
  type: string;
  /** The tensor's rank, or undefined when the file declares no shape (any rank). */
  rank?: number;
}

/** What {@link readGraph} found. */
export interface GraphSummary {
  /** `pytorch 1.11.0`, `tf2onnx 1.16.1`, `skl2onnx 1.17`, ... (empty when unset). */
  producer: string;
  irVersion: number;
  /** Opset per domain (`''` is the default ONNX domain, `ai.onnx.ml` the classic-ML one). */
  opsets: Record<string, number>;
  /** The graph's inputs that are not initializers. */
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** Operator types used, with counts (`QuantizeLinear`, `MatMulInteger`, `ZipMap`, ...). */
  ops: Record<string, number>;
  /** Element types of the weights (initializers and Constant nodes), with counts. */
  weightTypes: Record<string, number>;
  /** External weight files the model references, relative to the model file's folder. */
  externalFiles: string[];
  /** The model's metadata_props. */
  metadata: Record<string, string>;
}

/** Decodes the model, or throws protobuf's error. */
function decode(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** Describes an ONNX file. @throws when the bytes are not an ONNX ModelProto */
export function readGraph(bytes: Uint8Array): GraphSummary {
  const model = decode(bytes);
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const ops: Record<string, number> = {};
  const weightTypes: Record<string, number> = {};
  const external = new Set<string>();
  forEachGraph(graph, (g) => {
    for (const n of g.node ?? []) {
      const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : (n.opType ?? '');
      ops[op] = (ops[op] ?? 0) + 1;
    }
  });
  forEachTensor(graph, (t) => {
    const type = elemTypeName(t.dataType);
    weightTypes[type] = (weightTypes[type] ?? 0) + 1;
    const location = externalLocation(t);
    if (location !== undefined) external.add(location);
  });
  return {
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    irVersion: Number(model.irVersion ?? 0),
    opsets: Object.fromEntries((model.opsetImport ?? []).map((o) => [o.domain ?? '', Number(o.version ?? 0)])),
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(summarise),
    outputs: (graph.output ?? []).map(summarise),
    ops,
    weightTypes,
    externalFiles: [...external],
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

function summarise(v: onnxProto.onnx.IValueInfoProto): ValueSummary {
  const name = v.name ?? '';
  const t = v.type;
  if (t?.tensorType) {
    const shape = t.tensorType.shape;
    const dims = shape
      ? (shape.dim ?? []).map((d) => d.dimParam || (d.dimValue != null ? String(d.dimValue) : '?'))
      : undefined;
    return {
      name,
      kind: 'tensor',
      type: `${elemTypeName(t.tensorType.elemType)}${dims ? `[${dims.join(', ')}]` : '[any shape]'}`,
      rank: dims?.length,
    };
  }
  if (t?.sequenceType) return { name, kind: 'sequence', type: typeText(t) };
  if (t?.mapType) return { name, kind: 'map', type: typeText(t) };
  if (t?.optionalType) return { name, kind: 'optional', type: typeText(t) };
  if (t?.sparseTensorType) return { name, kind: 'sparse_tensor', type: typeText(t) };
  return { name, kind: 'unknown', type: 'no type' };
}

function typeText(t: onnxProto.onnx.ITypeProto | null | undefined): string {
  if (!t) return '?';
  if (t.tensorType) return elemTypeName(t.tensorType.elemType);
  if (t.sequenceType) return `sequence(${typeText(t.sequenceType.elemType)})`;
  if (t.mapType) return `map(${elemTypeName(t.mapType.keyType)}, ${typeText(t.mapType.valueType)})`;
  if (t.optionalType) return `optional(${typeText(t.optionalType.elemType)})`;
  if (t.sparseTensorType) return `sparse_tensor(${elemTypeName(t.sparseTensorType.elemType)})`;
  return '?';
}

/** Calls `f` on a graph and every subgraph (If / Loop / Scan bodies). */
function forEachGraph(graph: GraphProto, f: (g: GraphProto) => void): void {
  f(graph);
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.g) forEachGraph(a.g, f);
      for (const sub of a.graphs ?? []) forEachGraph(sub, f);
    }
  }
}

/** Calls `f` on every weight tensor: initializers, sparse initializers and tensor attributes, subgraphs included. */
function forEachTensor(graph: GraphProto, f: (t: TensorProto) => void): void {
  forEachGraph(graph, (g) => {
    for (const t of g.initializer ?? []) f(t);
    for (const s of g.sparseInitializer ?? []) {
      if (s.values) f(s.values);
      if (s.indices) f(s.indices);
    }
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) f(a.t);
        for (const t of a.tensors ?? []) f(t);
      }
    }
  });
}

function externalLocation(t: TensorProto): string | undefined {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  return (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? undefined;
}
