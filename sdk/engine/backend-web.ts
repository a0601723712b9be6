/**
 * The onnxruntime-web backend (WASM). Works in browsers and in Node. It imports
 * onnxruntime-web's WASM-only build: its .wasm is half the size of the default build's
 * (which adds WebGPU/JSEP), and the backend only asks for the 'wasm' provider.
 */
import * as ort from 'onnxruntime-web/wasm';
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { Backend } from './backend.js';
import { ortBackend, type OrtModule } from './backend-ort.js';

/**
 * The files onnxruntime-web's WASM build loads at run time (with one thread): its Emscripten
 * loader and the WASM binary. A browser game serves them where `wasmPaths` points
 * (`npx playmind copy-runtime <dir>` copies them from the installed onnxruntime-web).
 */
export const WEB_RUNTIME_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

/**
 * Creates the onnxruntime-web backend.
 * @param wasmPaths - where the browser loads onnxruntime-web's .wasm files from (a URL prefix);
 *   omit in Node, where they are read from the package
 * @param wasmBinary - the .wasm's bytes, when the caller fetched them (onnxruntime-web then compiles these
 *   instead of fetching the file; its .mjs loader still comes from `wasmPaths`)
 * @returns a backend whose sessions fail with `runtime_load_failed`, naming the runtime file, when
 *   onnxruntime-web cannot load its own files (a missing .wasm is not reported as a bad model)
 */
export function webBackend(wasmPaths?: string, wasmBinary?: ArrayBuffer | Uint8Array): Backend {
  if (wasmPaths !== undefined && typeof wasmPaths !== 'string')
    throw new TypeError(`'wasmPaths' must be a URL prefix such as '/ort/', got ${typeof wasmPaths}`);
  if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
  if (wasmBinary) ort.env.wasm.wasmBinary = wasmBinary;
  ort.env.wasm.numThreads = 1;
  const inner = ortBackend('onnxruntime-web', ort as unknown as OrtModule, { executionProviders: ['wasm'] });
  return {
    name: inner.name,
    async createSession(model, options) {
      try {
        return await inner.createSession(model, options);
      } catch (err) {
        // onnxruntime-common's wording when no execution provider could start (its files did not load).
        if (!/no available backend found/i.test((err as Error)?.message ?? '')) throw err;
        throw await runtimeLoadError(err, wasmPaths, wasmBinary !== undefined);
      }
    },
  };
}

/** The `runtime_load_failed` error: which of the runtime's files could not be fetched, where it looked. */
async function runtimeLoadError(
  err: unknown,
  wasmPaths: string | undefined,
  haveBinary: boolean,
): Promise<PlaymindError> {
  const names = WEB_RUNTIME_FILES.filter((f) => !(haveBinary && f.endsWith('.wasm')));
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const failed: string[] = [];
  if (wasmPaths && page && typeof fetch === 'function') {
    for (const name of names) {
      let url: string;
      try {
        url = new URL(wasmPaths + name, page).href;
      } catch {
        continue;
      }
      const problem = await fetch(url, { method: 'HEAD' }).then(
        (r) =>
          !r.ok
            ? `HTTP ${r.status}`
            : /text\/html/.test(r.headers.get('content-type') ?? '')
              ? 'an HTML page, not the file'
              : null,
        (e: unknown) => `not fetched: ${(e as Error).message}`,
      );
      if (problem) failed.push(`${url} (${problem})`);
    }
  }
  const where = wasmPaths ? `from ${wasmPaths}` : 'next to the bundle (no wasmPaths given)';
  const what =
    failed.length > 0
      ? `cannot load its runtime file ${failed.join(', ')}`
      : `cannot load its runtime files ${names.join(', ')} ${where}`;
  return new PlaymindError(
    ErrorCode.RUNTIME_LOAD_FAILED,
    `onnxruntime-web ${what}. Copy them into a folder the game serves with "npx playmind copy-runtime <dir>" and pass that folder's URL as wasmPaths. (${(err as Error).message})`,
    { cause: err, details: { wasmPaths: wasmPaths ?? null, files: names, failed } },
  );
}
