/**
 * The inference engine: runs requests on model versions, merging concurrent
 * requests for the same version into one `session.run` (a dynamic batcher in the
 * spirit of Triton's: a maximum batch size and a maximum queue delay), with a
 * bounded queue and per-request deadlines.
 *
 * Priority lanes: each queue keeps one lane per priority (`high`, `normal`, `low`). A batch
 * takes every waiting `high` request first, then `normal`, then `low` (strict priority), and
 * each lane has its own bound of `maxQueueSize` rows, so a lane full of public `normal`
 * requests never refuses a game loop's `high` request nor makes it wait more than the batch
 * already running.
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { BackendSession, Tensor, TensorData } from './backend.js';
import { nextTurn, type Cancel } from '../util/next-turn.js';
import { findNonFinite, nonFiniteError, type NonFinite } from './non-finite.js';

/** How the engine batches one model's requests. */
export interface BatchingOptions {
  /** Most rows merged into one run. @default 256 */
  maxBatchSize: number;
  /**
   * Longest time the oldest queued request waits for others to join its batch. With 0, a batch
   * takes every request made in the same turn of the event loop (and those that queue while the
   * model runs), adding no latency. @default 0
   */
  maxQueueDelayMs: number;
  /**
   * Most rows waiting per model version and priority lane; past it requests of that lane fail
   * fast with `overloaded` (the other lanes keep their own bound). @default 8192
   */
  maxQueueSize: number;
}

/** The default batching options. */
export const DEFAULT_BATCHING: Readonly<BatchingOptions> = {
  maxBatchSize: 256,
  maxQueueDelayMs: 0,
  maxQueueSize: 8192,
};

/** What the engine needs of a loaded model version. */
export interface RunnableVersion {
  /** `name@version`, e.g. `npc-guard@2`. */
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly session: BackendSession;
  /** Per-model batching overrides (from the manifest). */
  readonly batching?: Partial<BatchingOptions>;
  /** When the model fixes its batch dimension (e.g. MNIST-8 takes exactly 1 row), that size. */
  readonly fixedBatchSize?: number;
  /**
   * Told when a run answered a request with NaN or ±Infinity (the request fails with
   * `non_finite_output`); the repository flags the version (`/v2/models/:name`).
   */
  onNonFinite?(found: NonFinite): void;
}

/** Options of one request. */
export interface RunOptions {
  /** Fail with `deadline_exceeded` if not answered within this many ms. */
  deadlineMs?: number;
  /** Outputs to compute (all when omitted). */
  fetches?: readonly string[];
  /**
   * Requests with the same key (on the same version) may share a batch: the caller promises
   * they feed the same input names, dtypes, row shapes and fetches. When omitted the engine
   * derives the key from the feeds.
   */
  batchKey?: string;
  /**
   * Scheduling priority: a batch takes `high` requests first, then `normal`, then `low`; each
   * priority has its own queue bound. @default 'normal'
   */
  priority?: 'high' | 'normal' | 'low';
}

/** The answer to one request. */
export interface RunResult {
  /** The request's rows of every output (outputs without a batch dimension are given whole). */
  readonly outputs: Record<string, Tensor>;
  /** The outputs of the whole batch the request ran in; the request's rows start at {@link rowOffset}. */
  readonly batchOutputs: Record<string, Tensor>;
  /** Index of the request's first row in {@link batchOutputs}. */
  readonly rowOffset: number;
  /** Rows in the batch the request ran in. */
  readonly batchRows: number;
  /** `name@version` that served the request. */
  readonly servedBy: string;
  /** Time spent queued, in ms. */
  readonly queueMs: number;
}

/** A request's share of a batch; its own rows are cut out only if someone reads `outputs`. */
class BatchShare implements RunResult {
  private own?: Record<string, Tensor>;

  constructor(
    readonly batchOutputs: Record<string, Tensor>,
    readonly rowOffset: number,
    private readonly rows: number,
    readonly batchRows: number,
    readonly servedBy: string,
    readonly queueMs: number,
  ) {}

  get outputs(): Record<string, Tensor> {
    if (!this.own) {
      if (this.rows === this.batchRows) this.own = this.batchOutputs;
      else {
        const own: Record<string, Tensor> = {};
        for (const name in this.batchOutputs) {
          const t = this.batchOutputs[name]!;
          own[name] = t.dims[0] === this.batchRows ? sliceRows(t, this.rowOffset, this.rows) : t;
        }
        this.own = own;
      }
    }
    return this.own;
  }
}

/** A batch the engine ran (for metrics). */
export interface BatchEvent {
  model: string;
  version: number;
  rows: number;
  requests: number;
  runMs: number;
}

