/** The onnxruntime-web backend (WASM). Works in browsers and in Node. */
import * as ort from 'onnxruntime-web';
import type { Backend } from './backend.js';
import { ortBackend, type OrtModule } from './backend-ort.js';

/**
 * Creates the onnxruntime-web backend.
 * @param wasmPaths - where the browser loads onnxruntime-web's .wasm files from (a URL prefix);
 *   omit in Node, where they are read from the package
 */
export function webBackend(wasmPaths?: string): Backend {
  if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.wasm.numThreads = 1;
  return ortBackend('onnxruntime-web', ort as unknown as OrtModule, { executionProviders: ['wasm'] });
}
