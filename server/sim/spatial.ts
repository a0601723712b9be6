/**
 * Uniform grids for the simulation's neighbour and obstacle queries, so that a
 * tick's work grows with the number of entities instead of its square.
 *
 * Every query here returns a *superset* of the entities the exact test can
 * accept (the grids are padded by one world unit beyond the query radius, which
 * absorbs any floating-point rounding), and callers always run the very same
 * exact test, in the same order, as the plain scans did. Results are therefore
 * bit-identical to scanning everything; the grids only skip entities that the
 * exact test would reject anyway.
 *
 * Cell indices are clamped into the grid, and clamping is monotone, so points
 * outside the grid (or an entity placed out of the world by hand) still find
 * every candidate. Non-finite or absurdly large coordinates make the callers
 * fall back to the plain scans.
 *
 * @module
 */
import type { Guard, Rect } from './types.js';

/** Coordinates beyond this fall back to plain scans (keeps the 1-unit padding far above rounding). */
export const MAX_COORD = 1e9;
/** Side of an obstacle cell. */
const OBSTACLE_CELL = 64;
/** Most cells a grid may have (the cell side grows to stay below). */
const MAX_CELLS = 1 << 18;
/** Obstacle layers' pads are rounded up to a multiple of this... */
const PAD_STEP = 32;
/** ...and never exceed this (longer queries scan every obstacle). */
const MAX_PAD = 320;

/** @returns whether a coordinate can be used with the grids */
export function gridSafe(v: number): boolean {
  return v >= -MAX_COORD && v <= MAX_COORD; // false for NaN and ±Infinity
}

/**
 * The static obstacles, bucketed for one padding: each cell lists (in
 * ascending obstacle index) every rectangle whose box grown by `pad` overlaps
 * the cell. So a point's own cell lists every rectangle within `pad` of it
 * (Chebyshev distance), in the obstacles' order.
 */
export class ObstacleLayer {
  readonly pad: number;
  readonly cell: number;
  readonly ox: number;
  readonly oy: number;
  readonly nx: number;
  readonly ny: number;
  /** Cell `c` lists `items[start[c] .. start[c + 1])`. */
  readonly start: Int32Array;
  readonly items: Int32Array;

  constructor(rects: readonly Rect[], pad: number) {
    this.pad = pad;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const r of rects) {
      if (r.x < x0) x0 = r.x;
      if (r.y < y0) y0 = r.y;
      if (r.x + r.w > x1) x1 = r.x + r.w;
      if (r.y + r.h > y1) y1 = r.y + r.h;
    }
    if (!(x0 <= x1 && y0 <= y1)) {
      x0 = y0 = 0;
      x1 = y1 = 1;
    }
    this.ox = x0 - pad;
    this.oy = y0 - pad;
    let cell = OBSTACLE_CELL;
    const w = x1 + pad - this.ox;
    const h = y1 + pad - this.oy;
    while ((Math.floor(w / cell) + 1) * (Math.floor(h / cell) + 1) > MAX_CELLS) cell *= 2;
    this.cell = cell;
    this.nx = Math.floor(w / cell) + 1;
    this.ny = Math.floor(h / cell) + 1;
    const cells = this.nx * this.ny;
    const count = new Int32Array(cells + 1);
    const span = (r: Rect, f: (c: number) => void): void => {
      const cx0 = this.cellX(r.x - pad);
      const cx1 = this.cellX(r.x + r.w + pad);
      const cy0 = this.cellY(r.y - pad);
      const cy1 = this.cellY(r.y + r.h + pad);
      for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) f(cy * this.nx + cx);
    };
    for (const r of rects) span(r, (c) => count[c + 1]!++);
    for (let c = 0; c < cells; c++) count[c + 1]! += count[c]!;
    this.start = count;
    this.items = new Int32Array(count[cells]!);
    const fill = count.slice(0, cells);
    for (let i = 0; i < rects.length; i++) span(rects[i]!, (c) => (this.items[fill[c]!++] = i));
  }

  /** @returns the (clamped) column of x; NaN maps to 0 */
  cellX(x: number): number {
    const c = Math.floor((x - this.ox) / this.cell);
    return c >= 0 ? (c < this.nx ? c : this.nx - 1) : 0;
  }

  /** @returns the (clamped) row of y; NaN maps to 0 */
  cellY(y: number): number {
    const c = Math.floor((y - this.oy) / this.cell);
    return c >= 0 ? (c < this.ny ? c : this.ny - 1) : 0;
  }

  /** @returns the cell holding the point */
  cellAt(x: number, y: number): number {
    return this.cellY(y) * this.nx + this.cellX(x);
  }
}

/** Obstacle layers of one obstacle list, built on demand per padding. */
export class ObstacleIndex {
  readonly rects: readonly Rect[];
  readonly size: number;
  private readonly layers: ObstacleLayer[] = [];

  constructor(rects: readonly Rect[]) {
    this.rects = rects;
    this.size = rects.length;
  }

  /**
   * @param pad - the Chebyshev reach needed around a query point
   * @returns a layer with at least that pad, or null when the pad is too large (scan everything)
   */
  layer(pad: number): ObstacleLayer | null {
    if (!(pad <= MAX_PAD)) return null;
    let best: ObstacleLayer | null = null;
    for (const l of this.layers) if (l.pad >= pad && (best === null || l.pad < best.pad)) best = l;
    if (best !== null) return best;
    const l = new ObstacleLayer(this.rects, Math.max(PAD_STEP, Math.ceil(pad / PAD_STEP) * PAD_STEP));
    this.layers.push(l);
    return l;
  }
}

