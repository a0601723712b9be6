/**
 * `playmind index <models-dir>`: writes the folder's `index.json`, the listing a
 * browser game reads when the folder is served as static files.
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { describeWrittenIndex, writeModelIndex } from '../../repository/write-model-index.js';
import { ErrorCode, PlaymindError } from '../../protocol.js';
import { defineCommand } from '../command.js';

const USAGE = `Usage: playmind index <models-dir>

Writes <models-dir>/index.json: every model folder in it and its version folders,
the listing the browser build of playmind/sdk reads (createBrain({ models: URL })).
"playmind import" and "playmind train-recs" keep it up to date; run this after
adding or removing model folders by hand.

Options
  -h, --help   this text
`;

/** `playmind index`. */
export const indexCommand = defineCommand({
  name: 'index',
  summary: "write a model folder's index.json (the listing a browser game reads)",
  usage: USAGE,
  options: {},
  positionals: { min: 1, max: 1, name: '<models-dir>' },
  async run({ positionals }, io) {
    const dir = positionals[0]!;
    const s = await stat(dir).catch(() => null);
    if (!s?.isDirectory())
      throw new PlaymindError(ErrorCode.MODELS_NOT_FOUND, `${dir}: no such folder`, { details: { models: dir } });
    const r = await writeModelIndex(dir);
    io.stdout.write(`${describeWrittenIndex(r)}\n`);
    return 0;
  },
});
