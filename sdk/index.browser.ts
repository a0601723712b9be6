/**
 * Playmind SDK, browser build: onnxruntime-web (WASM) and models over HTTP.
 * Same API as the Node build.
 * @packageDocumentation
 */
import { Brain, createBrainOn, type BrainOptions, type Platform } from './brain.js';
import { webBackend } from './engine/backend-web.js';
import { HttpModelSource } from './repository/http-source.js';

/**
 * Creates a brain in the browser. `models` is a base URL (e.g. `/models`).
 * @param wasmPaths - where onnxruntime-web's .wasm files are served (a URL prefix)
 * @param wasmBinary - onnxruntime-web's .wasm itself, when the page fetched it already (e.g. to show a
 *   download's progress); its `.mjs` loader still comes from `wasmPaths`
 */
export function createBrain(
  options: BrainOptions & { wasmPaths?: string; wasmBinary?: ArrayBuffer | Uint8Array } = {},
): Promise<Brain> {
  const platform: Platform = {
    source: (models) => new HttpModelSource(models),
    backend: async () => webBackend(options.wasmPaths, options.wasmBinary),
  };
  return createBrainOn(platform, options);
}

export * from './public.js';
export { webBackend } from './engine/backend-web.js';
