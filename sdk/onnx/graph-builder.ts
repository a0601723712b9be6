/**
 * Writes ONNX models from TypeScript (no Python): a small graph builder over
 * onnx-proto's ModelProto, used by the training pipelines to export models and by
 * tests to make models with exact contracts.
 */
import onnxProto from 'onnx-proto';
import type { DType } from '../contract/manifest.js';

const { onnx } = onnxProto;

const ELEM: Record<string, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A dimension: a fixed size, or a symbolic name (dynamic). */
export type Dim = number | string;

/** Attribute values a node may take. */
export type AttrValue = number | string | number[] | { ints: number[] } | { float: number } | { int: number };

/** Builds one ONNX graph; {@link GraphBuilder.toBytes} encodes the model. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
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
  node(op: string, inputs: string[], outputs?: string[], attrs: Record<string, AttrValue> = {}): string {
    const outs = outputs ?? [`${op.toLowerCase()}_${this.counter++}`];
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push({ opType: op, input: inputs, output: outs, name: `${op}_${this.nodes.length}`, attribute });
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
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      producerVersion: '1',
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
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
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.INT, i: v.int };
}
