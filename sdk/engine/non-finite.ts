/**
 * Non-finite outputs: a model that answers NaN or ±Infinity has not answered. The
 * repository refuses a version whose warm-up gives one; the engine turns a run-time answer
 * holding one into a `non_finite_output` error (the policy call then falls back).
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { Tensor } from './backend.js';

/** Where a tensor holds non-finite values. */
export interface NonFinite {
  /** The output's name. */
  output: string;
  /** How many values are NaN or ±Infinity. */
  count: number;
  /** How many values were looked at. */
  of: number;
  /** The first such value's kind. */
  first: 'NaN' | 'Infinity' | '-Infinity';
}

/** Half-precision bits: exponent all ones means Infinity (mantissa 0) or NaN. */
const F16_EXP = 0x7c00;

/**
 * Counts the NaN and ±Infinity values among `count` elements from `start` of a float
 * tensor's data (float32, float64, float16); other dtypes hold none.
 */
export function nonFiniteIn(t: Tensor, start = 0, count = t.data.length - start): Omit<NonFinite, 'output'> | null {
  let n = 0;
  let first: NonFinite['first'] | undefined;
  const end = Math.min(t.data.length, start + count);
  if (t.type === 'float32' || t.type === 'float64') {
    const d = t.data as Float32Array | Float64Array;
    for (let i = start; i < end; i++) {
      const v = d[i]!;
      // v - v is 0 for every finite v, NaN for NaN and ±Infinity (one comparison per value).
      if (v - v !== 0) {
        n++;
        first ??= Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      }
    }
  } else if (t.type === 'float16') {
    const d = t.data as Uint16Array;
    for (let i = start; i < end; i++) {
      const h = d[i]!;
      if ((h & F16_EXP) === F16_EXP) {
        n++;
        first ??= (h & 0x3ff) !== 0 ? 'NaN' : h & 0x8000 ? '-Infinity' : 'Infinity';
      }
    }
  } else return null;
  return n > 0 ? { count: n, of: end - start, first: first! } : null;
}

/**
 * The first output holding non-finite values among a request's rows of a batch's outputs
 * (outputs without the batch dimension are looked at whole).
 */
export function findNonFinite(
  outputs: Record<string, Tensor>,
  rowOffset = 0,
  rows?: number,
  batchRows?: number,
): NonFinite | null {
  for (const name in outputs) {
    const t = outputs[name]!;
    if (t.type !== 'float32' && t.type !== 'float64' && t.type !== 'float16') continue;
    let start = 0;
    let count = t.data.length;
    if (rows !== undefined && batchRows !== undefined && batchRows > 0 && t.dims[0] === batchRows) {
      const per = t.data.length / batchRows;
      start = rowOffset * per;
      count = rows * per;
    }
    const found = nonFiniteIn(t, start, count);
    if (found) return { output: name, ...found };
  }
  return null;
}

/** The run-time error of a model version that answered with non-finite values. */
export function nonFiniteError(model: string, version: number, found: NonFinite): PlaymindError {
  return new PlaymindError(
    ErrorCode.NON_FINITE_OUTPUT,
    `model ${model}@${version} answered with non-finite values: output "${found.output}" has ${found.count} of ${found.of} values NaN or ±Infinity (first: ${found.first})`,
    { details: { model, version, output: found.output, count: found.count, first: found.first } },
  );
}
