/**
 * What the Node build of `playmind/sdk` has and the browser build cannot: onnxruntime-node,
 * worker threads and model folders on disk. The browser build exports the same names (one
 * API, one set of types), and each fails at once with an `invalid_argument` error that names
 * the build and what to use instead — instead of a bundler error about `node:worker_threads`
 * or a missing export.
 *
 * @module
 */
import type { Backend } from './engine/backend.js';
import type { WorkerBackendOptions } from './engine/backend-worker.js';
import { ErrorCode, PlaymindError } from './protocol.js';
import type { ModelSource, SourceFile } from './repository/model-source.js';
import type { FsSourceOptions } from './repository/fs-source.js';

function notInBrowser(what: string, instead: string): PlaymindError {
  return new PlaymindError(
    ErrorCode.INVALID_ARGUMENT,
    `${what} is Node-only: this is the browser build of playmind/sdk (onnxruntime-web, models over HTTP). ${instead}`,
    { details: { build: 'browser' } },
  );
}

/** Node only. In the browser build it throws: use `webBackend()` (the browser build's default). */
export function workerBackend(_options?: WorkerBackendOptions): Backend {
  throw notInBrowser(
    'workerBackend() (onnxruntime-node in worker threads)',
    'Use webBackend(), the default, or leave backend out.',
  );
}

/** Node only. In the browser build it throws: use `webBackend()` (the browser build's default). */
export function nodeBackend(_intraOpNumThreads?: number): Backend {
  throw notInBrowser('nodeBackend() (onnxruntime-node)', 'Use webBackend(), the default, or leave backend out.');
}

/** Node only. In the browser build its constructor throws: use `HttpModelSource` (a base URL). */
export class FsModelSource implements ModelSource {
  readonly location: string = '';
  constructor(_dir: string, _options?: FsSourceOptions) {
    throw notInBrowser(
      'FsModelSource (model folders on disk)',
      "Serve the models folder and pass its URL: createBrain({ models: '/models/' }) or new HttpModelSource('/models/').",
    );
  }
  listModels(): Promise<string[]> {
    return Promise.reject(notInBrowser('FsModelSource', ''));
  }
  listVersions(): Promise<number[]> {
    return Promise.reject(notInBrowser('FsModelSource', ''));
  }
  readManifest(): Promise<SourceFile<string>> {
    return Promise.reject(notInBrowser('FsModelSource', ''));
  }
  readModel(): Promise<SourceFile<Uint8Array>> {
    return Promise.reject(notInBrowser('FsModelSource', ''));
  }
  modelLocation(): string {
    return '';
  }
}
