/**
 * Tensors against a manifest: typed-array constructors per dtype, zero tensors for
 * warm-up, and the check of caller-supplied feeds (names, dtypes, shapes).
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { DType, TensorSpec } from './manifest.js';
import type { Tensor } from '../engine/backend.js';
import { DTYPES, type NumericArrayClass } from './dtypes.js';

/** The typed array class that holds a dtype's elements. */
export function arrayTypeOf(dtype: DType): NumericArrayClass {
  const C = DTYPES[dtype]?.array;
  if (!C) throw new PlaymindError(ErrorCode.INVALID_TENSOR, `dtype ${dtype} is not supported here`);
  return C;
}

/** A zero-filled tensor of `rows` rows for a spec (dynamic non-batch dims become 1). */
export function zeroTensor(spec: TensorSpec, rows: number): Tensor {
  const dims = spec.shape.map((d, i) => (i === 0 ? (d >= 0 ? d : rows) : d >= 0 ? d : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'string') return { type: 'string', data: new Array<string>(size).fill(''), dims };
  return { type: spec.dtype, data: new (arrayTypeOf(spec.dtype))(size), dims };
}

/**
 * Checks named feeds against the manifest's inputs: every input present, no unknown name,
 * dtypes and data types agree, fixed dims match, and every input has the same batch size.
 * @returns the batch size (rows)
 * @throws PlaymindError `invalid_tensor` naming the input and what was wrong
 */
export function checkFeeds(model: string, inputs: readonly TensorSpec[], feeds: Record<string, Tensor>): number {
  if (!feeds || typeof feeds !== 'object')
    throw new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: 'feeds' must be an object of named tensors`);
  const declared = new Map(inputs.map((s) => [s.name, s]));
  for (const name of Object.keys(feeds)) {
    if (!declared.has(name)) {
      throw new PlaymindError(
        ErrorCode.INVALID_TENSOR,
        `${model}: unknown input "${name}" (inputs: ${inputs.map((s) => s.name).join(', ')})`,
        { details: { model, input: name } },
      );
    }
  }
  let rows: number | undefined;
  for (const spec of inputs) {
    const t = feeds[spec.name];
    const bad = (why: string) =>
      new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: input "${spec.name}" ${why}`, {
        details: { model, input: spec.name },
      });
    if (!t) throw bad('is missing');
    if (t.type !== spec.dtype) throw bad(`must be ${spec.dtype}, got ${String(t.type)}`);
    if (!Array.isArray(t.dims) && !ArrayBuffer.isView(t.dims)) throw bad('has no dims');
    const dims = [...t.dims];
    if (dims.length !== spec.shape.length)
      throw bad(`must have rank ${spec.shape.length} [${spec.shape.join(', ')}], got [${dims.join(', ')}]`);
    dims.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 0) throw bad(`has an invalid dimension ${d}`);
      const want = spec.shape[i]!;
      if (want >= 0 && d !== want) throw bad(`dim ${i} must be ${want}, got ${d} (shape [${dims.join(', ')}])`);
    });
    const size = dims.reduce((a, b) => a * b, 1);
    const data = t.data as unknown;
    const okData = spec.dtype === 'string' ? Array.isArray(data) : data instanceof arrayTypeOf(spec.dtype);
    if (!okData) throw bad(`data must be a ${spec.dtype === 'string' ? 'string[]' : arrayTypeOf(spec.dtype).name}`);
    if ((data as ArrayLike<unknown>).length !== size)
      throw bad(`has ${(data as ArrayLike<unknown>).length} values for shape [${dims.join(', ')}] (expected ${size})`);
    const r = dims.length > 0 ? dims[0]! : 1;
    if (rows === undefined) rows = r;
    else if (dims.length > 0 && r !== rows) throw bad(`has ${r} rows but other inputs have ${rows}`);
  }
  return rows ?? 1;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE-754 half-precision bits (as onnxruntime holds float16 data in a Uint16Array) from
 * float32 values, rounded to nearest even.
 */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity or NaN
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00; // overflow: Infinity
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // underflow: signed zero
        continue;
      }
      mant |= 0x800000; // subnormal half
      const shift = 14 - e;
      const half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      out[i] = sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent, as it should
    out[i] = sign | half;
  }
  return out;
}

/** float32 values from IEEE-754 half-precision bits. */
export function float16ToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
