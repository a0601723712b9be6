/**
 * `playmind import <file.onnx>`: the command around {@link importModel}; it then
 * updates the repository's `index.json`.
 *
 * @module
 */
import { GODOT_DECODINGS, type GodotDecoding } from '../../contract/format-godot-rl.js';
import { importModel } from '../import.js';
import { describeWrittenIndex, writeModelIndex } from '../../repository/write-model-index.js';
import { defineCommand, usageError } from '../command.js';

const USAGE = `Usage: playmind import <file.onnx> [--name <name>] [--into <models-dir>] [--force]
                       [--actions <json|file>] [--godot-decoding <argmax|argmax-from-zero|round>]

Inspects an ONNX file (a Unity ML-Agents or Godot RL Agents export, or any model as
kind "tensor"), writes <into>/<name>/manifest.json and <into>/<name>/<version>/model.onnx,
checks that it loads as the server would load it, and updates <into>/index.json (the
listing a browser game reads, so the folder can be served as plain static files).
It prints what it recognised in the file and what it assumed where the file says nothing.

Options
  --name <name>        model name (default: the file's name)
  --into <models-dir>  the model repository folder (default: models)
  --force              add a version to an existing model folder
  --actions <json|file>
                       Godot RL Agents: the agent's action space, the dictionary its
                       AIController.get_action_space() returns (JSON text or a file), e.g.
                       '{"move": {"size": 2, "action_type": "continuous"},
                         "jump": {"size": 2, "action_type": "discrete"}}'
  --godot-decoding <argmax|argmax-from-zero|round>
                       how the game's Godot RL plugin decodes actions (its sync.gd):
                       argmax (2025-05 on, the default), argmax-from-zero (2024-04 to
                       2025-05), round (2023-04 to 2024-04)
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
    actions: { type: 'string' },
    'godot-decoding': { type: 'string' },
  },
  positionals: { min: 1, max: 1, name: '<file.onnx>' },
  async run({ values, positionals }, io) {
    const file = positionals[0]!;
    const decoding = values['godot-decoding'];
    if (decoding !== undefined && !GODOT_DECODINGS.includes(decoding as GodotDecoding))
      throw usageError(`--godot-decoding must be one of ${GODOT_DECODINGS.join(', ')} (got "${decoding}")`);
    const r = await importModel(file, {
      name: values.name,
      into: values.into,
      force: values.force ?? false,
      actions: values.actions,
      godotDecoding: decoding as GodotDecoding | undefined,
    });
    io.stdout.write(`imported ${file} as ${r.name} version ${r.version} (${r.format}, kind ${r.kind}) into ${r.dir}\n`);
    io.stdout.write('  recognised:\n');
    for (const n of r.recognised) io.stdout.write(`    - ${n}\n`);
    io.stdout.write(`  assumed:${r.assumed.length === 0 ? ' nothing' : ''}\n`);
    for (const n of r.assumed) io.stdout.write(`    - ${n}\n`);
    const index = await writeModelIndex(values.into ?? 'models');
    io.stdout.write(`${describeWrittenIndex(index)}\n`);
    return 0;
  },
});
