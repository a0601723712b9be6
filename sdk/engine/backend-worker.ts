/**
 * The worker-thread backend: onnxruntime-node sessions that live in
 * `worker_threads` workers. onnxruntime-node's `run()` (and session creation) is a
 * synchronous native call that blocks the thread it runs on for the whole batch;
 * here it blocks a worker, and the game loop on the main thread keeps turning.
 *
 * Inputs are copied once into fresh buffers that are moved (transferred) to the
 * worker — the caller's arrays are never detached — and outputs are moved back
 * without a copy. Node only.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Backend, BackendSession, SessionOptions, Tensor, TensorData, TensorMeta } from './backend.js';
import type { WorkerReply, WorkerRequest, WireError } from './backend-worker-protocol.js';

/** Options of {@link workerBackend}. */
export interface WorkerBackendOptions {
  /**
   * Worker threads to spread sessions over. Each session lives on one worker (the one
   * holding the fewest sessions when it is created); runs of one session are served in
   * order. Workers start when the first session needs them.
   * @default 1
   */
  threads?: number;
}

/** Request without its id (the backend numbers requests). */
type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never;
type Call = WithoutId<WorkerRequest>;
type Ok = Extract<WorkerReply, { ok: true }>;

/**
 * Creates a backend that runs onnxruntime-node inside worker threads.
 *
 * @param options - `threads`: how many workers share the sessions
 * @returns a {@link Backend}; call `dispose()` (a brain's `close()` does) to stop its workers
 * @throws RangeError when `threads` is not a positive integer
 * @example
 * import { createBrain, workerBackend } from 'playmind/sdk';
 * const brain = await createBrain({ mode: 'local', models: './models', backend: workerBackend({ threads: 2 }) });
 */
export function workerBackend(options: WorkerBackendOptions = {}): Backend {
  if (!options || typeof options !== 'object') throw new TypeError("workerBackend: 'options' must be an object");
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`workerBackend: 'threads' must be a positive integer, got ${threads}`);
  return new WorkerPool(threads);
}

class WorkerPool implements Backend {
  readonly name = 'onnxruntime-node-worker';
  private readonly slots: (WorkerHandle | null)[];
  private disposed = false;

  constructor(threads: number) {
    this.slots = Array.from({ length: threads }, () => null);
  }

  async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<BackendSession> {
    if (!(model instanceof Uint8Array))
      throw new TypeError(`workerBackend.createSession: 'model' must be a Uint8Array, got ${typeof model}`);
    if (this.disposed) throw disposedError();
    const worker = this.pick();
    // The caller keeps its bytes: structured clone copies them (the repository may reuse them).
    const reply = (await worker.call({ op: 'create', model, options })) as Extract<Ok, { op: 'create' }>;
    worker.sessions++;
    return new WorkerSession(worker, reply.sid, reply.inputs, reply.outputs);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const live = this.slots.filter((w): w is WorkerHandle => w !== null);
    this.slots.fill(null);
    await Promise.all(live.map((w) => w.close()));
  }

  /** The live worker holding the fewest sessions, starting one in an empty (or dead) slot. */
  private pick(): WorkerHandle {
    let best = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const w = this.slots[i];
      if (!w || w.dead) {
        this.slots[i] = new WorkerHandle();
        return this.slots[i]!;
      }
      if (best < 0 || w.sessions < this.slots[best]!.sessions) best = i;
    }
    return this.slots[best]!;
  }
}

class WorkerSession implements BackendSession {
  private released = false;

  constructor(
    private readonly worker: WorkerHandle,
    private readonly sid: number,
    readonly inputs: readonly TensorMeta[],
    readonly outputs: readonly TensorMeta[],
  ) {}

  async run(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    if (!feeds || typeof feeds !== 'object') throw new TypeError("run: 'feeds' must be an object");
    if (this.released) throw new Error('run: the session was released');
    const transfer: ArrayBuffer[] = [];
    const wire: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds))
      wire[name] = { type: t.type, dims: [...t.dims], data: ownCopy(t.data, transfer) };
    const reply = await this.worker.call(
      { op: 'run', sid: this.sid, feeds: wire, fetches: fetches ? [...fetches] : undefined },
      transfer,
    );
    return (reply as Extract<Ok, { op: 'run' }>).outputs;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.worker.sessions--;
    if (this.worker.dead) return;
    await this.worker.call({ op: 'release', sid: this.sid });
  }
}