/** A request the engine finished (for metrics). */
export interface RequestEvent {
  model: string;
  version: number;
  outcome: 'ok' | ErrorCodeLike;
  latencyMs: number;
  queueMs: number;
}
type ErrorCodeLike = string;

/** Hooks the server uses to feed its metrics. */
export interface EngineObserver {
  onBatch?(e: BatchEvent): void;
  onRequest?(e: RequestEvent): void;
}

/** Options of {@link InferenceEngine}. */
export interface EngineOptions {
  /** Defaults for every model (a manifest's `batching` overrides them). */
  batching?: Partial<BatchingOptions>;
  observer?: EngineObserver;
}

interface Pending {
  feeds: Record<string, Tensor>;
  rows: number;
  enqueuedAt: number;
  deadlineAt: number;
  timer?: ReturnType<typeof setTimeout>;
  settled: boolean;
  resolve(r: RunResult): void;
  reject(e: Error): void;
}

/** The requests of one priority waiting in a queue. */
interface Lane {
  items: Pending[];
  rows: number;
}

const LANE_INDEX = { high: 0, normal: 1, low: 2 } as const;

interface Queue {
  key: string;
  version: RunnableVersion;
  options: BatchingOptions;
  fetches?: readonly string[];
  /** One lane per priority, highest first. */
  lanes: [Lane, Lane, Lane];
  /** Rows waiting over every lane. */
  rows: number;
  /** Requests waiting over every lane. */
  count: number;
  running: boolean;
  /** Cancels the pending dispatch (a timer, or a next-turn callback). */
  timer?: Cancel;
  timerIsImmediate: boolean;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs model versions with micro-batching.
 *
 * @example
 * const engine = new InferenceEngine({ batching: { maxBatchSize: 64 } });
 * const { outputs } = await engine.run(version, { obs: tensor('float32', row, [1, 8]) });
 */
export class InferenceEngine {
  /** Batch queues per version, then per batch key (no string is built per request). */
  private readonly queues = new Map<RunnableVersion, Map<string, Queue>>();
  private readonly defaults: BatchingOptions;
  private readonly observer: EngineObserver;
  private closed = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: EngineOptions = {}) {
    this.defaults = { ...DEFAULT_BATCHING, ...stripUndefined(options.batching ?? {}) };
    this.observer = options.observer ?? {};
  }

