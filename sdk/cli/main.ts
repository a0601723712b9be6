#!/usr/bin/env node
/**
 * The `playmind` command: one entry, one subcommand per file in `commands/`, each
 * parsed strictly (see `command.ts`).
 *
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo, Command } from './command.js';
import { copyRuntimeCommand } from './commands/copy-runtime.js';
import { importCommand } from './commands/import.js';
import { indexCommand } from './commands/index-json.js';
import { trainRecsCommand } from './commands/train-recs.js';
import { validateCommand } from './commands/validate.js';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  importCommand,
  validateCommand,
  trainRecsCommand,
  indexCommand,
  copyRuntimeCommand,
];

/** This package's version, read from its package.json. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'playmind' && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `playmind ${packageVersion()} — game-AI models for games

Usage: playmind <command> [options]

Commands
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "playmind <command> --help" for a command's options.
  -h, --help     this text
  -v, --version  the version
`;
}

/**
 * Runs the CLI.
 * @param argv - the arguments after `playmind`
 * @returns the exit code: 0 done, 1 failed, 2 bad arguments
 */
export async function main(argv: readonly string[], ioArg: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { stdout: ioArg.stdout ?? process.stdout, stderr: ioArg.stderr ?? process.stderr };
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(help());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.stdout.write(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help') {
    const target = COMMANDS.find((c) => c.name === rest[0]);
    io.stdout.write(target ? target.usage : help());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`playmind: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  return command.execute(rest, io);
}

/** Whether this file is the process's entry (`playmind …`, `node dist/sdk/cli/main.js …`), not an import. */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`playmind: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
