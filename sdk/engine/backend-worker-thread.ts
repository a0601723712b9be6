/**
 * The inside of a {@link workerBackend} worker: a thin message shell around the
 * onnxruntime-node backend. It owns the sessions created on this thread and answers
 * `create` / `run` / `release` / `dispose` requests from the main thread, so that
 * onnxruntime's synchronous native calls block this thread, not the game loop.
 *
 * Loaded only as a worker's entry (see `backend-worker.ts`); it does nothing when
 * imported on the main thread.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import type { BackendSession, Tensor, TensorData } from './backend.js';
import { nodeBackend } from './backend-node.js';
import type { WorkerReply, WorkerRequest, WireError } from './backend-worker-protocol.js';

if (!isMainThread && parentPort) {
  const port = parentPort;
  const backend = nodeBackend();
  const sessions = new Map<number, BackendSession>();
  let nextSession = 1;

  const reply = (msg: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

  const handle = async (req: WorkerRequest): Promise<void> => {
    try {
      switch (req.op) {
        case 'create': {
          const session = await backend.createSession(req.model, req.options);
          const sid = nextSession++;
          sessions.set(sid, session);
          reply({
            id: req.id,
            ok: true,
            op: 'create',
            sid,
            inputs: [...session.inputs],
            outputs: [...session.outputs],
          });
          return;
        }
        case 'run': {
          const session = sessions.get(req.sid);
          if (!session) throw new Error(`session ${req.sid} was released`);
          const outputs = await session.run(req.feeds, req.fetches);
          const transfer: ArrayBuffer[] = [];
          const out: Record<string, Tensor> = {};
          for (const [name, t] of Object.entries(outputs))
            out[name] = { type: t.type, dims: t.dims, data: transferable(t.data, transfer) };
          reply({ id: req.id, ok: true, op: 'run', outputs: out }, transfer);
          return;
        }
        case 'release': {
          const session = sessions.get(req.sid);
          sessions.delete(req.sid);
          await session?.release();
          reply({ id: req.id, ok: true, op: 'release' });
          return;
        }
        case 'dispose': {
          const all = [...sessions.values()];
          sessions.clear();
          await Promise.allSettled(all.map((s) => s.release()));
          reply({ id: req.id, ok: true, op: 'dispose' });
          return;
        }
      }
    } catch (err) {
      reply({ id: req.id, ok: false, error: wireError(err) });
    }
  };

  // One request at a time, in arrival order: a release or dispose waits for the runs
  // sent before it (onnxruntime-node defers each call to a later turn of the loop).
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (req: WorkerRequest) => {
    chain = chain.then(() => handle(req));
  });
}

/**
 * Returns data whose buffer can be moved to the main thread without a copy: the
 * array itself when it spans its whole (non-shared) buffer, else a compact copy.
 */
function transferable(data: TensorData, transfer: ArrayBuffer[]): TensorData {
  if (Array.isArray(data)) return data;
  const view =
    data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
      ? data
      : data.slice();
  transfer.push(view.buffer as ArrayBuffer);
  return view;
}

function wireError(err: unknown): WireError {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}
