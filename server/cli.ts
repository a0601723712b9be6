#!/usr/bin/env node
/**
 * The package's `playmind` bin: the SDK's commands (import, validate, train-recs, index,
 * copy-runtime) and the server's (`replay`). The SDK's CLI may not import the server (the
 * layers lint enforces it), so the commands that need the arena game and the decision log
 * are added here, at the server's level, through the SDK's hosting seam
 * (`playmind/sdk/runtime`: `runCli(argv, io, commands)`).
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli, type CliIo, type Command } from '../sdk/runtime.js';
import { replayCommand } from './cli/replay-command.js';

/** The server's subcommands, listed after the SDK's. */
export const SERVER_COMMANDS: readonly Command[] = [replayCommand];

/**
 * Runs the `playmind` bin's CLI.
 * @param argv - the arguments after `playmind`
 * @param io - where it writes @default the process's stdout and stderr
 * @returns the exit code: 0 done, 1 failed, 2 bad arguments
 */
export function cli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  return runCli(argv, io, SERVER_COMMANDS);
}

/** Whether this module is the process's entry (`playmind …`, `node dist/server/cli.js …`), not an import. */
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
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`playmind: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
