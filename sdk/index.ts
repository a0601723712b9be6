/**
 * Playmind SDK — game AI for Node game servers, browser games and headless engines.
 *
 * ```ts
 * import { createBrain } from 'playmind/sdk';
 * const brain = await createBrain({ mode: 'local', models: './models' });
 * const [d] = await brain.policy('npc-guard').decide([observation]);
 * ```
 *
 * This entry is the Node build (onnxruntime-node, model folders on disk); bundlers
 * that honour the `browser` condition get `index.browser.ts` (onnxruntime-web, models
 * over HTTP). Both export the same names and types; what only Node can do
 * (`workerBackend`, `nodeBackend`, `FsModelSource`) throws in the browser build, naming it,
 * and the browser's `wasmPaths` / `wasmBinary` are refused here. `webBackend` runs in both.
 *
 * @packageDocumentation
 */
import { Brain, createBrainOn, type BrainOptions, type Platform } from './brain.js';
import { nodeBackend } from './engine/backend-node.js';
import { FsModelSource } from './repository/fs-source.js';

const nodePlatform: Platform = {
  source: (models) => new FsModelSource(models),
  backend: async () => nodeBackend(),
};

/**
 * Creates a brain.
 * @param options - mode, models folder, heuristics, deadlines...
 * @returns a ready brain: every model in the folder is loaded (or its failure recorded)
 * @example
 * const brain = await createBrain({ mode: 'local', models: './models', heuristics: { 'my-guard': (row) => 1 } });
 */
export function createBrain(options: BrainOptions = {}): Promise<Brain> {
  for (const key of ['wasmPaths', 'wasmBinary'] as const) {
    if (options && typeof options === 'object' && options[key] !== undefined)
      return Promise.reject(
        new TypeError(
          `'${key}' is an option of the browser build of playmind/sdk (onnxruntime-web); this is the Node build, which runs onnxruntime-node and loads no WASM. To run onnxruntime-web in Node, pass backend: webBackend(wasmPaths) instead.`,
        ),
      );
  }
  return createBrainOn(nodePlatform, options);
}

export * from './public.js';
export { FsModelSource } from './repository/fs-source.js';
export type { FsSourceOptions } from './repository/fs-source.js';
export { nodeBackend } from './engine/backend-node.js';
export { workerBackend } from './engine/backend-worker.js';
export type { WorkerBackendOptions } from './engine/backend-worker.js';
export { webBackend } from './engine/backend-web.js';
