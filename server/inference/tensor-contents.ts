/**
 * Tensor contents of the Open Inference Protocol (KServe v2), independent of the
 * transport: the datatype names, element values (JSON `data`, gRPC typed
 * `contents`) and raw bytes (gRPC `raw_input_contents` / `raw_output_contents`,
 * the REST binary tensor data extension) to and from the engine's {@link Tensor}s.
 *
 * Raw layout, as the protocol defines it: the flattened, row-major elements,
 * little-endian, no padding; BOOL one byte per element; BYTES each element as a
 * 4-byte little-endian length followed by its bytes. Values must be finite numbers
 * (JSON cannot carry anything else, and typed contents follow the same rule); raw
 * floats are taken bit for bit.
 */
import { ErrorCode, PlaymindError, type DType, type Tensor, type TensorData } from '../../sdk/index.js';
import { DTYPES, arrayTypeOf } from '../../sdk/runtime.js';

/** KServe datatype name of each dtype (from the SDK's one dtype table). */
export const KSERVE_DATATYPE: Readonly<Record<DType, string>> = Object.freeze(
  Object.fromEntries(Object.entries(DTYPES).map(([d, info]) => [d, info.kserve])) as Record<DType, string>,
);
const DTYPE_OF: ReadonlyMap<string, DType> = new Map(Object.entries(KSERVE_DATATYPE).map(([d, k]) => [k, d as DType]));

/**
 * The dtype of a KServe datatype name.
 * @returns the dtype, or undefined for a name the protocol does not define
 */
export function dtypeOf(datatype: string): DType | undefined {
  return DTYPE_OF.get(datatype);
}

/** How an input's elements arrived: as values (JSON numbers, protobuf repeated fields) or as raw bytes. */
export type TensorContents = { readonly values: ArrayLike<unknown> } | { readonly raw: Uint8Array };

/** Builds the error for one input; the message names the model and the input. */
export type InvalidInput = (why: string) => PlaymindError;

const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Decodes an input's contents into tensor data of `size` elements.
 * @param dtype - the input's dtype (from its datatype name)
 * @param size - the element count its shape implies
 * @param contents - values or raw bytes
 * @param invalid - builds the `invalid_tensor` error naming the input
 * @throws PlaymindError from `invalid` when the count, a value or the byte length is wrong
 */
export function decodeContents(
  dtype: DType,
  size: number,
  contents: TensorContents,
  invalid: InvalidInput,
): TensorData {
  if ('raw' in contents) return decodeRaw(dtype, size, contents.raw, invalid);
  const values = contents.values;
  if (values.length !== size) throw invalid(`has ${values.length} values for its shape (expected ${size})`);
  return decodeValues(dtype, values, invalid);
}

function decodeValues(dtype: DType, values: ArrayLike<unknown>, invalid: InvalidInput): TensorData {
  const n = values.length;
  const datatype = KSERVE_DATATYPE[dtype];
  if (dtype === 'string') {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'string') out[i] = v;
      else if (v instanceof Uint8Array) out[i] = utf8Text(v, i, invalid);
      else throw invalid(`BYTES value ${i} must be a string`);
    }
    return out;
  }
  if (dtype === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw invalid(`BOOL value ${i} must be true or false`);
      out[i] = v ? 1 : 0;
    }
    return out;
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const out = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
    const [min, max] = dtype === 'int64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
    for (let i = 0; i < n; i++) {
      const b = toBigInt(values[i]);
      if (b === null || b < min || b > max)
        throw invalid(`${datatype} value ${i} must be an integer in [${min}, ${max}] (a safe integer in JSON)`);
      out[i] = b;
    }
    return out;
  }
  if (dtype === 'float16') throw invalid('FP16 travels as raw bytes only (raw contents or binary data)');
  const out = new (arrayTypeOf(dtype))(n) as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
  const range = INT_RANGE[dtype];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`value ${i} must be a finite number`);
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1]))
      throw invalid(`${datatype} value ${i} must be an integer in [${range[0]}, ${range[1]}]`);
    out[i] = v;
  }
  if (dtype === 'float32') {
    const f = out as Float32Array;
    for (let i = 0; i < n; i++) if (!Number.isFinite(f[i]!)) throw invalid(`FP32 value ${i} is out of range`);
  }
  return out;
}

function toBigInt(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : null;
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v);
  return null;
}

function utf8Text(bytes: Uint8Array, i: number, invalid: InvalidInput): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalid(`BYTES value ${i} is not valid UTF-8`);
  }
}

function decodeRaw(dtype: DType, size: number, raw: Uint8Array, invalid: InvalidInput): TensorData {
  if (!LITTLE_ENDIAN) throw invalid('raw tensor contents need a little-endian host');
  if (dtype === 'string') return decodeRawBytes(size, raw, invalid);
  const C = arrayTypeOf(dtype);
  const width = (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (raw.byteLength !== size * width)
    throw invalid(
      `has ${raw.byteLength} raw bytes for its shape (expected ${size} × ${width} = ${size * width} for ${KSERVE_DATATYPE[dtype]})`,
    );
  const out = new C(size);
  new Uint8Array(out.buffer).set(raw);
  if (dtype === 'bool') {
    const b = out as Uint8Array;
    for (let i = 0; i < size; i++) if (b[i]! > 1) throw invalid(`BOOL value ${i} must be 0 or 1`);
  }
  return out;
}

function decodeRawBytes(size: number, raw: Uint8Array, invalid: InvalidInput): string[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Array<string>(size);
  let at = 0;
  for (let i = 0; i < size; i++) {
    if (at + 4 > raw.byteLength) throw invalid(`raw BYTES end before element ${i} of ${size}`);
    const len = view.getUint32(at, true);
    at += 4;
    if (at + len > raw.byteLength) throw invalid(`raw BYTES element ${i} is longer than the bytes left`);
    out[i] = utf8Text(raw.subarray(at, at + len), i, invalid);
    at += len;
  }
  if (at !== raw.byteLength) throw invalid(`has ${raw.byteLength - at} raw bytes past its ${size} BYTES elements`);
  return out;
}

/**
 * A tensor's elements as raw little-endian bytes (a view, not a copy, for numeric tensors).
 * @example rawBytes({ type: 'float32', dims: [2], data: new Float32Array([1, 2]) }).byteLength // 8
 */
export function rawBytes(t: Tensor): Uint8Array {
  if (!Array.isArray(t.data)) {
    const a = t.data as Exclude<TensorData, string[]>;
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  const parts = t.data.map((s) => utf8Encoder.encode(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.byteLength, true);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}

/**
 * A tensor's elements as plain values: numbers (INT64/UINT64 as numbers when `int64` is
 * `'number'`, the JSON convention, or as decimal strings, which keep every digit), booleans
 * for BOOL, strings for BYTES.
 */
export function tensorValues(t: Tensor, int64: 'number' | 'string' = 'number'): Array<number | string | boolean> {
  if (Array.isArray(t.data)) return t.data;
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array)
    return int64 === 'number' ? Array.from(t.data, Number) : Array.from(t.data, String);
  if (t.type === 'bool') return Array.from(t.data as Uint8Array, (x) => x !== 0);
  return Array.from(t.data as ArrayLike<number>);
}

/** The `invalid_tensor` error for one input of a model. */
export function invalidInput(model: string, input: string): InvalidInput {
  const name = input.slice(0, 128);
  return (why) =>
    new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: input "${name}" ${why}`, {
      details: { model, input: name },
    });
}
