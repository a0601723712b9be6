/**
 * Writes ONNX models from TypeScript (no Python): a small graph builder over
 * onnx-proto's ModelProto, used by the training pipelines to export models and by
 * tests to make models with exact contracts.
 */
import onnxProto from 'onnx-proto';
import type { DType } from '../contract/manifest.js';
import { arrayTypeOf } from '../contract/tensors.js';
import type { TensorData } from '../engine/backend.js';

const { onnx } = onnxProto;

const ELEM: Record<string, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  int16: onnx.TensorProto.DataType.INT16,
  uint16: onnx.TensorProto.DataType.UINT16,
  bool: onnx.TensorProto.DataType.BOOL,
  string: onnx.TensorProto.DataType.STRING,
};

/** A dimension: a fixed size, or a symbolic name (dynamic). */
export type Dim = number | string;

/** Attribute values a node may take. */
export type AttrValue =
  number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number } | { int: number };

/** The ONNX type of a value (onnx-proto's TypeProto), for non-tensor outputs such as sequences of maps. */
export type ValueType = onnxProto.onnx.ITypeProto;

/** Builds one ONNX graph; {@link GraphBuilder.toBytes} encodes the model. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly opsets = new Map<string, number>();
  private counter = 0;

  /** @param name - the graph's name */
  constructor(private readonly name: string) {}

  /** Declares a graph input. */
  input(name: string, dtype: DType, shape: Dim[]): this {
    this.inputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  /** Declares a graph output. */
  output(name: string, dtype: DType, shape: Dim[]): this {
    this.outputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  /** Declares a graph output of any ONNX type (e.g. a sequence of maps, as skl2onnx's ZipMap gives). */
  outputOf(name: string, type: ValueType): this {
    this.outputs.push({ name, type });
    return this;
  }

  /** Imports an operator domain besides the default one (e.g. `ai.onnx.ml`, `com.microsoft`). */
  domain(name: string, version: number): this {
    this.opsets.set(name, version);
    return this;
  }

  /**
   * Adds a constant of any numeric dtype, stored as raw little-endian bytes (int8 weights
   * of a quantised model, float16 values given as their IEEE half-precision bits, ...).
   * Returns its name.
   */
  tensor(name: string, dtype: DType, data: ArrayLike<number>, dims: number[]): string {
    const elem = ELEM[dtype];
    if (elem === undefined || dtype === 'string' || dtype === 'int64' || dtype === 'uint64')
      throw new TypeError(`GraphBuilder: dtype '${dtype}' is not supported for raw tensors`);
    const view = new (arrayTypeOf(dtype))(data.length) as Exclude<
      TensorData,
      string[] | BigInt64Array | BigUint64Array
    >;
    view.set(Array.from(data));
    const rawData = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    this.initializers.push({ name, dataType: elem, dims, rawData });
    return name;
  }

  /** Adds a float32 constant (weights). Returns its name. */
  floats(name: string, data: ArrayLike<number>, dims: number[]): string {
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, floatData: Array.from(data) });
    return name;
  }

  /** Adds an int64 constant. Returns its name. */
  int64s(name: string, data: ArrayLike<number>, dims: number[]): string {
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.INT64, dims, int64Data: Array.from(data) });
    return name;
  }

  /**
   * Adds a node. Returns the name of its first output (a fresh one unless given).
   * @example g.node('Gemm', ['x', 'W', 'b'], ['h'], { transB: 1 })
   */
  node(
    op: string,
    inputs: string[],
    outputs?: string[],
    attrs: Record<string, AttrValue> = {},
    domain?: string,
  ): string {
    const outs = outputs ?? [`${op.toLowerCase()}_${this.counter++}`];
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push({
      opType: op,
      input: inputs,
      output: outs,
      name: `${op}_${this.nodes.length}`,
      attribute,
      ...(domain ? { domain } : {}),
    });
    return outs[0]!;
  }

  /**
   * Dense layer `y = x · Wᵀ + b` with W of shape [out, in] (row-major), as one Gemm.
   * @returns the output's name
   */
  dense(
    x: string,
    weights: ArrayLike<number>,
    bias: ArrayLike<number>,
    inDim: number,
    outDim: number,
    out?: string,
  ): string {
    const id = this.counter++;
    const w = this.floats(`W${id}`, weights, [outDim, inDim]);
    const b = this.floats(`b${id}`, bias, [outDim]);
    return this.node('Gemm', [x, w, b], out ? [out] : undefined, { transB: 1 });
  }

  /** Encodes the model (IR version 8, the given opset). */
  toBytes(opset = 13, producer = 'playmind'): Uint8Array {
    return onnx.ModelProto.encode(this.model(opset, producer, this.initializers)).finish();
  }

  /**
   * Encodes the model with its weights in an external file, as exporters do for large
   * models (`model.onnx` + `model.onnx.data`): every initializer's bytes go to `data`, at
   * the offset and length its `external_data` entries name.
   * @param location - the weight file's name, relative to the model file
   */
  toFilesWithExternalData(
    location: string,
    opset = 13,
    producer = 'playmind',
  ): { model: Uint8Array; data: Uint8Array } {
    const parts: Uint8Array[] = [];
    let offset = 0;
    const initializers = this.initializers.map((t) => {
      const own = onnx.TensorProto.encode(t).finish();
      const decoded = onnx.TensorProto.decode(own);
      const raw = rawBytes(decoded);
      parts.push(raw);
      const entry = {
        ...t,
        floatData: [],
        int64Data: [],
        rawData: new Uint8Array(0),
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.byteLength) },
        ],
      };
      offset += raw.byteLength;
      return entry;
    });
    const data = new Uint8Array(offset);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.byteLength;
    }
    return { model: onnx.ModelProto.encode(this.model(opset, producer, initializers)).finish(), data };
  }

  private model(
    opset: number,
    producer: string,
    initializer: onnxProto.onnx.ITensorProto[],
  ): onnxProto.onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      producerVersion: '1',
      opsetImport: [
        { domain: '', version: opset },
        ...[...this.opsets].map(([domain, version]) => ({ domain, version })),
      ],
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer,
      },
    });
  }
}

/** A tensor's values as raw little-endian bytes (float32 and int64 data converted). */
function rawBytes(t: onnxProto.onnx.TensorProto): Uint8Array {
  if (t.rawData && t.rawData.byteLength > 0) return t.rawData;
  if (t.floatData.length > 0) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  if (t.int64Data.length > 0) return new Uint8Array(BigInt64Array.from(t.int64Data, (x) => BigInt(String(x))).buffer);
  return new Uint8Array(0);
}

function valueInfo(name: string, dtype: DType, shape: Dim[]): onnxProto.onnx.IValueInfoProto {
  const elemType = ELEM[dtype];
  if (elemType === undefined) throw new TypeError(`GraphBuilder: dtype '${dtype}' is not supported`);
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attr(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.INT, i: v.int };
}
