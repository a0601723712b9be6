/**
 * `playmind import <file.onnx>`: the command around {@link importModel}; it then
 * updates the repository's `index.json`.
 *
 * @module
 */
import { importModel } from '../import.js';
import { describeWrittenIndex, writeModelIndex } from '../../repository/write-model-index.js';
import { defineCommand } from '../command.js';

const USAGE = `Usage: playmind import <file.onnx> [--name <name>] [--into <models-dir>] [--force]

Inspects an ONNX file (a Unity ML-Agents or Godot RL Agents export, or any model as
kind "tensor"), writes <into>/<name>/manifest.json and <into>/<name>/<version>/model.onnx,
checks that it loads as the server would load it, and updates <into>/index.json (the
listing a browser game reads, so the folder can be served as plain static files).

Options
  --name <name>        model name (default: the file's name)
  --into <models-dir>  the model repository folder (default: models)
  --force              add a version to an existing model folder
  -h, --help           this text

Exit codes: 0 imported, 1 refused (the file and the reason are printed), 2 bad arguments.
`;

/** `playmind import`. */
export const importCommand = defineCommand({
  name: 'import',
  summary: 'inspect an ONNX file (ML-Agents, Godot RL Agents, any model) and add it to a model folder',
  usage: USAGE,
  // Options of the import; each is passed to importModel below.
  options: {
    name: { type: 'string' },
    into: { type: 'string' },
    force: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1, name: '<file.onnx>' },
  async run({ values, positionals }, io) {
    const file = positionals[0]!;
    const r = await importModel(file, { name: values.name, into: values.into, force: values.force ?? false });
    io.stdout.write(`imported ${file} as ${r.name} version ${r.version} (${r.format}, kind ${r.kind}) into ${r.dir}\n`);
    for (const n of r.notes) io.stdout.write(`  - ${n}\n`);
    const index = await writeModelIndex(values.into ?? 'models');
    io.stdout.write(`${describeWrittenIndex(index)}\n`);
    return 0;
  },
});
