/**
 * Playmind SDK, browser build: onnxruntime-web (WASM) and models over HTTP.
 * Same API as the Node build.
 * @packageDocumentation
 */
import { Brain, createBrainOn, type BrainOptions, type Platform } from './brain.js';
import { webBackend } from './engine/backend-web.js';
import { HttpModelSource } from './repository/http-source.js';

/**
 * Creates a brain in the browser. `models` is a base URL (e.g. `/models/`) holding the folder's
 * `index.json` (written by `playmind import`, `train-recs` and `index`).
 * `options.wasmPaths`: where onnxruntime-web's runtime files are served (a URL prefix; `npx playmind
 * copy-runtime <dir>` copies them); `options.wasmBinary`: the .wasm itself, when the page fetched it
 * already (e.g. to show a download's progress; its `.mjs` loader still comes from `wasmPaths`).
 * @throws PlaymindError `models_not_found` (no index.json at `models`), `runtime_load_failed`
 *   (a runtime file did not load, named)
 */
export function createBrain(options: BrainOptions = {}): Promise<Brain> {
  const platform: Platform = {
    source: (models) => new HttpModelSource(models),
    backend: async () => webBackend(options.wasmPaths, options.wasmBinary),
  };
  return createBrainOn(platform, options);
}

export * from './public.js';
export { webBackend } from './engine/backend-web.js';
// Node-only names, so both builds export the same API: each throws, naming this build.
export { FsModelSource, nodeBackend, workerBackend } from './browser-unsupported.js';
export type { FsSourceOptions } from './repository/fs-source.js';
export type { WorkerBackendOptions } from './engine/backend-worker.js';
