/**
 * Training reports: Markdown plus hand-written SVG charts (evaluation bars and the
 * λ validation curve), written under `<model>/report/`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LambdaPoint } from './ease.js';
import { formatTable, type EvalReport } from './evaluate.js';

const COLOURS = ['#2b6cb0', '#a0aec0', '#dd6b20', '#38a169', '#805ad5'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A grouped bar chart: one group per metric, one bar per method.
 * @param title - chart title
 * @param report - the evaluation (methods × recall/NDCG)
 */
export function evaluationBarsSvg(title: string, report: EvalReport): string {
  const metrics: Array<['recall' | 'ndcg', string]> = [
    ['recall', `recall@${report.k}`],
    ['ndcg', `NDCG@${report.k}`],
  ];
  const methods = report.methods;
  const W = 640;
  const H = 360;
  const left = 50;
  const bottom = 300;
  const top = 50;
  const max = Math.max(0.1, ...methods.flatMap((m) => [m.recall, m.ndcg]));
  const yMax = Math.ceil(max * 10) / 10;
  const y = (v: number) => bottom - ((bottom - top) * v) / yMax;
  const groupW = (W - left - 20) / metrics.length;
  const barW = Math.min(60, (groupW - 40) / methods.length);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let t = 0; t <= 5; t++) {
    const v = (yMax * t) / 5;
    out.push(`<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${W - 20}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  metrics.forEach(([key, label], g) => {
    const x0 = left + g * groupW + (groupW - barW * methods.length) / 2;
    methods.forEach((m, i) => {
      const v = m[key];
      const x = x0 + i * barW;
      out.push(
        `<rect x="${(x + 3).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 6).toFixed(1)}" height="${(bottom - y(v)).toFixed(1)}" fill="${COLOURS[i % COLOURS.length]}"/>`,
      );
      out.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle">${v.toFixed(3)}</text>`,
      );
    });
    out.push(
      `<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${bottom + 18}" text-anchor="middle" font-weight="bold">${label}</text>`,
    );
  });
  out.push(`<line x1="${left}" y1="${bottom}" x2="${W - 20}" y2="${bottom}" stroke="#4a5568"/>`);
  methods.forEach((m, i) => {
    const x = left + i * 190;
    out.push(`<rect x="${x}" y="${H - 28}" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>`);
    out.push(`<text x="${x + 18}" y="${H - 18}">${esc(m.method)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A line chart of validation NDCG@10 and recall@10 against λ (log scale). */
export function lambdaCurveSvg(title: string, curve: readonly LambdaPoint[], chosen: number): string {
  const W = 640;
  const H = 320;
  const left = 60;
  const right = W - 20;
  const top = 45;
  const bottom = 260;
  const xs = curve.map((c) => Math.log10(c.lambda));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1e-9);
  const vals = curve.flatMap((c) => [c.recall, c.ndcg]);
  const yLo = Math.floor(Math.min(...vals) * 20) / 20;
  const yHi = Math.ceil(Math.max(...vals) * 20) / 20 || 1;
  const X = (l: number) => left + ((right - left) * (Math.log10(l) - xMin)) / (xMax - xMin || 1);
  const Y = (v: number) => bottom - ((bottom - top) * (v - yLo)) / (yHi - yLo || 1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = yLo + ((yHi - yLo) * t) / 4;
    out.push(`<line x1="${left}" y1="${Y(v).toFixed(1)}" x2="${right}" y2="${Y(v).toFixed(1)}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${left - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  for (const c of curve)
    out.push(
      `<text x="${X(c.lambda).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${c.lambda.toPrecision(3)}</text>`,
    );
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 34}" text-anchor="middle">λ (log scale)</text>`);
  out.push(
    `<line x1="${X(chosen).toFixed(1)}" y1="${top}" x2="${X(chosen).toFixed(1)}" y2="${bottom}" stroke="#718096" stroke-dasharray="4 3"/>`,
  );
  const series: Array<['recall' | 'ndcg', string, string]> = [
    ['recall', 'validation recall@10', COLOURS[0]!],
    ['ndcg', 'validation NDCG@10', COLOURS[2]!],
  ];
  series.forEach(([key, label, colour], i) => {
    const pts = curve.map((c) => `${X(c.lambda).toFixed(1)},${Y(c[key]).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const c of curve)
      out.push(`<circle cx="${X(c.lambda).toFixed(1)}" cy="${Y(c[key]).toFixed(1)}" r="3" fill="${colour}"/>`);
    out.push(
      `<rect x="${left + i * 200}" y="${H - 22}" width="12" height="12" fill="${colour}"/><text x="${left + i * 200 + 18}" y="${H - 12}">${label}</text>`,
    );
  });
  out.push(`<text x="${right}" y="${H - 12}" text-anchor="end">dashed: chosen λ</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** What goes into a model's report. */
export interface ReportInput {
  name: string;
  /** Where the data came from (a path or a sentence). */
  source: string;
  data: { users: number; items: number; interactions: number; density: number; medianPerUser: number };
  history: 'multi-hot' | 'weighted';
  lambda: number;
  lambdaMultiple: number;
  coveredItems: number;
  curve?: readonly LambdaPoint[];
  evaluation?: EvalReport;
  /** Command that regenerates the model. */
  command?: string;
  /** Extra Markdown sections appended at the end. */
  extra?: string;
}

/**
 * Writes `<dir>/report/README.md` and its SVG charts.
 * @returns the files written
 */
export async function writeReport(dir: string, r: ReportInput): Promise<string[]> {
  const reportDir = join(dir, 'report');
  await mkdir(reportDir, { recursive: true });
  const files: string[] = [];
  const md: string[] = [
    `# ${r.name}: training report`,
    '',
    `EASE item-to-item recommender (Steck 2019, closed form), exported to ONNX.`,
    '',
    '## Data',
    '',
    `- source: ${r.source}`,
    `- ${r.data.users} users, ${r.data.items} items, ${r.data.interactions} user–item pairs (density ${(100 * r.data.density).toFixed(3)} %, median ${r.data.medianPerUser} items per user)`,
    `- history fed as: ${r.history}${r.history === 'weighted' ? ' (raw weights; log1p is applied inside the graph)' : ''}`,
    '',
    '## Model',
    '',
    `- λ = ${r.lambda.toPrecision(4)} (${r.lambdaMultiple} × mean diagonal of XᵀX)`,
    `- items covered by the item–item matrix: ${r.coveredItems} of ${r.data.items} (the rest rank last, by popularity)`,
  ];
  if (r.command) md.push(`- regenerate: \`${r.command}\``);
  if (r.curve && r.curve.length > 1) {
    const svg = 'lambda-validation.svg';
    await writeFile(join(reportDir, svg), lambdaCurveSvg(`${r.name}: λ on a validation split`, r.curve, r.lambda));
    files.push(join(reportDir, svg));
    md.push('', '### λ validation (inner leave-one-out split of the training data)', '', `![λ validation](${svg})`, '');
    md.push('| λ | recall@10 | NDCG@10 |', '|---:|---:|---:|');
    for (const c of r.curve) md.push(`| ${c.lambda.toPrecision(4)} | ${c.recall.toFixed(4)} | ${c.ndcg.toFixed(4)} |`);
  }
  if (r.evaluation) {
    const e = r.evaluation;
    const svg = 'evaluation.svg';
    await writeFile(join(reportDir, svg), evaluationBarsSvg(`${r.name}: leave-one-out, ${e.users} users`, e));
    files.push(join(reportDir, svg));
    md.push(
      '',
      '## Evaluation',
      '',
      `Leave-one-out: one item held out per user with ≥ 2 items (seed ${e.seed}, ${e.users} users); every method is fitted on the same`,
      `training split; already-seen items are excluded from the ranking; ties count in expectation. The model row runs the exported`,
      `ONNX file through onnxruntime-node.`,
      '',
      formatTable(e),
      '',
      `![evaluation](${svg})`,
    );
  }
  if (r.extra) md.push('', r.extra);
  await writeFile(join(reportDir, 'README.md'), md.join('\n') + '\n');
  files.push(join(reportDir, 'README.md'));
  return files;
}
