/**
 * Small hand-written SVG charts for the training report (no plotting library):
 * line charts with optional horizontal reference lines, and bar charts with
 * error bars.
 *
 * @module
 */

/** A line series: points (x, y); NaN y values are skipped. */
export interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color: string;
  /** Draw markers only (no line). @default false */
  readonly markers?: boolean;
}

/** A horizontal reference line. */
export interface Reference {
  readonly label: string;
  readonly y: number;
  readonly color: string;
}

/** A bar with an optional error bar (± err). */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly err?: number;
  readonly color: string;
}

const W = 640;
const H = 360;
const M = { left: 64, right: 16, top: 40, bottom: 48 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 || Number.isInteger(x) ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * A line chart.
 *
 * @returns the SVG document
 */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
  references: readonly Reference[] = [],
): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...series.flatMap((s) => s.points.map((p) => p[1])), ...references.map((r) => r.y)].filter((y) =>
    Number.isFinite(y),
  );
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (!Number.isFinite(x0)) [x0, x1] = [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  let y0 = ys.length > 0 ? Math.min(...ys) : 0;
  let y1 = ys.length > 0 ? Math.max(...ys) : 1;
  const pad = (y1 - y0) * 0.08 || 0.5;
  y0 -= pad;
  y1 += pad;
  const px = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const body: string[] = [];
  for (const t of ticks(y0, y1)) {
    body.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`,
    );
    body.push(`<text x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1, 6)) {
    body.push(`<text x="${px(t).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  body.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`,
  );
  for (const r of references) {
    body.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(r.y).toFixed(1)}" y2="${py(r.y).toFixed(1)}" stroke="${r.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
    );
  }
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (s.markers) {
      for (const [x, y] of pts)
        body.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    } else if (pts.length > 0) {
      const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      body.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
  }
  const legend = [
    ...series.map((s) => ({ label: s.label, color: s.color, dash: false })),
    ...references.map((r) => ({ label: r.label, color: r.color, dash: true })),
  ];
  legend.forEach((l, i) => {
    const y = M.top + 14 + i * 16;
    body.push(
      `<line x1="${M.left + 10}" x2="${M.left + 34}" y1="${y - 4}" y2="${y - 4}" stroke="${l.color}" stroke-width="2"${l.dash ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    body.push(`<text x="${M.left + 40}" y="${y}">${esc(l.label)}</text>`);
  });
  return frame(title, xLabel, yLabel, body);
}

/**
 * A bar chart with error bars; bars start at zero (negative values go down).
 *
 * @returns the SVG document
 */
export function barChart(title: string, yLabel: string, bars: readonly Bar[]): string {
  const lows = bars.map((b) => Math.min(0, b.value - (b.err ?? 0)));
  const highs = bars.map((b) => Math.max(0, b.value + (b.err ?? 0)));
  let y0 = Math.min(...lows);
  let y1 = Math.max(...highs);
  const pad = (y1 - y0) * 0.08 || 0.5;
  y0 -= pad;
  y1 += pad;
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const slot = (W - M.left - M.right) / Math.max(1, bars.length);
  const body: string[] = [];
  for (const t of ticks(y0, y1)) {
    body.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`,
    );
    body.push(`<text x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  body.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${py(0).toFixed(1)}" y2="${py(0).toFixed(1)}" stroke="#333"/>`,
  );
  bars.forEach((b, i) => {
    const cx = M.left + slot * (i + 0.5);
    const bw = slot * 0.5;
    const top = py(Math.max(0, b.value));
    const bottom = py(Math.min(0, b.value));
    body.push(
      `<rect x="${(cx - bw / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(1, bottom - top).toFixed(1)}" fill="${b.color}"/>`,
    );
    if (b.err !== undefined && b.err > 0) {
      const e0 = py(b.value - b.err);
      const e1 = py(b.value + b.err);
      body.push(
        `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${e0.toFixed(1)}" y2="${e1.toFixed(1)}" stroke="#222"/>`,
      );
      for (const e of [e0, e1])
        body.push(
          `<line x1="${(cx - 8).toFixed(1)}" x2="${(cx + 8).toFixed(1)}" y1="${e.toFixed(1)}" y2="${e.toFixed(1)}" stroke="#222"/>`,
        );
    }
    const labelY = b.value >= 0 ? top - 6 : bottom + 14;
    body.push(
      `<text x="${cx.toFixed(1)}" y="${labelY.toFixed(1)}" text-anchor="middle" font-weight="bold">${fmt(b.value)}</text>`,
    );
    body.push(`<text x="${cx.toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  body.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`,
  );
  return frame(title, '', yLabel, body);
}