const INDEXES = new WeakMap<readonly Rect[], ObstacleIndex>();

/**
 * The index of an obstacle list (static for an arena), cached by the list's
 * identity and rebuilt if its length changed.
 */
export function obstacleIndex(rects: readonly Rect[]): ObstacleIndex {
  let ix = INDEXES.get(rects);
  if (ix === undefined || ix.size !== rects.length) {
    ix = new ObstacleIndex(rects);
    INDEXES.set(rects, ix);
  }
  return ix;
}

/**
 * A grid of the living guards' positions, rebuilt from scratch (reusing its
 * typed arrays) whenever positions may have changed. Each cell lists guard
 * indices in ascending order.
 */
export class GuardGrid {
  /** Whether the grid can answer queries (false: some living guard has an unusable position). */
  valid = false;
  private cell = 1;
  private ox = 0;
  private oy = 0;
  private nx = 1;
  private ny = 1;
  private start = new Int32Array(2);
  private cursor = new Int32Array(2);
  private items = new Int32Array(0);
  private cellOf = new Int32Array(0);
  /** Candidate indices written by {@link GuardGrid.query}. */
  out = new Int32Array(0);

  /**
   * Rebuilds the grid.
   *
   * @param guards - the arena's guards (only living ones are stored)
   * @param cell - the cell side (typically the largest query radius)
   */
  build(guards: readonly Guard[], cell: number): void {
    const n = guards.length;
    if (this.cellOf.length < n) {
      this.cellOf = new Int32Array(n);
      this.items = new Int32Array(n);
      this.out = new Int32Array(n);
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    let alive = 0;
    for (let i = 0; i < n; i++) {
      const g = guards[i]!;
      if (!g.alive) continue;
      const { x, y } = g.pos;
      if (!gridSafe(x) || !gridSafe(y)) {
        this.valid = false;
        return;
      }
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      alive++;
    }
    if (alive === 0) x0 = y0 = x1 = y1 = 0;
    let cs = cell > 0 && Number.isFinite(cell) ? cell : 64;
    const w = x1 - x0;
    const h = y1 - y0;
    const maxCells = Math.min(MAX_CELLS, 4 * alive + 16);
    while ((Math.floor(w / cs) + 1) * (Math.floor(h / cs) + 1) > maxCells) cs *= 2;
    this.cell = cs;
    this.ox = x0;
    this.oy = y0;
    this.nx = Math.floor(w / cs) + 1;
    this.ny = Math.floor(h / cs) + 1;
    const cells = this.nx * this.ny;
    if (this.start.length < cells + 1) {
      this.start = new Int32Array(Math.max(cells + 1, 2 * this.start.length));
      this.cursor = new Int32Array(this.start.length);
    }
    const start = this.start;
    start.fill(0, 0, cells + 1);
    const cellOf = this.cellOf;
    for (let i = 0; i < n; i++) {
      const g = guards[i]!;
      if (!g.alive) {
        cellOf[i] = -1;
        continue;
      }
      const c = this.cellY(g.pos.y) * this.nx + this.cellX(g.pos.x);
      cellOf[i] = c;
      start[c + 1]!++;
    }
    for (let c = 0; c < cells; c++) start[c + 1]! += start[c]!;
    const cursor = this.cursor;
    cursor.set(start.subarray(0, cells));
    const items = this.items;
    for (let i = 0; i < n; i++) {
      const c = cellOf[i]!;
      if (c >= 0) items[cursor[c]!++] = i; // ascending within each cell
    }
    this.valid = true;
  }

  private cellX(x: number): number {
    const c = Math.floor((x - this.ox) / this.cell);
    return c >= 0 ? (c < this.nx ? c : this.nx - 1) : 0;
  }

  private cellY(y: number): number {
    const c = Math.floor((y - this.oy) / this.cell);
    return c >= 0 ? (c < this.ny ? c : this.ny - 1) : 0;
  }

  /**
   * Writes into {@link GuardGrid.out} the indices of the living guards in the
   * cells overlapping the square of half-side `r + 1` around (x, y): a superset
   * of the living guards within distance `r`. Cells are visited row by row, so
   * the indices are not globally sorted.
   *
   * @returns how many were written, or -1 when the grid cannot answer (scan everything instead)
   */
  query(x: number, y: number, r: number): number {
    if (!this.valid || !gridSafe(x) || !gridSafe(y) || !(r >= 0)) return -1;
    const reach = r + 1;
    const cx0 = this.cellX(x - reach);
    const cx1 = this.cellX(x + reach);
    const cy0 = this.cellY(y - reach);
    const cy1 = this.cellY(y + reach);
    const start = this.start;
    const items = this.items;
    const out = this.out;
    let k = 0;
    for (let cy = cy0; cy <= cy1; cy++) {
      const row = cy * this.nx;
      // The cells of one row are contiguous in `items`.
      const b = start[row + cx1 + 1]!;
      for (let j = start[row + cx0]!; j < b; j++) out[k++] = items[j]!;
    }
    return k;
  }
}

/** Sorts `a[0 .. n)` ascending in place (insertion sort for the short lists queries give). */
export function sortPrefix(a: Int32Array, n: number): void {
  if (n > 32) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = a[i] as number;
    let j = i - 1;
    while (j >= 0 && (a[j] as number) > v) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = v;
  }
}
