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
 * - the format of a model repository's `index.json` served over HTTP.
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
export type { DTypeInfo, NumericArray, NumericArrayClass } from './contract/dtypes.js';
export { adapterFor, adaptBatch } from './contract/adapter.js';
export type { PolicyAdapter, AdapterOrProblem } from './contract/adapter.js';
export type { ModelIndex } from './repository/model-index.js';
export { buildModelIndex } from './repository/model-index.js';
export { confinedPath } from './repository/fs-source.js';
export { checkFeeds, arrayTypeOf } from './contract/tensors.js';
