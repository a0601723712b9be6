/**
 * The onnxruntime-web backend (WASM). Works in browsers and in Node. It imports
 * onnxruntime-web's WASM-only build: its .wasm is half the size of the default build's
 * (which adds WebGPU/JSEP), and the backend only asks for the 'wasm' provider.
 */
import * as ort from 'onnxruntime-web/wasm';
import type { Backend } from './backend.js';
import { ortBackend, type OrtModule } from './backend-ort.js';

/**
 * Creates the onnxruntime-web backend.
 * @param wasmPaths - where the browser loads onnxruntime-web's .wasm files from (a URL prefix);
 *   omit in Node, where they are read from the package
 * @param wasmBinary - the .wasm's bytes, when the caller fetched them (onnxruntime-web then compiles these
 *   instead of fetching the file; its .mjs loader still comes from `wasmPaths`)
 */
export function webBackend(wasmPaths?: string, wasmBinary?: ArrayBuffer | Uint8Array): Backend {
  if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
  if (wasmBinary) ort.env.wasm.wasmBinary = wasmBinary;
  ort.env.wasm.numThreads = 1;
  return ortBackend('onnxruntime-web', ort as unknown as OrtModule, { executionProviders: ['wasm'] });
}
