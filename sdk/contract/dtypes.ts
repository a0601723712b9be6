/**
 * The one dtype table: for every tensor element type a manifest may declare, the
 * typed array that holds it (none for strings) and its KServe / Triton datatype name.
 *
 * @module
 */
import type { DType } from './manifest.js';
import type { TensorData } from '../engine/backend.js';

/** A typed array of tensor data (every dtype but `string`). */
export type NumericArray = Exclude<TensorData, string[]>;

/** A typed-array class: a new zeroed array of n elements, or a view on bytes. */
export interface NumericArrayClass {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** What one dtype is made of. */
export interface DTypeInfo {
  /** The typed array that holds its elements (`bool` as bytes, `float16` as raw uint16); none for `string`. */
  readonly array?: NumericArrayClass;
  /** Its KServe v2 / Triton datatype name (`FP32`, `INT64`, `BYTES`, ...). */
  readonly kserve: string;
}

/** Every dtype. */
export const DTYPES: Readonly<Record<DType, DTypeInfo>> = Object.freeze({
  float32: { array: Float32Array, kserve: 'FP32' },
  float64: { array: Float64Array, kserve: 'FP64' },
  float16: { array: Uint16Array, kserve: 'FP16' },
  int8: { array: Int8Array, kserve: 'INT8' },
  uint8: { array: Uint8Array, kserve: 'UINT8' },
  int16: { array: Int16Array, kserve: 'INT16' },
  uint16: { array: Uint16Array, kserve: 'UINT16' },
  int32: { array: Int32Array, kserve: 'INT32' },
  uint32: { array: Uint32Array, kserve: 'UINT32' },
  int64: { array: BigInt64Array, kserve: 'INT64' },
  uint64: { array: BigUint64Array, kserve: 'UINT64' },
  bool: { array: Uint8Array, kserve: 'BOOL' },
  string: { kserve: 'BYTES' },
} satisfies Record<DType, DTypeInfo>);
