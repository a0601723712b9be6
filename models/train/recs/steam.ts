/**
 * Runs the recommender trainer on the Steam user-behaviour data (steam-200k,
 * reorganised) from `${PLAYMIND_COMPAT_DIR ?? '../shared/compat'}/steam`:
 *
 * - purchases (`game_purchase.dat`): multi-hot history;
 * - play hours (`game_play.dat`): weighted history (log1p of hours in the graph).
 *
 * Each run trains into a temporary folder (the data is not ours to ship) with the
 * leave-one-out evaluation against popularity and item-kNN, and the tables are
 * written to `models/quest-recs/report/steam.md` with a chart per run.
 *
 * Run: `npx tsx models/train/recs/steam.ts`
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, type EvalReport } from '../../../sdk/recs/evaluate.js';
import { readInteractions, type Interaction } from '../../../sdk/recs/interactions.js';
import { trainRecsPipeline } from '../../../sdk/recs/pipeline.js';
import { silentProgress, streamProgress } from '../progress.js';
import { evaluationBarsSvg } from '../../../sdk/recs/report.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The Steam folder: `$PLAYMIND_COMPAT_DIR/steam`, default `../shared/compat/steam` from the repository root. */
export function steamDir(): string {
  return join(resolve(REPO_ROOT, process.env.PLAYMIND_COMPAT_DIR ?? '../shared/compat'), 'steam');
}

/** One Steam variant. */
export interface SteamVariant {
  id: 'purchases' | 'play-hours';
  file: string;
  weightCol?: string;
  label: string;
}

export const STEAM_VARIANTS: readonly SteamVariant[] = [
  { id: 'purchases', file: 'game_purchase.dat', label: 'purchases (multi-hot)' },
  { id: 'play-hours', file: 'game_play.dat', weightCol: 'Hours', label: 'play hours (weighted, log1p)' },
];

/** Options of {@link runSteam}. */
export interface SteamOptions {
  /** @default {@link steamDir} */
  dir?: string;
  /** Variants to run. @default both */
  variants?: ReadonlyArray<SteamVariant['id']>;
  /** Keep every n-th user (by first appearance) for a quick run. @default 1 (all) */
  userStride?: number;
  /** Most items modelled. @default 2000 */
  maxItems?: number;
  /** λ candidates (multiples of the mean Gram diagonal). @default [0.1, 0.3, 1, 3, 10] */
  lambdaGrid?: readonly number[];
  /** Where to write the Markdown report (omitted: not written). */
  reportFile?: string;
  /** @default 1 */
  seed?: number;
  /** Item-kNN neighbourhood. @default 100 (the best of 20, 100, 400 and all on this data) */
  knnNeighbours?: number;
  progress?: boolean;
}

/** The outcome of one variant. */
export interface SteamResult {
  variant: SteamVariant;
  evaluation: EvalReport;
  users: number;
  items: number;
  pairs: number;
  coveredItems: number;
  lambda: number;
  lambdaMultiple: number;
  seconds: number;
}

function everyNthUser(rows: readonly Interaction[], stride: number): Interaction[] {
  if (stride <= 1) return [...rows];
  const index = new Map<string, number>();
  return rows.filter((r) => {
    let i = index.get(r.user);
    if (i === undefined) index.set(r.user, (i = index.size));
    return i % stride === 0;
  });
}

/**
 * Trains and evaluates on the Steam data.
 * @returns one result per variant, or `undefined` when the folder is absent
 */
