/**
 * One way to define and run a `playmind` subcommand: its options are parsed by
 * `node:util`'s `parseArgs` in strict mode (an unknown flag, a missing value or an
 * unexpected positional argument is a usage error, exit code 2), `--help`/`-h` prints
 * its usage (exit 0), and what it throws is printed as `playmind <name>: <message>`
 * (exit 1).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCode, PlaymindError } from '../protocol.js';

/** Where a command writes: results to `stdout`, progress and errors to `stderr`. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** The option table of a command, as `parseArgs` takes it. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** What `parseArgs` returns for a command's options. */
export type ParsedArgs<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>;

/** A subcommand's definition. */
export interface CommandSpec<O extends CommandOptions> {
  /** The subcommand, e.g. `import`. */
  name: string;
  /** One line for `playmind --help`. */
  summary: string;
  /** The full usage text (`playmind <name> --help`), starting with `Usage: playmind <name>`. */
  usage: string;
  /** Its options (`--help` is added). */
  options: O;
  /** How many positional arguments it takes. @default { min: 0, max: 0 } */
  positionals?: { min: number; max: number; name: string };
  /** Runs it on parsed arguments (`argv`: as given, for reports). @returns the exit code */
  run(args: ParsedArgs<O>, io: CliIo, argv: readonly string[]): Promise<number>;
}

/** A subcommand, ready to run. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /**
   * Parses `argv` (the arguments after the subcommand's name) and runs it.
   * @returns the exit code: 0 done, 1 failed, 2 bad arguments
   */
  execute(argv: readonly string[], io?: Partial<CliIo>): Promise<number>;
}

/** A usage error: printed with a pointer to `--help`, exit code 2. */
export function usageError(message: string): PlaymindError {
  return new PlaymindError(ErrorCode.INVALID_ARGUMENT, message, { details: { usage: true } });
}

/**
 * Parses an integer flag value.
 * @throws a usage error naming the flag when it is not an integer ≥ `min`
 */
export function intFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usageError(`${flag} must be an integer ≥ ${min} (got "${value}")`);
  return n;
}

/**
 * Defines a subcommand.
 * @example
 * export const validateCommand = defineCommand({ name: 'validate', summary: '…', usage: '…',
 *   options: {}, positionals: { min: 1, max: 1, name: '<dir>' }, run: async ({ positionals }, io) => 0 });
 */
export function defineCommand<const O extends CommandOptions>(spec: CommandSpec<O>): Command {
  const positionals = spec.positionals ?? { min: 0, max: 0, name: '' };
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async execute(argv, ioArg = {}) {
      const io: CliIo = { stdout: ioArg.stdout ?? process.stdout, stderr: ioArg.stderr ?? process.stderr };
      try {
        const end = argv.indexOf('--');
        const head = end < 0 ? argv : argv.slice(0, end);
        if (head.includes('--help') || head.includes('-h')) {
          io.stdout.write(spec.usage);
          return 0;
        }
        const parsed = parseArgs({
          args: [...argv],
          options: spec.options,
          strict: true,
          allowPositionals: true,
        }) as ParsedArgs<O>;
        const n = parsed.positionals.length;
        if (n < positionals.min) throw usageError(`missing ${positionals.name}`);
        if (n > positionals.max)
          throw usageError(
            `unexpected argument "${parsed.positionals[positionals.max]}"${positionals.max === 0 ? ' (this command takes only --options)' : ''}`,
          );
        return await spec.run(parsed, io, argv);
      } catch (err) {
        const usage =
          (err instanceof PlaymindError && err.details.usage === true) ||
          String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
        io.stderr.write(`playmind ${spec.name}: ${(err as Error).message}\n`);
        if (usage) {
          io.stderr.write(`Run "playmind ${spec.name} --help" for the options.\n`);
          return 2;
        }
        return 1;
      }
    },
  };
}
