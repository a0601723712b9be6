#!/usr/bin/env node
/**
 * The `playmind` command: import, validate, train-recs.
 */
import { importModel } from './import.js';
import { validateModelDir } from './validate.js';

const HELP = `playmind — game-AI models for games

Usage:
  playmind import <file.onnx> [--name N] [--into models/] [--force]
      Inspect an ONNX file (Unity ML-Agents, Godot RL Agents, or any model as kind
      "tensor"), write <into>/<name>/manifest.json and <into>/<name>/<version>/model.onnx,
      and check that it loads.
  playmind validate <model-dir>
      Check a model folder (manifest and every version) and print every problem.
  playmind train-recs --interactions <file> --user-col C --item-col C [--weight-col C]
      [--format tsv|csv|jsonl] --out models/<name>
      Train a recommender on an interaction log (see playmind train-recs --help).
  playmind --help
`;

/** Parses `--key value` and `--flag` arguments. */
export function parseArgs(argv: readonly string[]): { positional: string[]; flags: Record<string, string | true> } {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[a.slice(2)] = argv[++i]!;
      else flags[a.slice(2)] = true;
    } else positional.push(a);
  }
  return { positional, flags };
}

/** Runs the CLI. @returns the exit code */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  const { positional, flags } = parseArgs(rest);
  try {
    switch (command) {
      case 'import': {
        if (flags.help) {
          process.stdout.write(HELP);
          return 0;
        }
        const file = positional[0];
        if (!file) {
          process.stderr.write('playmind import: missing <file.onnx>\n');
          return 2;
        }
        const r = await importModel(file, {
          name: str(flags.name),
          into: str(flags.into),
          force: flags.force === true,
        });
        process.stdout.write(
          `imported ${file} as ${r.name} version ${r.version} (${r.format}, kind ${r.kind}) into ${r.dir}\n`,
        );
        for (const n of r.notes) process.stdout.write(`  - ${n}\n`);
        return 0;
      }
      case 'validate': {
        const dir = positional[0];
        if (!dir) {
          process.stderr.write('playmind validate: missing <model-dir>\n');
          return 2;
        }
        const r = await validateModelDir(dir);
        for (const v of r.versions)
          process.stdout.write(`version ${v.version}: ${v.ok ? `ok (sha256 ${v.sha256})` : 'refused'}\n`);
        if (r.problems.length === 0) {
          process.stdout.write(`${r.dir}: valid\n`);
          return 0;
        }
        process.stdout.write(`${r.dir}: ${r.problems.length} problem(s)\n`);
        for (const p of r.problems) process.stdout.write(`  - ${p}\n`);
        return 1;
      }
      case 'train-recs': {
        const { trainRecsCommand } = await import('./train-recs.js');
        return await trainRecsCommand([...rest]);
      }
      default:
        process.stderr.write(`playmind: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`playmind ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

function str(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

const invokedDirectly =
  typeof process !== 'undefined' && process.argv[1] && /cli[\\/]main\.(js|ts)$/.test(process.argv[1]);
if (invokedDirectly || process.argv[1]?.endsWith('/playmind')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
