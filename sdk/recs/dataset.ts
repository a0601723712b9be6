/**
 * The user × item matrix the recommender learns from: interactions aggregated per
 * (user, item) pair, stored by user (CSR), over a fixed item order (the catalogue).
 */
import type { Interaction } from './interactions.js';
import { Rng } from './prng.js';

/** A sparse user × item matrix. Row u holds `indices/values[indptr[u] .. indptr[u+1])`. */
export interface Dataset {
  users: string[];
  /** Item ids in catalogue order (column order of every model and score row). */
  items: string[];
  indptr: Int32Array;
  indices: Int32Array;
  /** Aggregated raw weights (1 for a multi-hot log). */
  values: Float32Array;
}

/** Options of {@link buildDataset}. */
export interface BuildOptions {
  /** Items that come first, in this order (e.g. a game's catalogue); they are kept even without interactions. */
  itemOrder?: readonly string[];
  /** Sum the weights of repeated (user, item) pairs; otherwise each pair counts 1. @default false */
  weighted?: boolean;
}

const collator = new Intl.Collator('en', { numeric: true });

/**
 * Aggregates interactions into a {@link Dataset}. Items not in `itemOrder` follow
 * it in natural id order (numeric-aware), so the column order does not depend on
 * the order of the log.
 */
export function buildDataset(interactions: readonly Interaction[], options: BuildOptions = {}): Dataset {
  const itemIndex = new Map<string, number>();
  const items: string[] = [];
  for (const id of options.itemOrder ?? []) {
    if (!itemIndex.has(id)) {
      itemIndex.set(id, items.length);
      items.push(id);
    }
  }
  const extra = new Set<string>();
  for (const r of interactions) if (!itemIndex.has(r.item)) extra.add(r.item);
  for (const id of [...extra].sort(collator.compare)) {
    itemIndex.set(id, items.length);
    items.push(id);
  }
  const userIndex = new Map<string, number>();
  const rows: Array<Map<number, number>> = [];
  const users: string[] = [];
  for (const r of interactions) {
    let u = userIndex.get(r.user);
    if (u === undefined) {
      u = users.length;
      userIndex.set(r.user, u);
      users.push(r.user);
      rows.push(new Map());
    }
    const i = itemIndex.get(r.item)!;
    const row = rows[u]!;
    row.set(i, options.weighted ? (row.get(i) ?? 0) + r.weight : 1);
  }
  return fromRows(users, items, rows);
}

/** Builds the CSR arrays from per-user maps (item index → value), items sorted. */
export function fromRows(users: string[], items: string[], rows: ReadonlyArray<Map<number, number>>): Dataset {
  let nnz = 0;
  for (const r of rows) nnz += r.size;
  const indptr = new Int32Array(users.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  rows.forEach((row, u) => {
    const keys = [...row.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      indices[p] = k;
      values[p] = row.get(k)!;
      p++;
    }
    indptr[u + 1] = p;
  });
  return { users, items, indptr, indices, values };
}

/** Number of users who interacted with each item. */
export function itemCounts(ds: Dataset): Int32Array {
  const c = new Int32Array(ds.items.length);
  for (let p = 0; p < ds.indices.length; p++) c[ds.indices[p]!]!++;
  return c;
}

/** One held-out interaction. */
export interface HeldOut {
  user: number;
  item: number;
}

/**
 * Leave-one-out split: for every user with at least 2 items, one of them (chosen by
 * the seeded stream) is removed from the training matrix and returned as held out.
 */
export function leaveOneOut(ds: Dataset, seed: number): { train: Dataset; heldOut: HeldOut[] } {
  const rng = new Rng(seed);
  const heldOut: HeldOut[] = [];
  const rows: Array<Map<number, number>> = [];
  for (let u = 0; u < ds.users.length; u++) {
    const start = ds.indptr[u]!;
    const end = ds.indptr[u + 1]!;
    const drop = end - start >= 2 ? start + rng.int(end - start) : -1;
    const row = new Map<number, number>();
    for (let p = start; p < end; p++) {
      if (p === drop) heldOut.push({ user: u, item: ds.indices[p]! });
      else row.set(ds.indices[p]!, ds.values[p]!);
    }
    rows.push(row);
  }
  return { train: fromRows(ds.users, ds.items, rows), heldOut };
}

/** Summary numbers of a dataset (for reports). */
export function describeDataset(ds: Dataset): {
  users: number;
  items: number;
  interactions: number;
  density: number;
  medianPerUser: number;
} {
  const per: number[] = [];
  for (let u = 0; u < ds.users.length; u++) per.push(ds.indptr[u + 1]! - ds.indptr[u]!);
  per.sort((a, b) => a - b);
  const n = ds.indices.length;
  return {
    users: ds.users.length,
    items: ds.items.length,
    interactions: n,
    density: n / Math.max(1, ds.users.length * ds.items.length),
    medianPerUser: per.length ? per[Math.floor(per.length / 2)]! : 0,
  };
}
