/**
 * The wire format of the `inference` room, shared by the server and the remote
 * route. Messages travel as msgpack (Colyseus); numbers in bulk travel as raw
 * little-endian bytes (`Uint8Array`, msgpack `bin`), never as arrays of floats.
 *
 * Client → server (`type`, payload):
 * - `decide`    `{ id, model, n, rows: bytes(f32 n×features), masks?: bytes(f32 n×actions), agentIds?: string[], deadlineMs? }`
 * - `recommend` `{ id, model, history: string[], weights?: number[], k?, exclude?: string[], deadlineMs? }`
 * - `run`       `{ id, model, feeds: { [input]: WireTensor }, fetches?: string[], deadlineMs? }`
 * - `describe`  `{ id, model }`
 * - `reset`     `{ model, agent? }` (no reply)
 *
 * Server → client:
 * - `result` `{ id, kind, ... }` (see {@link WireResult})
 * - `error`  `{ id: number | null, code, message, details? }` (see {@link WireErrorReply})
 */
import type { DType, Manifest } from '../contract/manifest.js';
import type { Tensor, TensorData } from '../engine/backend.js';
import type { Decision } from '../engine/policy.js';
import type { Recommendation } from '../engine/recommender.js';
import type { ErrorCodeValue } from '../protocol.js';

/** Message types of the inference room that are not in {@link InferenceMessage}. */
export const RemoteMessage = { RESET: 'reset' } as const;

/** A tensor on the wire: numeric data as raw little-endian bytes, strings as an array. */
export interface WireTensor {
  type: DType;
  dims: number[];
  data: Uint8Array | string[];
}

/** A decision on the wire (float arrays as bytes). */
export interface WireDecision {
  action?: string;
  index?: number;
  indices?: number[];
  values?: Uint8Array;
  probabilities?: Uint8Array;
  sampled?: true;
  model: string;
}

/** A `result` reply. */
export type WireResult =
  | { id: number; kind: 'decide'; decisions: WireDecision[] }
  | { id: number; kind: 'recommend'; recommendation: Omit<Recommendation, 'servedBy'> }
  | { id: number; kind: 'run'; model: string; outputs: Record<string, WireTensor> }
  | { id: number; kind: 'describe'; manifest: Manifest; served: number | null };

/** An `error` reply. `id` is null when the request had no readable id. */
export interface WireErrorReply {
  id: number | null;
  code: ErrorCodeValue;
  message: string;
  details?: Record<string, unknown>;
}

/** Byte view of a typed array (no copy). */
export function toBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A float32 array from wire bytes (copied when unaligned), or null when the length is not a multiple of 4. */
export function float32FromBytes(bytes: Uint8Array): Float32Array | null {
  if (bytes.byteLength % 4 !== 0) return null;
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}

type NumericArray = Exclude<TensorData, string[]>;
type NumericCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  BYTES_PER_ELEMENT: number;
};
const WIRE_CTORS: Partial<Record<DType, NumericCtor>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float16: Uint16Array,
};

/** Encodes a tensor for the wire. */
export function encodeTensor(t: Tensor): WireTensor {
  const data = Array.isArray(t.data) ? [...t.data] : toBytes(t.data as NumericArray);
  return { type: t.type, dims: [...t.dims], data };
}

/**
 * Decodes a wire tensor.
 * @returns the tensor, or a reason it is malformed
 */
export function decodeTensor(w: unknown): Tensor | string {
  if (!w || typeof w !== 'object') return 'must be an object { type, dims, data }';
  const { type, dims, data } = w as Partial<WireTensor>;
  if (typeof type !== 'string') return "'type' must be a dtype name";
  if (!Array.isArray(dims) || dims.length > 8 || !dims.every((d) => Number.isInteger(d) && d >= 0 && d <= 1 << 24)) {
    return "'dims' must be at most 8 non-negative integers";
  }
  let size = 1;
  for (const d of dims) size *= d;
  if (type === 'string') {
    if (!Array.isArray(data) || !data.every((s) => typeof s === 'string'))
      return "'data' of a string tensor must be an array of strings";
    if (data.length !== size)
      return `'data' has ${data.length} values for dims [${dims.join(', ')}] (expected ${size})`;
    return { type, dims, data };
  }
  const C = WIRE_CTORS[type as DType];
  if (!C) return `unknown dtype "${type}"`;
  if (!ArrayBuffer.isView(data)) return "'data' must be raw bytes (Uint8Array)";
  const bytes = toBytes(data);
  if (bytes.byteLength !== size * C.BYTES_PER_ELEMENT) {
    return `'data' has ${bytes.byteLength} bytes for dims [${dims.join(', ')}] of ${type} (expected ${size * C.BYTES_PER_ELEMENT})`;
  }
  const aligned = bytes.byteOffset % C.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
  return { type: type as DType, dims, data: new C(aligned.buffer, aligned.byteOffset, size) };
}

/** Encodes a decision for the wire. */
export function encodeDecision(d: Decision): WireDecision {
  const w: WireDecision = { model: d.model };
  if (d.action !== undefined) w.action = d.action;
  if (d.index !== undefined) w.index = d.index;
  if (d.indices !== undefined) w.indices = d.indices;
  if (d.values !== undefined) w.values = toBytes(d.values);
  if (d.probabilities !== undefined) w.probabilities = toBytes(d.probabilities);
  if (d.sampled) w.sampled = true;
  return w;
}

/** Decodes a decision from the wire, marking it as served remotely. */
export function decodeDecision(w: WireDecision): Decision {
  const d: Decision = { model: String(w.model), servedBy: 'remote' };
  if (w.action !== undefined) d.action = w.action;
  if (w.index !== undefined) d.index = w.index;
  if (w.indices !== undefined) d.indices = w.indices;
  if (w.values !== undefined) d.values = float32FromBytes(w.values) ?? new Float32Array(0);
  if (w.probabilities !== undefined) d.probabilities = float32FromBytes(w.probabilities) ?? new Float32Array(0);
  if (w.sampled === true) d.sampled = true;
  return d;
}
