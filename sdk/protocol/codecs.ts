/**
 * The binary codecs of the wire protocol: numbers in bulk travel as raw
 * little-endian bytes (`Uint8Array`, msgpack `bin`), never as arrays of floats.
 * The schemas in `schemas.ts` check a message's structure; these turn its bytes
 * into typed arrays (and back), checking their lengths.
 *
 * @module
 */
import { DTYPES } from '../contract/dtypes.js';
import type { Tensor } from '../engine/backend.js';
import type { Decision } from '../engine/policy.js';
import type { WireDecision, WireTensor } from './schemas.js';

/** Byte view of a typed array (no copy). */
export function toBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A float32 array from wire bytes (copied when unaligned), or null when the length is not a multiple of 4. */
export function float32FromBytes(bytes: ArrayBufferView): Float32Array | null {
  if (bytes.byteLength % 4 !== 0) return null;
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(toBytes(bytes).slice().buffer);
}

/** Encodes a tensor for the wire. */
export function encodeTensor(t: Tensor): WireTensor {
  const data = Array.isArray(t.data) ? [...t.data] : toBytes(t.data as ArrayBufferView);
  return { type: t.type, dims: [...t.dims], data };
}

/**
 * Decodes a wire tensor whose structure the schema checked.
 * @returns the tensor, or why its data does not fit its dims
 */
export function decodeTensor(w: WireTensor): Tensor | string {
  const { type, dims, data } = w;
  let size = 1;
  for (const d of dims) size *= d;
  if (type === 'string') {
    if (!Array.isArray(data)) return "'data' of a string tensor must be an array of strings";
    if (data.length !== size)
      return `'data' has ${data.length} values for dims [${dims.join(', ')}] (expected ${size})`;
    return { type, dims: [...dims], data: [...data] };
  }
  const C = DTYPES[type].array!;
  if (Array.isArray(data)) return "'data' must be raw bytes (Uint8Array)";
  const bytes = toBytes(data);
  if (bytes.byteLength !== size * C.BYTES_PER_ELEMENT) {
    return `'data' has ${bytes.byteLength} bytes for dims [${dims.join(', ')}] of ${type} (expected ${size * C.BYTES_PER_ELEMENT})`;
  }
  const aligned = bytes.byteOffset % C.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
  return { type, dims: [...dims], data: new C(aligned.buffer, aligned.byteOffset, size) };
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
  const d: Decision = { model: w.model, servedBy: 'remote' };
  if (w.action !== undefined) d.action = w.action;
  if (w.index !== undefined) d.index = w.index;
  if (w.indices !== undefined) d.indices = w.indices;
  if (w.values !== undefined) d.values = float32FromBytes(w.values) ?? new Float32Array(0);
  if (w.probabilities !== undefined) d.probabilities = float32FromBytes(w.probabilities) ?? new Float32Array(0);
  if (w.sampled === true) d.sampled = true;
  return d;
}
