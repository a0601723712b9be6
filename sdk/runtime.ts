/**
 * Playmind runtime seam — `playmind/sdk/runtime`: what a process that hosts Playmind
 * models for others (the Playmind server, or your own) needs beyond the public API of
 * `playmind/sdk`. Game code does not need it.
 *
 * - the wire protocol (`sdk/protocol/`): a zod schema for every room message and HTTP body
 *   with `parseMessage` (one `safeParse`, a typed error naming the field), the binary
 *   codecs the remote route speaks, the one dtype table (`DTYPES`, with KServe names);
 * - error helpers shared by every frontend;
 * - contract checks a frontend runs before it calls the brain (`checkFeeds`, `arrayTypeOf`) and
 *   caller contracts (how a caller's rows and masks are adapted to a served version);
 * - the format of a model repository's `index.json` served over HTTP;
 * - the `playmind` CLI for a host that adds its own commands ({@link runCli}, {@link defineCommand}):
 *   the package's bin (`server/cli.ts`) adds `replay` to the SDK's commands this way.
 *
 * Build the decision layer itself with `createBrain({ engine, models: repository })` from
 * `playmind/sdk`: a brain on a shared engine and repository, which it does not close.
 *
 * @example
 * import { createBrain, InferenceEngine, ModelRepository, FsModelSource, nodeBackend } from 'playmind/sdk';
 * const engine = new InferenceEngine();
 * const repository = new ModelRepository({ source: new FsModelSource('./models'), backend: nodeBackend() });
 * await repository.loadAll();
 * const brain = await createBrain({ engine, models: repository });
 *
 * @packageDocumentation
 */
export { toPlaymindError } from './protocol.js';
export type { PlaymindErrorOptions } from './protocol.js';
export * from './protocol/schemas.js';
export {
  decodeDecision,
  decodeTensor,
  encodeDecision,
  encodeTensor,
  float32FromBytes,
  toBytes,
} from './protocol/codecs.js';
export type { InferenceRequestType } from './protocol/messages.js';
export { DTYPES } from './contract/dtypes.js';
/** The heuristics every brain has (`expert-guard`, `first-action`), for a host deciding without the brain (a late tick). */
export { BUILTIN_HEURISTICS } from './routes/fallback.js';
export type { DTypeInfo, NumericArray, NumericArrayClass } from './contract/dtypes.js';
export { adapterFor, adaptBatch } from './contract/adapter.js';
export type { PolicyAdapter, AdapterOrProblem } from './contract/adapter.js';
export type { ModelIndex } from './repository/model-index.js';
export { buildModelIndex } from './repository/model-index.js';
export { confinedPath } from './repository/fs-source.js';
export { checkFeeds, arrayTypeOf } from './contract/tensors.js';
export { defineCommand, intFlag, usageError } from './cli/command.js';
export type { CliIo, Command, CommandOptions, CommandSpec } from './cli/command.js';
import type { CliIo, Command } from './cli/command.js';

/**
 * Runs the `playmind` CLI with the SDK's commands (import, validate, train-recs, index,
 * copy-runtime) and a host's own, loading the commands when called.
 *
 * @param argv - the arguments after `playmind`
 * @param io - where it writes @default the process's stdout and stderr
 * @param extra - the host's commands (made with {@link defineCommand}), listed after the SDK's
 * @returns the exit code: 0 done, 1 failed, 2 bad arguments
 * @example await runCli(process.argv.slice(2), {}, [replayCommand]);
 */
export async function runCli(
  argv: readonly string[],
  io: Partial<CliIo> = {},
  extra: readonly Command[] = [],
): Promise<number> {
  const { COMMANDS, main } = await import('./cli/main.js');
  return main(argv, io, [...COMMANDS, ...extra]);
}
