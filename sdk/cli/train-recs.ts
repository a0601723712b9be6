/**
 * `playmind train-recs`: trains a recommender from any interaction log and writes
 * a model folder (manifest with the item catalogue, ONNX model, report).
 *
 * @example
 * playmind train-recs --interactions plays.tsv --user-col User_ID --item-col Game_ID \
 *   --weight-col Hours --out models/game-recs --eval
 */
import { parseArgs } from 'node:util';
import { LOG_FORMATS, type LogFormat } from '../../models/train/recs/interactions.js';
import { trainRecsPipeline } from '../../models/train/recs/pipeline.js';
import { formatTable } from '../../models/train/recs/evaluate.js';
import { silentProgress, streamProgress } from '../../models/train/progress.js';
import { ErrorCode, PlaymindError } from '../protocol.js';

/** The command's usage text. */
export const TRAIN_RECS_USAGE = `Usage: playmind train-recs --interactions <file> --user-col <c> --item-col <c> --out models/<name> [options]

Trains an EASE item-to-item recommender on an interaction log and writes
<out>/manifest.json, <out>/<version>/model.onnx and <out>/report/.

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

function usageError(message: string): PlaymindError {
  return new PlaymindError(ErrorCode.INVALID_ARGUMENT, message, { details: { usage: true } });
}

function int(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usageError(`${flag} must be an integer ≥ ${min} (got "${value}")`);
  return n;
}

/**
 * Runs `train-recs`.
 * @param argv - the arguments after the command name
 * @param io - where output goes (stdout for results, stderr for progress and errors)
 * @returns the exit code: 0 done, 1 failed, 2 bad arguments
 * @example process.exitCode = await trainRecsCommand(process.argv.slice(3));
 */
export async function trainRecsCommand(
  argv: string[],
  io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WriteStream } = {},
): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
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
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      stdout.write(TRAIN_RECS_USAGE);
      return 0;
    }
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
    const format = values.format as LogFormat | undefined;
    const progress = values.quiet ? silentProgress : streamProgress(stderr);
    const log = values.quiet ? () => {} : (line: string) => stderr.write(`${line}\n`);
    const started = Date.now();
    const result = await trainRecsPipeline({
      interactions: values.interactions!,
      columns: { userCol: values['user-col']!, itemCol: values['item-col']!, weightCol: values['weight-col'], format },
      titles: values.titles
        ? {
            file: values.titles,
            itemCol: values['title-item-col'] ?? values['item-col']!,
            titleCol: values['title-col'] ?? 'title',
          }
        : undefined,
      out: values.out!,
      name: values.name,
      version: int(values.version, '--version', 1),
      seed: int(values.seed, '--seed', 0),
      lambda,
      minItemCount: int(values['min-item-count'], '--min-item-count', 1),
      maxItems: int(values['max-items'], '--max-items', 1),
      topK: int(values['top-k'], '--top-k', 1),
      evaluate: values.eval ?? false,
      command: `playmind train-recs ${argv.join(' ')}`,
      progress,
      log,
    });
    const m = result.model;
    stdout.write(
      `wrote ${result.written.dir} (${m.catalogue.length} items, ${m.kept.length} modelled, λ=${m.lambda.toPrecision(4)}, sha256 ${result.written.sha256.slice(0, 12)}…) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    if (result.evaluation)
      stdout.write(`\nleave-one-out, ${result.evaluation.users} users:\n${formatTable(result.evaluation)}\n`);
    return 0;
  } catch (err) {
    const usage =
      (err instanceof PlaymindError && err.details.usage === true) ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    stderr.write(`train-recs: ${(err as Error).message}\n`);
    if (usage) {
      stderr.write(`Run "playmind train-recs --help" for the options.\n`);
      return 2;
    }
    return 1;
  }
}
