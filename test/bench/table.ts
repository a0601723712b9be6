/** Markdown tables and statistics for the benchmarks. */

/** A titled table a benchmark reports. */
export interface BenchTable {
  title: string;
  /** Column headers. */
  columns: string[];
  /** Cells, already formatted. */
  rows: (string | number)[][];
  /** Lines printed under the table (setup, goals, caveats). */
  notes?: string[];
}

/** What a benchmark module exports as `bench`. */
export type BenchFn = (ctx: BenchContext) => Promise<BenchTable[]>;

/** Given to every benchmark by the runner. */
export interface BenchContext {
  /** Prints a progress line (to stderr, so tables stay clean). */
  log(message: string): void;
  /** Repetitions per measurement (median reported). */
  repetitions: number;
}

/** Renders a table as GitHub Markdown, numbers right-aligned. */
export function markdownTable(t: BenchTable): string {
  const cells = t.rows.map((r) => r.map((c) => String(c)));
  const numeric = t.columns.map(
    (_, i) => cells.length > 0 && cells.every((r) => /^[-+]?[\d.,]+\s*[×x%a-zµ/]*$/i.test(r[i] ?? '')),
  );
  const width = t.columns.map((h, i) => Math.max(h.length, 3, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join(' | ')} |`;
  const rule = `|${width.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  const out = [`### ${t.title}`, '', line(t.columns), rule, ...cells.map(line)];
  if (t.notes?.length) out.push('', ...t.notes);
  return out.join('\n');
}

/** The p-th percentile (0–100) of the values, by linear interpolation. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

/** The median of the values. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Formats a rate or count with thousands separators and no decimals. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Formats a ratio as `1.23×`. */
export function fmtRatio(n: number): string {
  return `${n.toFixed(n >= 100 ? 0 : 2)}×`;
}

/** Formats milliseconds with a sensible precision. */
export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}
