/** Messages between {@link workerBackend} and its worker threads (internal). */
import type { SessionOptions, Tensor, TensorMeta } from './backend.js';

/** A request from the main thread; `id` pairs it with its reply. */
export type WorkerRequest =
  | { id: number; op: 'create'; model: Uint8Array; options?: SessionOptions }
  | { id: number; op: 'run'; sid: number; feeds: Record<string, Tensor>; fetches?: readonly string[] }
  | { id: number; op: 'release'; sid: number }
  | { id: number; op: 'dispose' };

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** A reply from a worker. */
export type WorkerReply =
  | { id: number; ok: true; op: 'create'; sid: number; inputs: TensorMeta[]; outputs: TensorMeta[] }
  | { id: number; ok: true; op: 'run'; outputs: Record<string, Tensor> }
  | { id: number; ok: true; op: 'release' | 'dispose' }
  | { id: number; ok: false; error: WireError };
