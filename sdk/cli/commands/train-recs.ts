/**
 * `playmind train-recs`: trains a recommender from any interaction log and writes
 * a model folder (manifest with the item catalogue, ONNX model, report).
 *
 * @example
 * playmind train-recs --interactions plays.tsv --user-col User_ID --item-col Game_ID \
 *   --weight-col Hours --out models/game-recs --eval
 */
import { dirname } from 'node:path';
import { LOG_FORMATS, type LogFormat } from '../../recs/interactions.js';
import { trainRecsPipeline } from '../../recs/pipeline.js';
import { formatTable } from '../../recs/evaluate.js';
import { lineProgress, silentProgress } from '../../recs/progress.js';
import { describeWrittenIndex, writeModelIndex } from '../../repository/write-model-index.js';
import { defineCommand, intFlag, usageError } from '../command.js';

/** The command's usage text. */
export const TRAIN_RECS_USAGE = `Usage: playmind train-recs --interactions <file> --user-col <c> --item-col <c> --out models/<name> [options]

Trains an EASE item-to-item recommender on an interaction log and writes
<out>/manifest.json, <out>/<version>/model.onnx and <out>/report/, then updates
the index.json of the folder that holds <out> (the listing a browser game reads).

Input
  --interactions <file>   the log: tsv, csv (header row) or jsonl (one object per line)
  --format tsv|csv|jsonl  default: from the extension (.tsv .tab .dat, .csv, .jsonl .ndjson)
  --user-col <c>          column (or JSON key) with the user id
  --item-col <c>          column (or JSON key) with the item id
  --weight-col <c>        numeric column (e.g. hours played); the model then takes
                          weighted history (log1p in the graph); default: multi-hot
  --titles <file>         item titles (tsv/csv/jsonl with a header)
  --title-item-col <c>    item id column of the titles file (default: --item-col)
  --title-col <c>         title column of the titles file (default: title)

Output
  --out <dir>             model folder, e.g. models/shop-recs
  --name <name>           model name (default: the folder's name)
  --version <n>           version folder to write (default 1)

Training
  --seed <n>              seed of the validation and evaluation splits (default 1)
  --lambda <x|auto>       ridge strength λ (default auto: chosen on a validation split)
  --min-item-count <n>    users an item needs to be modelled (default 2)
  --max-items <n>         most items modelled (default 2000; the fit is O(n³))
  --top-k <n>             width of the top_scores/top_indices outputs (default 20)
  --eval                  leave-one-out evaluation vs popularity and item-kNN first
  --quiet                 no progress on stderr
  -h, --help              this text

Exit codes: 0 done, 1 failed (bad file, training error), 2 bad arguments.
`;

/** `playmind train-recs`. */
export const trainRecsCommand = defineCommand({
  name: 'train-recs',
  summary: 'train a recommender (EASE) on an interaction log (tsv, csv, jsonl) and write its model folder',
  usage: TRAIN_RECS_USAGE,
  options: {
    interactions: { type: 'string' },
    format: { type: 'string' },
    'user-col': { type: 'string' },
    'item-col': { type: 'string' },
    'weight-col': { type: 'string' },
    titles: { type: 'string' },
    'title-item-col': { type: 'string' },
    'title-col': { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    seed: { type: 'string' },
    lambda: { type: 'string' },
    'min-item-count': { type: 'string' },
    'max-items': { type: 'string' },
    'top-k': { type: 'string' },
    eval: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  async run({ values }, io, argv) {
    const missing = (['interactions', 'user-col', 'item-col', 'out'] as const).filter((k) => !values[k]);
    if (missing.length > 0) throw usageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
    if (values.format !== undefined && !LOG_FORMATS.includes(values.format as LogFormat)) {
      throw usageError(`--format must be tsv, csv or jsonl (got "${values.format}")`);
    }
    let lambda: number | 'auto' | undefined;
    if (values.lambda !== undefined && values.lambda !== 'auto') {
      lambda = Number(values.lambda);
      if (!(lambda > 0)) throw usageError(`--lambda must be a positive number or "auto" (got "${values.lambda}")`);
    }
    const version = intFlag(values.version, '--version', 1);
    const seed = intFlag(values.seed, '--seed', 0);
    const minItemCount = intFlag(values['min-item-count'], '--min-item-count', 1);
    const maxItems = intFlag(values['max-items'], '--max-items', 1);
    const topK = intFlag(values['top-k'], '--top-k', 1);
    const progress = values.quiet ? silentProgress : lineProgress(io.stderr);
    const log = values.quiet ? () => {} : (line: string) => io.stderr.write(`${line}\n`);
    const started = Date.now();
    const result = await trainRecsPipeline({
      interactions: values.interactions!,
      columns: {
        userCol: values['user-col']!,
        itemCol: values['item-col']!,
        weightCol: values['weight-col'],
        format: values.format as LogFormat | undefined,
      },
      titles: values.titles
        ? {
            file: values.titles,
            itemCol: values['title-item-col'] ?? values['item-col']!,
            titleCol: values['title-col'] ?? 'title',
          }
        : undefined,
      out: values.out!,
      name: values.name,
      version,
      seed,
      lambda,
      minItemCount,
      maxItems,
      topK,
      evaluate: values.eval ?? false,
      command: ['playmind train-recs', ...argv].join(' '),
      progress,
      log,
    });
    const m = result.model;
    io.stdout.write(
      `wrote ${result.written.dir} (${m.catalogue.length} items, ${m.kept.length} modelled, λ=${m.lambda.toPrecision(4)}, sha256 ${result.written.sha256.slice(0, 12)}…) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const index = await writeModelIndex(dirname(result.written.dir));
    io.stdout.write(`${describeWrittenIndex(index)}\n`);
    if (result.evaluation)
      io.stdout.write(`\nleave-one-out, ${result.evaluation.users} users:\n${formatTable(result.evaluation)}\n`);
    return 0;
  },
});
