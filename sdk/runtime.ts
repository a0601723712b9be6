/**
 * Playmind runtime seam — `playmind/sdk/runtime`: what a process that hosts Playmind
 * models for others (the Playmind server, or your own) needs beyond the public API of
 * `playmind/sdk`. Game code does not need it.
 *
 * - the wire protocol of the `inference` room: message names, request schemas and the
 *   binary codecs the remote route speaks;
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
export {
  RemoteMessage,
  decodeDecision,
  decodeTensor,
  encodeDecision,
  encodeTensor,
  float32FromBytes,
  toBytes,
} from './routes/remote-wire.js';
export type { WireDecision, WireErrorReply, WireResult, WireTensor } from './routes/remote-wire.js';
export { adapterFor, adaptBatch } from './contract/adapter.js';
export type { PolicyAdapter, AdapterOrProblem } from './contract/adapter.js';
export type { ModelIndex } from './repository/model-index.js';
export { buildModelIndex } from './repository/model-index.js';
export { checkFeeds, arrayTypeOf } from './contract/tensors.js';