/** One worker thread and the requests waiting for its replies. */
class WorkerHandle {
  sessions = 0;
  /** Why the worker can no longer answer (it exited, failed, or was closed). */
  private failure: Error | null = null;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: Ok): void; reject(e: Error): void }>();
  private nextId = 1;
  private closing = false;

  constructor() {
    this.worker = spawnWorker();
    // An idle worker does not keep the process alive; one with requests in flight does.
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', (err: Error) =>
      this.fail(new Error(`worker thread failed: ${err.message}`, { cause: err })),
    );
    this.worker.on('exit', (code: number) =>
      this.fail(this.closing ? disposedError() : new Error(`worker thread exited unexpectedly (code ${code})`)),
    );
  }

  get dead(): boolean {
    return this.failure !== null || this.closing;
  }

  call(req: Call, transfer: ArrayBuffer[] = []): Promise<Ok> {
    if (this.closing) return Promise.reject(disposedError());
    return this.send(req, transfer);
  }

  /** Releases the worker's sessions once the requests before it are served, then stops the thread. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (!this.failure) await this.send({ op: 'dispose' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private send(req: Call, transfer: ArrayBuffer[] = []): Promise<Ok> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Ok>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...req, id } as WorkerRequest, transfer);
      } catch (err) {
        this.take(id);
        reject(err as Error);
      }
    });
  }

  private settle(reply: WorkerReply): void {
    const p = this.take(reply.id);
    if (!p) return;
    if (reply.ok) p.resolve(reply);
    else p.reject(fromWire(reply.error));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const id of [...this.pending.keys()]) this.take(id)!.reject(this.failure);
  }

  private take(id: number): { resolve(r: Ok): void; reject(e: Error): void } | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return p;
  }
}

/**
 * Starts a worker on `backend-worker-thread`, next to this module: the compiled `.js`
 * in `dist/`, or the `.ts` source when running from sources under tsx. tsx's hooks do
 * not carry over to workers (neither `--import tsx` nor its ESM `register()` reach a
 * `.ts` entry reliably, and under mocha the sources are loaded as CommonJS), so the
 * worker registers tsx's CommonJS hooks itself and requires the source.
 */
function spawnWorker(): Worker {
  const self = import.meta.url;
  // The parent's `--input-type` would apply to the worker's entry and refuse it.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  if (!self.endsWith('.ts')) return new Worker(new URL('./backend-worker-thread.js', self), { execArgv });
  const entry = new URL('./backend-worker-thread.ts', self);
  let tsx: string;
  try {
    tsx = createRequire(self).resolve('tsx/cjs/api');
  } catch {
    // No tsx: a runtime that loads .ts itself (e.g. Node's type stripping).
    return new Worker(entry, { execArgv });
  }
  const boot = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(fileURLToPath(entry))});`;
  return new Worker(boot, { eval: true, execArgv });
}

/** A compact copy of a tensor's data whose buffer can be moved to the worker. */
function ownCopy(data: TensorData, transfer: ArrayBuffer[]): TensorData {
  if (Array.isArray(data)) return [...data];
  const copy = data.slice();
  transfer.push(copy.buffer as ArrayBuffer);
  return copy;
}

/** Rebuilds a worker's error on this thread, keeping onnxruntime's name and message. */
function fromWire(w: WireError): Error {
  const err = new Error(w.message);
  err.name = w.name;
  const here = (err.stack ?? '').split('\n').slice(1);
  const there = (w.stack ?? '').split('\n').slice(1);
  err.stack = [`${w.name}: ${w.message}`, ...here, '    --- in the worker thread ---', ...there].join('\n');
  return err;
}

function disposedError(): Error {
  return new Error('workerBackend: the backend was disposed');
}
