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
 */
export function createBrain(options: BrainOptions & { wasmPaths?: string } = {}): Promise<Brain> {
  const platform: Platform = {
    source: (models) => new HttpModelSource(models),
    backend: async () => webBackend(options.wasmPaths),
  };
  return createBrainOn(platform, options);
}

export * from './public.js';
export { webBackend } from './engine/backend-web.js';
