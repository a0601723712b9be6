/**
 * `playmind validate <dir>`: the command around {@link validatePath}.
 *
 * @module
 */
import { validatePath, type ValidationReport } from '../validate.js';
import { defineCommand, type CliIo } from '../command.js';

const USAGE = `Usage: playmind validate <model-dir | models-dir> [--heuristic <name>]...

Checks a model folder: its manifest against the schema (unknown keys included), the
fallback heuristic it names, and every version's model file against the manifest
(onnxruntime accepts it, the inputs and outputs match, a warm-up batch runs). Prints
every problem found, once each. Given a repository (a folder of model folders), lists
its models, checks each one, and checks its index.json (the listing a browser reads).

Options
  --heuristic <name>   a heuristic your game registers (createBrain({ heuristics })),
                       besides the builtin ones; repeat for several
  -h, --help           this text

Exit codes: 0 valid, 1 problems found, 2 bad arguments.
`;

function printModel(io: CliIo, r: ValidationReport, indent: string): void {
  for (const v of r.versions)
    io.stdout.write(`${indent}version ${v.version}: ${v.ok ? `ok (sha256 ${v.sha256})` : 'refused'}\n`);
  if (r.problems.length === 0) io.stdout.write(`${indent}${r.dir}: valid\n`);
  else {
    io.stdout.write(`${indent}${r.dir}: ${r.problems.length} problem(s)\n`);
    for (const p of r.problems) io.stdout.write(`${indent}  - ${p}\n`);
  }
}

/** `playmind validate`. */
export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check a model folder, or every model of a repository, and print every problem',
  usage: USAGE,
  options: { heuristic: { type: 'string', multiple: true } },
  positionals: { min: 1, max: 1, name: '<model-dir>' },
  async run({ values, positionals }, io) {
    const r = await validatePath(positionals[0]!, { heuristics: values.heuristic });
    if (r.kind === 'model') {
      printModel(io, r.report, '');
      return r.report.problems.length === 0 ? 0 : 1;
    }
    const repo = r.report;
    io.stdout.write(
      `${repo.dir}: a model repository with ${repo.models.length} model(s): ${repo.models.map((m) => m.dir.slice(repo.dir.length + 1)).join(', ')}\n`,
    );
    for (const m of repo.models) {
      io.stdout.write(`${m.dir.slice(repo.dir.length + 1)}:\n`);
      printModel(io, m, '  ');
    }
    io.stdout.write(
      `index.json: ${repo.index}${repo.index === 'missing' ? ' (needed only to serve the folder to a browser: playmind index)' : ''}\n`,
    );
    for (const p of repo.problems) io.stdout.write(`  - ${p}\n`);
    const total = repo.problems.length + repo.models.reduce((n, m) => n + m.problems.length, 0);
    io.stdout.write(total === 0 ? `${repo.dir}: valid\n` : `${repo.dir}: ${total} problem(s)\n`);
    return total === 0 ? 0 : 1;
  },
});
