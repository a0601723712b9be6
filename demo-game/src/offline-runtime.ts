/**
 * What offline mode needs, loaded once per page with progress: this chunk (the
 * SDK's browser build and onnxruntime-web's JavaScript), then the WASM (13.6 MiB,
 * the bulk: fetched here with a byte count so a progress bar can show it, then
 * handed to onnxruntime-web as `wasmBinary`), then both models (loaded and warmed
 * up by `createBrain`). The brain is the arena scene's `this.playmind` (the
 * `playmind/phaser` plugin, created on first use and closed with the scene); this
 * module is the plugin's `createBrain`. The build writes `offline-files.json` (the
 * WASM's path and size) next to `index.html`.
 *
 * Loaded by dynamic import only: it pulls in the SDK and onnxruntime-web.
 *
 * @module
 */
import type { Brain } from '../../sdk/index.browser.js';
import type { SceneBrainOptions } from '../../sdk/phaser/index.js';
import type { OfflineRuntime, RuntimeProgress } from './arena-link.js';
import { OfflineSource, createOfflineBrain } from './offline-source.js';

/** `offline-files.json`, written by `demo-game/build.mjs`. */
interface OfflineFiles {
  /** The WASM, relative to the page. */
  wasm: string;
  /** Its size, bytes (uncompressed: what the stream yields, whatever the transfer encoding). */
  wasmBytes: number;
}

/** Where offline mode finds its files (copied by `build.mjs`), as URLs. */
export interface RuntimePaths {
  /** The models folder (`./offline-models/` of the page). */
  models: string;
  /** onnxruntime-web's files (`./ort/` of the page). */
  wasmPaths: string;
}

/**
 * Downloads a file with a byte count. XMLHttpRequest rather than a fetch body reader: its
 * progress events count the decoded bytes, and Chromium cancels a streamed fetch of a large body
 * now and then under load (net::ERR_ABORTED) although the page read every byte.
 */
function fetchWithProgress(url: string, expected: number, onBytes: (n: number) => void): Promise<ArrayBuffer> {
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', url);
    xhr.responseType = 'arraybuffer';
    xhr.withCredentials = false;
    xhr.onprogress = (e) => onBytes(e.loaded);
    xhr.onerror = () => reject(new Error(`GET ${url}: the download failed`));
    xhr.onabort = () => reject(new Error(`GET ${url}: the download was aborted`));
    xhr.onload = () => {
      if (xhr.status !== 200) return reject(new Error(`GET ${url}: HTTP ${xhr.status}`));
      const body = xhr.response as ArrayBuffer;
      if (expected > 0 && body.byteLength !== expected) {
        return reject(new Error(`GET ${url}: expected ${expected} bytes, got ${body.byteLength}`));
      }
      onBytes(body.byteLength);
      resolve(body);
    };
    xhr.send();
  });
}

/**
 * Offline mode's brain, as the scene's `playmind/phaser` plugin creates it on first use: downloads
 * onnxruntime-web's WASM with a byte count, then makes the brain with it (the models load and warm up
 * before it resolves).
 *
 * @param options - the plugin's brain options (models and wasmPaths as URLs)
 * @param base - the page's folder, where `offline-files.json` is
 * @param onProgress - called as bytes arrive and at each stage
 * @throws Error when a file cannot be fetched or the models cannot be loaded
 */
export async function loadOfflineBrain(
  options: SceneBrainOptions,
  base: string,
  onProgress: (p: RuntimeProgress) => void,
): Promise<Brain> {
  const listRes = await fetch(new URL('./offline-files.json', base), { credentials: 'same-origin' });
  if (!listRes.ok) throw new Error(`offline-files.json: HTTP ${listRes.status}`);
  const files = (await listRes.json()) as OfflineFiles;
  const total = files.wasmBytes;
  onProgress({ state: 'loading', loaded: 0, total, label: 'downloading the AI runtime' });
  const wasm = await fetchWithProgress(new URL(files.wasm, base).href, files.wasmBytes, (n) =>
    onProgress({ state: 'loading', loaded: n, total, label: 'downloading the AI runtime' }),
  );
  onProgress({ state: 'loading', loaded: total, total, label: 'starting the AI runtime and loading the models' });
  const { models, wasmPaths } = options;
  if (typeof models !== 'string' || typeof wasmPaths !== 'string') {
    throw new TypeError("offline mode's brain needs 'models' and 'wasmPaths' as URLs");
  }
  return createOfflineBrain({ ...options, models, wasmPaths }, wasm);
}

/**
 * The offline runtime over the scene's brain: each offline spell starts an arena in the page that
 * decides with it (the brain stays open between spells; the scene closes it).
 */
export function offlineRuntime(brain: Brain, paths: RuntimePaths): OfflineRuntime {
  return {
    play: ({ name }) => OfflineSource.start({ ...paths, brain, ...(name ? { name } : {}) }),
  };
}