export async function runSteam(options: SteamOptions = {}): Promise<SteamResult[] | undefined> {
  const dir = options.dir ?? steamDir();
  if (!existsSync(join(dir, 'game_purchase.dat'))) return undefined;
  const { userStride = 1, maxItems = 2000, lambdaGrid = [0.1, 0.3, 1, 3, 10], seed = 1, knnNeighbours = 100 } = options;
  const progress = options.progress === false ? silentProgress : streamProgress();
  const log = options.progress === false ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const results: SteamResult[] = [];
  for (const variant of STEAM_VARIANTS.filter((v) => !options.variants || options.variants.includes(v.id))) {
    const started = Date.now();
    const file = join(dir, variant.file);
    const read = await readInteractions(file, { userCol: 'User_ID', itemCol: 'Game_ID', weightCol: variant.weightCol });
    const interactions = everyNthUser(read.interactions, userStride);
    const out = await mkdtemp(join(tmpdir(), `playmind-steam-${variant.id}-`));
    try {
      log(
        `steam ${variant.label}: ${interactions.length} rows${userStride > 1 ? ` (every ${userStride}th user)` : ''}`,
      );
      const r = await trainRecsPipeline({
        interactions,
        weighted: variant.weightCol !== undefined,
        titles: { file: join(dir, 'item_info.dat'), itemCol: 'Game_ID', titleCol: 'Game Name' },
        out,
        name: `steam-${variant.id}`,
        seed,
        maxItems,
        lambdaGrid,
        evaluate: true,
        knnNeighbours,
        progress,
        log,
      });
      const ev = r.evaluation!;
      const stats = r.model.dataset;
      results.push({
        variant,
        evaluation: ev,
        users: stats.users.length,
        items: stats.items.length,
        pairs: stats.indices.length,
        coveredItems: r.model.kept.length,
        lambda: r.model.lambda,
        lambdaMultiple: r.model.lambdaScale,
        seconds: (Date.now() - started) / 1000,
      });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
  if (options.reportFile) await writeSteamReport(options.reportFile, results, { userStride, maxItems, seed });
  return results;
}

/** Writes the Steam Markdown report (and an SVG per variant next to it). */
export async function writeSteamReport(
  file: string,
  results: readonly SteamResult[],
  o: { userStride: number; maxItems: number; seed: number },
): Promise<void> {
  const dir = resolve(file, '..');
  await mkdir(dir, { recursive: true });
  const md: string[] = [
    '# Steam user behaviour: the same trainer on real data',
    '',
    'Data: steam-200k (Kaggle, Tamber), reorganised by A. Fortes — read from `../shared/compat/steam`',
    '(`PLAYMIND_COMPAT_DIR`), not shipped. Each variant trains the quest-recs trainer (EASE, λ on a validation split) into a',
    'temporary folder and evaluates leave-one-out (one held-out game per user with ≥ 2 games, seeded; games the user already has',
    'excluded; the model scored from its exported ONNX file by onnxruntime-node; popularity and item-kNN cosine fitted on the',
    "same split, over all games). item-kNN keeps each game's 100 most similar games: of 20, 100, 400 and all neighbours, 100",
    'scored best on these splits (chosen on the test split, which can only flatter the baseline).',
    '',
    `Regenerate: \`npx tsx models/train/recs/steam.ts\` (seed ${o.seed}, at most ${o.maxItems} games modelled${o.userStride > 1 ? `, every ${o.userStride}th user` : ''}).`,
  ];
  for (const r of results) {
    const svg = `steam-${r.variant.id}.svg`;
    await writeFile(
      join(dir, svg),
      evaluationBarsSvg(`Steam ${r.variant.label}: ${r.evaluation.users} users`, r.evaluation),
    );
    md.push(
      '',
      `## ${r.variant.label} — \`${r.variant.file}\``,
      '',
      `${r.users} users, ${r.items} games, ${r.pairs} user–game pairs; ${r.coveredItems} games modelled; λ = ${r.lambda.toPrecision(4)} (${r.lambdaMultiple} × mean Gram diagonal); ${r.evaluation.users} users evaluated; ${r.seconds.toFixed(1)} s in all.`,
      '',
      formatTable(r.evaluation),
      '',
      `![${r.variant.label}](${svg})`,
    );
  }
  await writeFile(file, md.join('\n') + '\n');
}

/** Entry point for `npm run train` and `npx tsx models/train/recs/steam.ts`. */
export async function main(): Promise<void> {
  const reportFile = join(REPO_ROOT, 'models/quest-recs/report/steam.md');
  const results = await runSteam({ reportFile });
  if (!results) {
    console.log(`steam: skipped, ${steamDir()} is absent (set PLAYMIND_COMPAT_DIR)`);
    return;
  }
  for (const r of results)
    console.log(
      `\nSteam ${r.variant.label} (${r.evaluation.users} users, ${r.seconds.toFixed(1)} s):\n${formatTable(r.evaluation)}`,
    );
  console.log(`\nwrote ${reportFile}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
