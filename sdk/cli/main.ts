#!/usr/bin/env node
/**
 * The `playmind` command: one entry, one subcommand per file in `commands/`, each
 * parsed strictly (see `command.ts`). The package's `playmind` bin (`server/cli.ts`)
 * runs {@link main} with these commands and the server's (`replay`), through the
 * hosting seam's `runCli` (`sdk/runtime.ts`).
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

function help(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `playmind ${packageVersion()} — game-AI models for games

Usage: playmind <command> [options]

Commands
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "playmind <command> --help" for a command's options.
  -h, --help     this text
  -v, --version  the version
`;
}

/**
 * Runs the CLI.
 * @param argv - the arguments after `playmind`
 * @param ioArg - where it writes @default the process's stdout and stderr
 * @param commands - the subcommands: the package's `playmind` bin (`server/cli.ts`) adds the
 *   server's (`replay`) to these @default COMMANDS
 * @returns the exit code: 0 done, 1 failed, 2 bad arguments
 */
export async function main(
  argv: readonly string[],
  ioArg: Partial<CliIo> = {},
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const io: CliIo = { stdout: ioArg.stdout ?? process.stdout, stderr: ioArg.stderr ?? process.stderr };
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(help(commands));
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.stdout.write(help(commands));
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    io.stdout.write(target ? target.usage : help(commands));
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`playmind: unknown command "${name}"\n\n${help(commands)}`);
    return 2;
  }
  return command.execute(rest, io);
}

/**
 * Whether a module is the process's entry (`playmind …`, `node dist/sdk/cli/main.js …`), not an import.
 * @param moduleUrl - the module's `import.meta.url`
 */
export function isEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Runs the CLI as the process (exits with its code).
 * @param commands - the subcommands @default COMMANDS
 */
export function runAsProcess(commands: readonly Command[] = COMMANDS): void {
  main(process.argv.slice(2), {}, commands).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`playmind: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (isEntry(import.meta.url)) runAsProcess();
