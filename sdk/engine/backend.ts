/**
 * The one backend contract the engine runs on, implemented once per runtime
 * (onnxruntime-node in Node, onnxruntime-web in the browser), in the manner of
 * onnxruntime's own `js/common/lib/backend.ts`.
 */
import type { DType } from '../contract/manifest.js';

/** Element data of a tensor. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** A plain tensor: dtype, flat data (row-major) and dims. Backends convert it. */
export interface Tensor {
  readonly type: DType;
  readonly data: TensorData;
  readonly dims: readonly number[];
}

/** What a session says of one input or output. Dynamic dims are -1 (named ones keep their name). */
export interface TensorMeta {
  name: string;
  dtype: DType | 'unknown';
  shape: (number | string)[];
}

/** One loaded model on a backend. */
export interface BackendSession {
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
  /**
   * Runs the model. `fetches` limits the outputs computed (when omitted: every output
   * that is a tensor; a sequence or map output, such as skl2onnx's ZipMap, is only computed
   * when named, and onnxruntime's JavaScript API then refuses it).
   */
  run(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>>;
  /** Frees the native session. */
  release(): Promise<void>;
}

/** Options for creating a session. */
export interface SessionOptions {
  /** Intra-op threads (onnxruntime-node); 0 lets onnxruntime choose. */
  intraOpNumThreads?: number;
  /**
   * The external weight files the model references (`model.onnx.data`), by the location
   * the model names them with: onnxruntime reads them from these bytes, not from disk.
   */
  externalData?: readonly { path: string; data: Uint8Array }[];
}

/** A runtime that can create sessions from ONNX bytes. */
export interface Backend {
  /** `onnxruntime-node`, `onnxruntime-web`, or a custom name. */
  readonly name: string;
  /** Creates a session; throws (with onnxruntime's message) when the bytes are not a valid model. */
  createSession(model: Uint8Array, options?: SessionOptions): Promise<BackendSession>;
  /** Frees what the backend holds (worker threads, ...). */
  dispose?(): Promise<void>;
}

/** Builds a {@link Tensor}, checking that `data` holds exactly the product of `dims` values. */
export function tensor(type: DType, data: TensorData, dims: readonly number[]): Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new RangeError(`tensor: ${data.length} values for dims [${dims.join(', ')}] (expected ${size})`);
  }
  return { type, data, dims: [...dims] };
}

/** Converts onnxruntime's metadata (whatever its runtime) into {@link TensorMeta}. */
export function metaFrom(m: {
  name: string;
  isTensor?: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}): TensorMeta {
  const dtype = (m.type ?? 'unknown') as DType | 'unknown';
  return {
    name: m.name,
    dtype,
    shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : -1)),
  };
}
