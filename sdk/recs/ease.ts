/**
 * EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019):
 * a closed-form item × item ridge regression with a zero diagonal,
 *
 *   P = (XᵀX + λI)⁻¹,   B = I − P · diagMat(1 / diag(P)),
 *
 * so a user's scores are `x · B`. The inversion is a Cholesky factorisation in
 * Float64, written for row-major cache locality (about n³/2 multiply-adds).
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import { itemCounts, leaveOneOut, type Dataset } from './dataset.js';
import { MetricMean, rankScore } from './metrics.js';

/** Called with (done, total) during long loops. */
export type Tick = (done: number, total: number) => void;

/** How raw weights become model inputs. */
export type WeightTransform = 'none' | 'log1p';

/** Applies a {@link WeightTransform} to one value. */
export function transformWeight(w: number, t: WeightTransform): number {
  return t === 'log1p' ? Math.log1p(w) : w;
}

/**
 * The items the model covers: those with at least `minCount` users, the most
 * popular first, at most `maxItems` of them; returned in catalogue order.
 */
export function selectItems(counts: Int32Array, minCount: number, maxItems: number): Int32Array {
  const order = [...counts.keys()]
    .filter((i) => counts[i]! >= minCount)
    .sort((a, b) => counts[b]! - counts[a]! || a - b);
  return Int32Array.from(order.slice(0, maxItems).sort((a, b) => a - b));
}

/**
 * The Gram matrix XᵀX over the kept items (n × n, row-major, Float64).
 * @param ds - the training matrix
 * @param kept - kept item indices (catalogue indices)
 * @param transform - applied to every value first
 */
export function gramMatrix(ds: Dataset, kept: Int32Array, transform: WeightTransform): Float64Array {
  const n = kept.length;
  const pos = new Int32Array(ds.items.length).fill(-1);
  kept.forEach((item, k) => (pos[item] = k));
  const G = new Float64Array(n * n);
  const idx: number[] = [];
  const val: number[] = [];
  for (let u = 0; u < ds.users.length; u++) {
    idx.length = 0;
    val.length = 0;
    for (let p = ds.indptr[u]!; p < ds.indptr[u + 1]!; p++) {
      const k = pos[ds.indices[p]!]!;
      if (k >= 0) {
        idx.push(k);
        val.push(transformWeight(ds.values[p]!, transform));
      }
    }
    for (let a = 0; a < idx.length; a++) {
      const row = idx[a]! * n;
      const va = val[a]!;
      for (let b = 0; b < idx.length; b++) G[row + idx[b]!]! += va * val[b]!;
    }
  }
  return G;
}

/**
 * Inverts a symmetric positive-definite matrix in place (row-major n × n) by
 * Cholesky: A = LLᵀ, M = L⁻¹, A⁻¹ = MᵀM.
 * @throws PlaymindError `internal` when the matrix is not positive definite
 */
export function invertSpd(A: Float64Array, n: number, tick?: Tick): Float64Array {
  // 1. Cholesky–Crout, lower triangle in place: L[i][j] = (A[i][j] − L[i,:j]·L[j,:j]) / L[j][j].
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    const d = A[rj + j]! - dot(A, rj, A, rj, j);
    if (!(d > 0))
      throw new PlaymindError(ErrorCode.INTERNAL, `matrix is not positive definite at row ${j} (pivot ${d})`);
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      A[ri + j] = (A[ri + j]! - dot(A, ri, A, rj, j)) / ljj;
    }
    if (tick && (j & 63) === 0) tick(j, 3 * n);
  }
  // 2. M = L⁻¹ row by row: M[i,:] = (e_i − Σ_{k<i} L[i][k] M[k,:]) / L[i][i]; kept in a separate lower triangle.
  const M = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const l = A[ri + k]!;
      if (l !== 0) axpy(-l, M, k * n, M, ri, k + 1);
    }
    M[ri + i] = 1;
    const inv = 1 / A[ri + i]!;
    for (let c = 0; c <= i; c++) M[ri + c]! *= inv;
    if (tick && (i & 63) === 0) tick(n + i, 3 * n);
  }
  // 3. A⁻¹ = MᵀM: rank-1 updates by row of M, lower triangle, then mirrored.
  A.fill(0);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let a = 0; a <= k; a++) {
      const m = M[rk + a]!;
      if (m !== 0) axpy(m, M, rk, A, a * n, a + 1);
    }
    if (tick && (k & 63) === 0) tick(2 * n + k, 3 * n);
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) A[b * n + a] = A[a * n + b]!;
  tick?.(3 * n, 3 * n);
  return A;
}

/** Σ_{t<len} x[xo+t]·y[yo+t], unrolled by 4. */
function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < len; t += 4) {
    s0 += x[xo + t]! * y[yo + t]!;
    s1 += x[xo + t + 1]! * y[yo + t + 1]!;
    s2 += x[xo + t + 2]! * y[yo + t + 2]!;
    s3 += x[xo + t + 3]! * y[yo + t + 3]!;
  }
  for (; t < len; t++) s0 += x[xo + t]! * y[yo + t]!;
  return s0 + s1 + (s2 + s3);
}

