#!/usr/bin/env node
/**
 * The package's `playmind` bin: the SDK's commands (`sdk/cli/main.ts`: import,
 * validate, train-recs, index, copy-runtime) and the server's (`replay`). The SDK's
 * CLI may not import the server (the layers lint enforces it), so the commands that
 * need the arena game and the decision log are added here, at the server's level,
 * through the SDK CLI's entry (`main(argv, io, commands)`).
 *
 * @module
 */
import { COMMANDS, isEntry, main, runAsProcess, type CliIo, type Command } from '../sdk/cli/main.js';
import { replayCommand } from './cli/replay-command.js';

/** Every subcommand of the `playmind` bin, in the order `--help` lists them. */
export const ALL_COMMANDS: readonly Command[] = [...COMMANDS, replayCommand];

/**
 * Runs the `playmind` bin's CLI.
 * @param argv - the arguments after `playmind`
 * @param io - where it writes @default the process's stdout and stderr
 * @returns the exit code: 0 done, 1 failed, 2 bad arguments
 */
export function cli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  return main(argv, io, ALL_COMMANDS);
}

if (isEntry(import.meta.url)) runAsProcess(ALL_COMMANDS);
