/**
 * Reading a server's `/metrics` in benchmarks: one scrape's values, a histogram's
 * quantile over the window between two scrapes, and the least-squares slope of samples.
 */
import { metricValue } from '../helpers/server.js';

/** One scrape of `GET /metrics`. */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** The `le` buckets of a histogram (cumulative counts), summed over series matching `labels`. */
function buckets(text: string, name: string, labels: Record<string, string>): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\}\\s+(\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const have = Object.fromEntries([...m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (!Object.entries(labels).every(([k, v]) => have[k] === v)) continue;
    const le = have.le === '+Inf' ? Infinity : Number(have.le);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * The q-quantile (0–1) of a histogram's observations between two scrapes, interpolated
 * inside the bucket as Prometheus's `histogram_quantile` does; NaN when nothing was observed.
 */
export function quantileBetween(
  before: string,
  after: string,
  name: string,
  q: number,
  labels: Record<string, string> = {},
): number {
  const a = buckets(before, name, labels);
  const b = buckets(after, name, labels);
  const les = [...b.keys()].sort((x, y) => x - y);
  const counts = les.map((le) => (b.get(le) ?? 0) - (a.get(le) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (counts[i]! >= rank) {
      const hi = les[i]!;
      const lo = i === 0 ? 0 : les[i - 1]!;
      if (hi === Infinity) return lo;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = counts[i]! - below;
      return inBucket > 0 ? lo + ((hi - lo) * (rank - below)) / inBucket : hi;
    }
  }
  return les[les.length - 2] ?? NaN;
}

/** A counter's increase between two scrapes (summed over series matching `labels`). */
export function increase(before: string, after: string, name: string, labels: Record<string, string> = {}): number {
  return metricValue(after, name, labels) - metricValue(before, name, labels);
}

/** The least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return NaN;
  const mx = xs.slice(0, n).reduce((s, x) => s + x, 0) / n;
  const my = ys.slice(0, n).reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Reads `--name value` from argv, or the fallback. */
export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