  /**
   * Queues one request. Every feed must carry the batch dimension first, with the same
   * number of rows; the caller (the contract layer) has checked names, dtypes and shapes.
   *
   * @throws PlaymindError `overloaded` at once when the model's queue is full,
   *   `deadline_exceeded` when the deadline passes, `closed` after {@link close}
   */
  run(version: RunnableVersion, feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<RunResult> {
    if (this.closed) return Promise.reject(new PlaymindError(ErrorCode.CLOSED, 'the inference engine is closed'));
    let first: Tensor | undefined;
    for (const name in feeds) {
      first = feeds[name];
      break;
    }
    if (!first) return Promise.reject(new TypeError("InferenceEngine.run: 'feeds' must name at least one tensor"));
    const rows = first.dims[0] ?? 1;
    const key = options.batchKey ?? feedSignature(feeds, options.fetches);
    let byKey = this.queues.get(version);
    if (!byKey) this.queues.set(version, (byKey = new Map()));
    let q = byKey.get(key);
    if (!q) {
      q = {
        key,
        version,
        fetches: options.fetches,
        lanes: [
          { items: [], rows: 0 },
          { items: [], rows: 0 },
          { items: [], rows: 0 },
        ],
        rows: 0,
        count: 0,
        running: false,
        timerIsImmediate: false,
        options: { ...this.defaults, ...stripUndefined(version.batching ?? {}) },
      };
      if (version.fixedBatchSize !== undefined) q.options.maxBatchSize = version.fixedBatchSize;
      byKey.set(key, q);
    }
    const priority = options.priority ?? 'normal';
    const lane = q.lanes[LANE_INDEX[priority] ?? 1];
    if (lane.rows + rows > q.options.maxQueueSize && lane.items.length > 0) {
      const err = PlaymindError.refusal(
        ErrorCode.OVERLOADED,
        `model ${version.id} is overloaded: ${lane.rows} rows queued at ${priority} priority (limit ${q.options.maxQueueSize})`,
        {
          details: {
            model: version.name,
            version: version.version,
            priority,
            queued: lane.rows,
            limit: q.options.maxQueueSize,
          },
        },
      );
      this.observer.onRequest?.({
        model: version.name,
        version: version.version,
        outcome: err.code,
        latencyMs: 0,
        queueMs: 0,
      });
      return Promise.reject(err);
    }
    const queue = q;
    return new Promise<RunResult>((resolve, reject) => {
      const t = now();
      const p: Pending = {
        feeds,
        rows,
        enqueuedAt: t,
        settled: false,
        resolve,
        reject,
        deadlineAt: options.deadlineMs !== undefined ? t + options.deadlineMs : Infinity,
      };
      if (options.deadlineMs !== undefined) {
        p.timer = setTimeout(() => this.expire(queue, lane, p), Math.max(0, options.deadlineMs));
      }
      lane.items.push(p);
      lane.rows += rows;
      queue.rows += rows;
      queue.count++;
      this.inFlight++;
      this.schedule(queue);
    });
  }

  /** Rows waiting, per `name@version`. */
  queueDepth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const byKey of this.queues.values())
      for (const q of byKey.values()) out[q.version.id] = (out[q.version.id] ?? 0) + q.rows;
    return out;
  }

  /** Resolves when no request is queued or running (used to drain before shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Number of requests queued or running. */
  get pending(): number {
    return this.inFlight;
  }

  /** Rejects every queued request with `closed` and refuses new ones. Running batches finish. */
  close(): void {
    this.closed = true;
    for (const q of [...this.queues.values()].flatMap((m) => [...m.values()])) {
      this.clearTimer(q);
      for (const lane of q.lanes) {
        for (const p of lane.items.splice(0))
          this.fail(q, p, new PlaymindError(ErrorCode.CLOSED, 'the inference engine was closed'));
        lane.rows = 0;
      }
      q.rows = 0;
      q.count = 0;
    }
  }

  private schedule(q: Queue): void {
    if (q.running) return;
    if (q.count === 0) {
      // An idle queue holds nothing worth keeping (and would pin a retired version): drop it.
      const byKey = this.queues.get(q.version);
      if (!q.timer && byKey?.get(q.key) === q) {
        byKey.delete(q.key);
        if (byKey.size === 0) this.queues.delete(q.version);
      }
      return;
    }
    let oldestAt = Infinity;
    for (const lane of q.lanes) if (lane.items.length > 0) oldestAt = Math.min(oldestAt, lane.items[0]!.enqueuedAt);
    const waited = now() - oldestAt;
    if (q.rows >= q.options.maxBatchSize || waited >= q.options.maxQueueDelayMs) {
      if (q.timer && q.timerIsImmediate) return;
      this.clearTimer(q);
      // Let the callers of this tick join the batch: dispatch on the next turn of the loop.
      q.timerIsImmediate = true;
      q.timer = nextTurn(() => {
        q.timer = undefined;
        void this.dispatch(q);
      });
      return;
    }
    if (q.timer) return;
    q.timerIsImmediate = false;
    const handle = setTimeout(
      () => {
        q.timer = undefined;
        void this.dispatch(q);
      },
      Math.max(0, q.options.maxQueueDelayMs - waited),
    );
    q.timer = () => clearTimeout(handle);
  }

  private clearTimer(q: Queue): void {
    if (!q.timer) return;
    q.timer();
    q.timer = undefined;
  }

  private async dispatch(q: Queue): Promise<void> {
    if (q.running || q.count === 0) return;
    const t0 = now();
    const batch: Pending[] = [];
    let rows = 0;
    const expired: Pending[] = [];
    // Strict priority: every waiting `high` request first, then `normal`, then `low`.
    let full = false;
    for (const lane of q.lanes) {
      let taken = 0;
      for (; taken < lane.items.length; taken++) {
        const p = lane.items[taken]!;
        if (batch.length > 0 && rows + p.rows > q.options.maxBatchSize) {
          full = true;
          break;
        }
        lane.rows -= p.rows;
        q.rows -= p.rows;
        if (p.settled) continue;
        if (p.deadlineAt <= t0) {
          expired.push(p);
          continue;
        }
        batch.push(p);
        rows += p.rows;
      }
      lane.items.splice(0, taken);
      q.count -= taken;
      if (full) break;
    }
    for (const p of expired) this.fail(q, p, deadlineError(q.version, p, t0));
    if (batch.length === 0) {
      this.schedule(q);
      return;
    }
    q.running = true;
    try {
      if (q.version.fixedBatchSize !== undefined) {
        for (const p of batch) await this.runBatch(q, [p], p.rows);
      } else {
        await this.runBatch(q, batch, rows);
      }
    } finally {
      q.running = false;
      this.schedule(q);
    }
  }

  private async runBatch(q: Queue, batch: Pending[], rows: number): Promise<void> {
    const v = q.version;
    let outputs: Record<string, Tensor>;
    const start = now();
    try {
      const feeds =
        batch.length === 1
          ? batch[0]!.feeds
          : concatFeeds(
              batch.map((p) => p.feeds),
              rows,
            );
      outputs = await v.session.run(feeds, q.fetches);
    } catch (err) {
      const e = new PlaymindError(ErrorCode.INTERNAL, `model ${v.id} failed to run: ${(err as Error).message}`, {
        cause: err,
        details: { model: v.name, version: v.version },
      });
      for (const p of batch) this.fail(q, p, e);
      return;
    }
    const end = now();
    this.observer.onBatch?.({ model: v.name, version: v.version, rows, requests: batch.length, runMs: end - start });
    let offset = 0;
    for (const p of batch) {
      const at = offset;
      offset += p.rows;
      if (p.settled) continue;
      // NaN or ±Infinity is not an answer: a typed error for this request (its rows only).
      const bad = findNonFinite(outputs, at, p.rows, rows);
      if (bad) {
        v.onNonFinite?.(bad);
        this.fail(q, p, nonFiniteError(v.name, v.version, bad));
        continue;
      }
      p.settled = true;
      if (p.timer) clearTimeout(p.timer);
      const queueMs = start - p.enqueuedAt;
      this.observer.onRequest?.({
        model: v.name,
        version: v.version,
        outcome: 'ok',
        latencyMs: end - p.enqueuedAt,
        queueMs,
      });
      this.done();
      p.resolve(new BatchShare(outputs, at, p.rows, rows, v.id, queueMs));
    }
  }

  private expire(q: Queue, lane: Lane, p: Pending): void {
    if (p.settled) return;
    const i = lane.items.indexOf(p);
    if (i >= 0) {
      lane.items.splice(i, 1);
      lane.rows -= p.rows;
      q.rows -= p.rows;
      q.count--;
    }
    this.fail(q, p, deadlineError(q.version, p, now()));
  }

  private fail(q: Queue, p: Pending, err: PlaymindError): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    const t = now();
    this.observer.onRequest?.({
      model: q.version.name,
      version: q.version.version,
      outcome: err.code,
      latencyMs: t - p.enqueuedAt,
      queueMs: t - p.enqueuedAt,
    });
    this.done();
    p.reject(err);
  }

  private done(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}

