/**
 * Regenerates the shipped `models/quest-recs` model:
 *
 * 1. simulates quest telemetry for 3000 seeded players into
 *    `models/train/recs/data/quest-telemetry.jsonl` (not committed; same bytes every run);
 * 2. trains through the same pipeline as `playmind train-recs` (columns player/quest,
 *    multi-hot: a quest the player took, whatever the outcome), with the leave-one-out
 *    evaluation against popularity and item-kNN;
 * 3. checks the shipped model on 1000 new players it never saw (seed 2);
 * 4. writes `models/quest-recs/report/` (README, evaluation and λ charts).
 *
 * Run: `npx tsx models/train/recs/train-quest-recs.ts`
 */
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluateModelFolder, formatTable, type EvalReport } from '../../../sdk/recs/evaluate.js';
import { trainRecsPipeline, type PipelineResult } from '../../../sdk/recs/pipeline.js';
import { streamProgress, silentProgress } from '../progress.js';
import { questCatalogue } from './quests.js';
import { simulateTelemetry, writeTelemetry } from './telemetry.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The repository root. */
export const REPO_ROOT = resolve(here, '../../..');

/** Options of {@link trainQuestRecs}. */
export interface QuestRecsOptions {
  /** Model folder. @default models/quest-recs */
  out?: string;
  /** Telemetry file. @default models/train/recs/data/quest-telemetry.jsonl */
  telemetryFile?: string;
  /** @default 3000 */
  players?: number;
  /** @default 1 */
  seed?: number;
  /** New players for the held-out check. @default 1000 */
  freshPlayers?: number;
  /** @default true */
  progress?: boolean;
}

/** The held-out population: new players (ids from 100001), another seed. */
export function freshTelemetry(players = 1000, seed = 2) {
  return simulateTelemetry({ players, seed, firstPlayer: 100_001 });
}

/**
 * Simulates telemetry, trains, evaluates and writes quest-recs.
 * @returns the pipeline result and the check on new players
 */
export async function trainQuestRecs(options: QuestRecsOptions = {}): Promise<PipelineResult & { fresh: EvalReport }> {
  const {
    out = join(REPO_ROOT, 'models/quest-recs'),
    telemetryFile = join(REPO_ROOT, 'models/train/recs/data/quest-telemetry.jsonl'),
    players = 3000,
    seed = 1,
    freshPlayers = 1000,
  } = options;
  const events = await writeTelemetry(telemetryFile, { players, seed });
  const log = options.progress === false ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  log(`telemetry: ${events.length} events from ${players} players → ${telemetryFile}`);
  let fresh: EvalReport | undefined;
  const result = await trainRecsPipeline({
    interactions: telemetryFile,
    columns: { userCol: 'player', itemCol: 'quest', format: 'jsonl' },
    catalogue: questCatalogue(),
    out,
    name: 'quest-recs',
    seed,
    evaluate: true,
    source: `simulated quest telemetry: ${players} seeded personas (seed ${seed}), ${events.length} JSONL events; a quest counts once per player whatever its outcome`,
    command: 'npx tsx models/train/recs/train-quest-recs.ts',
    progress: options.progress === false ? silentProgress : streamProgress(),
    log,
    extraReport: async (written) => {
      const events2 = freshTelemetry(freshPlayers, seed + 1);
      fresh = await evaluateModelFolder(
        written.dir,
        events2.map((e) => ({ user: e.player, item: e.quest, weight: 1 })),
        { seed: seed + 1 },
      );
      return [
        '## Check on players the model never saw',
        '',
        `${freshPlayers} new players simulated with seed ${seed + 1} (ids from p-100001); leave-one-out on them; the shipped`,
        `model (trained on all ${players} training players) is fed their remaining history; popularity is the cold-start ranking in the`,
        `manifest.`,
        '',
        formatTable(fresh),
        '',
        'Steam user-behaviour data, same trainer: [steam.md](steam.md).',
      ].join('\n');
    },
  });
  return { ...result, fresh: fresh! };
}

/** Entry point for `npm run train` and `npx tsx models/train/recs/train-quest-recs.ts`. */
export async function main(): Promise<void> {
  const started = Date.now();
  const r = await trainQuestRecs();
  console.log(`quest-recs: wrote ${r.written.dir} (sha256 ${r.written.sha256})`);
  if (r.evaluation)
    console.log(
      `\nleave-one-out on the training population (${r.evaluation.users} users):\n${formatTable(r.evaluation)}`,
    );
  console.log(`\nnew players (${r.fresh.users} users):\n${formatTable(r.fresh)}`);
  console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