/** y[yo+t] += a·x[xo+t] for t < len, unrolled by 4. */
function axpy(a: number, x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): void {
  let t = 0;
  for (; t + 3 < len; t += 4) {
    y[yo + t]! += a * x[xo + t]!;
    y[yo + t + 1]! += a * x[xo + t + 1]!;
    y[yo + t + 2]! += a * x[xo + t + 2]!;
    y[yo + t + 3]! += a * x[xo + t + 3]!;
  }
  for (; t < len; t++) y[yo + t]! += a * x[xo + t]!;
}

/**
 * EASE weights from a Gram matrix (the Gram matrix is left untouched).
 * @returns B (n × n, row-major, Float32, zero diagonal)
 */
export function easeFromGram(G: Float64Array, n: number, lambda: number, tick?: Tick): Float32Array {
  if (!(lambda > 0)) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'lambda' must be > 0 (got ${lambda})`);
  const P = Float64Array.from(G);
  for (let i = 0; i < n; i++) P[i * n + i]! += lambda;
  invertSpd(P, n, tick);
  const B = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) B[i * n + j] = i === j ? 0 : -P[i * n + j]! / P[j * n + j]!;
  }
  return B;
}

/** Weight of the popularity tie-break added to every score. */
export const PRIOR_SCALE = 1e-4;

/**
 * A tiny popularity prior over the kept items (`PRIOR_SCALE · count / max count`):
 * it only breaks ties, so a user without modelled history gets the popularity ranking.
 */
export function popularityPrior(counts: Int32Array, kept: Int32Array): Float32Array {
  let max = 1;
  for (const i of kept) max = Math.max(max, counts[i]!);
  return Float32Array.from(kept, (i) => (PRIOR_SCALE * counts[i]!) / max);
}

/** Mean of the Gram diagonal (the scale λ is chosen relative to). */
export function meanDiagonal(G: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += G[i * n + i]!;
  return n ? s / n : 0;
}

/** One point of the λ validation curve. */
export interface LambdaPoint {
  lambda: number;
  recall: number;
  ndcg: number;
}

/** Options of {@link tuneLambda}. */
export interface TuneOptions {
  kept: Int32Array;
  transform: WeightTransform;
  /** Candidate λ values as multiples of the mean Gram diagonal. */
  grid: readonly number[];
  seed: number;
  k?: number;
  /** Validation users at most (a seeded subset when there are more). */
  maxUsers?: number;
  tick?: Tick;
}

/**
 * Chooses λ by an inner leave-one-out split of the training matrix: fits EASE for
 * every candidate and keeps the best validation NDCG@k.
 */
export function tuneLambda(ds: Dataset, o: TuneOptions): { best: number; curve: LambdaPoint[] } {
  const k = o.k ?? 10;
  const { train, heldOut } = leaveOneOut(ds, o.seed);
  const n = o.kept.length;
  const pos = new Int32Array(ds.items.length).fill(-1);
  o.kept.forEach((item, i) => (pos[item] = i));
  const step = Math.max(1, Math.floor(heldOut.length / (o.maxUsers ?? 5000)));
  const cases = heldOut.filter((_, i) => i % step === 0);
  const G = gramMatrix(train, o.kept, o.transform);
  const scale = meanDiagonal(G, n) || 1;
  const prior = popularityPrior(itemCounts(train), o.kept);
  const curve: LambdaPoint[] = [];
  const scores = new Float64Array(n);
  const excluded = new Uint8Array(n);
  o.grid.forEach((mult, gi) => {
    const lambda = mult * scale;
    const B = easeFromGram(G, n, lambda, o.tick ? (d, t) => o.tick!(gi * t + d, o.grid.length * t) : undefined);
    const mean = new MetricMean();
    for (const h of cases) {
      const target = pos[h.item]!;
      if (target < 0) {
        mean.add({ recall: 0, ndcg: 0 });
        continue;
      }
      scores.fill(0);
      excluded.fill(0);
      for (let p = train.indptr[h.user]!; p < train.indptr[h.user + 1]!; p++) {
        const i = pos[train.indices[p]!]!;
        if (i < 0) continue;
        excluded[i] = 1;
        const w = transformWeight(train.values[p]!, o.transform);
        const row = i * n;
        for (let j = 0; j < n; j++) scores[j]! += w * B[row + j]!;
      }
      for (let j = 0; j < n; j++) scores[j]! += prior[j]!;
      mean.add(rankScore(scores, target, excluded, k));
    }
    curve.push({ lambda, ...mean.result() });
  });
  let best = curve[0]!;
  for (const c of curve) if (c.ndcg > best.ndcg) best = c;
  return { best: best.lambda, curve };
}
