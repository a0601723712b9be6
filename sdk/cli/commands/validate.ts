/**
 * `playmind validate <dir>`: the command around {@link validateModelDir}.
 *
 * @module
 */
import { validateModelDir } from '../validate.js';
import { defineCommand } from '../command.js';

const USAGE = `Usage: playmind validate <model-dir>

Checks a model folder: its manifest against the schema, and every version's model
file against the manifest (onnxruntime accepts it, the inputs and outputs match, a
warm-up batch runs). Prints every problem found.

Options
  -h, --help   this text

Exit codes: 0 valid, 1 problems found, 2 bad arguments.
`;

/** `playmind validate`. */
export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check a model folder (manifest and every version) and print every problem',
  usage: USAGE,
  options: {},
  positionals: { min: 1, max: 1, name: '<model-dir>' },
  async run({ positionals }, io) {
    const r = await validateModelDir(positionals[0]!);
    for (const v of r.versions)
      io.stdout.write(`version ${v.version}: ${v.ok ? `ok (sha256 ${v.sha256})` : 'refused'}\n`);
    if (r.problems.length === 0) {
      io.stdout.write(`${r.dir}: valid\n`);
      return 0;
    }
    io.stdout.write(`${r.dir}: ${r.problems.length} problem(s)\n`);
    for (const p of r.problems) io.stdout.write(`  - ${p}\n`);
    return 1;
  },
});