function deadlineError(v: RunnableVersion, p: Pending, t: number): PlaymindError {
  const waited = Math.round(t - p.enqueuedAt);
  return new PlaymindError(
    ErrorCode.DEADLINE_EXCEEDED,
    `model ${v.id}: deadline of ${Math.round(p.deadlineAt - p.enqueuedAt)} ms passed (waited ${waited} ms)`,
    {
      details: { model: v.name, version: v.version, waitedMs: waited },
    },
  );
}

function feedSignature(feeds: Record<string, Tensor>, fetches: readonly string[] | undefined): string {
  const names = Object.keys(feeds).sort();
  return `${names.map((n) => `${n}:${feeds[n]!.type}:${feeds[n]!.dims.slice(1).join('x')}`).join('|')}#${fetches?.join(',') ?? '*'}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Concatenates the feeds of several requests along the batch dimension. */
export function concatFeeds(list: Record<string, Tensor>[], rows: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(list[0]!)) {
    const parts = list.map((f) => f[name]!);
    const first = parts[0]!;
    const dims = [rows, ...first.dims.slice(1)];
    if (Array.isArray(first.data)) {
      out[name] = { type: first.type, data: parts.flatMap((p) => p.data as string[]), dims };
      continue;
    }
    const total = parts.reduce((s, p) => s + p.data.length, 0);
    const Ctor = (first.data as Exclude<TensorData, string[]>).constructor as new (
      n: number,
    ) => Exclude<TensorData, string[]>;
    const data = new Ctor(total);
    let o = 0;
    for (const p of parts) {
      (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p.data as ArrayLike<unknown>, o);
      o += p.data.length;
    }
    out[name] = { type: first.type, data, dims };
  }
  return out;
}

/** Rows [start, start + count) of a tensor whose first dimension is the batch (a view, not a copy). */
export function sliceRows(t: Tensor, start: number, count: number): Tensor {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = Array.isArray(t.data)
    ? t.data.slice(start * per, (start + count) * per)
    : ((t.data as Exclude<TensorData, string[]>).subarray(start * per, (start + count) * per) as TensorData);
  return { type: t.type, data, dims: [count, ...t.dims.slice(1)] };
}
