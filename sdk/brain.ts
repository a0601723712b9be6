/**
 * The Brain: one API for game code. Each call is routed to the local engine, the
 * server (remote) or a fallback heuristic; the caller sees the same results and
 * types whichever route answered.
 */
import {
  adaptBatch,
  adapterFor,
  contractAction,
  contractProbabilities,
  type PolicyAdapter,
} from './contract/adapter.js';
import { expectKind } from './contract/kind.js';
import type { Manifest, PolicyManifest, RecommenderManifest } from './contract/manifest.js';
import {
  FloatSlab,
  encodeMaskRows,
  encodeMasks,
  encodeObservations,
  encodeRows,
  type ActionMask,
  type Observation,
} from './contract/observation.js';
import { checkFeeds } from './contract/tensors.js';
import type { Backend, Tensor } from './engine/backend.js';
import { InferenceEngine, type BatchingOptions, type EngineObserver } from './engine/inference-engine.js';
import type { Decision, PolicyBatch, Priority } from './engine/policy.js';
import { checkRecommendRequest, type Recommendation, type RecommendRequest } from './engine/recommender.js';
import { ErrorCode, PlaymindError, type ErrorCodeValue } from './protocol.js';
import type { ModelSource } from './repository/model-source.js';
import { consoleLogger, ModelRepository, type Logger } from './repository/model-repository.js';
import { describeMissingHeuristic, missingHeuristics } from './heuristics/missing-heuristics.js';
import { BUILTIN_HEURISTICS, FallbackRoute, type Heuristic } from './routes/fallback.js';
import { AutoRoute, type RouteSwitch } from './routes/auto.js';
import { LocalRoute } from './routes/local.js';
import { RemoteRoute, serverWsUrl } from './routes/remote.js';
import type { Route, RouteName, RunOutput } from './routes/route.js';
import { Emitter } from './util/emitter.js';

/** Options of {@link createBrain}. */
export interface BrainOptions {
  /**
   * `local`: this process's engine. `remote`: the server's `inference` room. `auto`: the server
   * while it answers within `deadlineMs`, else the local engine, back to the server once it
   * answers again. @default 'local'
   */
  mode?: 'local' | 'remote' | 'auto';
  /**
   * Local models: a folder (Node), a base URL (browser), or a ready {@link ModelRepository}.
   * A repository passed in stays the caller's: `brain.close()` does not close it.
   */
  models?: string | ModelRepository;
  /**
   * A shared engine (e.g. a server's, used by several brains and frontends) instead of one of
   * the brain's own; it stays the caller's: `brain.close()` does not close it. Configure its
   * batching and observer where it is created. @default a new engine
   */
  engine?: InferenceEngine;
  /**
   * Server URL for `remote` and `auto`: `ws://` or `wss://` (`http://` and `https://` are taken as
   * such), e.g. `ws://localhost:2567`. Anything else is an `invalid_server_url` error.
   */
  serverUrl?: string;
  /**
   * `auto`: how long `createBrain` waits for its first connection to the server (made while the
   * local models load), in ms. Connected in time, the first calls go to the server; not, they
   * start on the local engine and move to the server once the background probe gets an answer.
   * The first call's `deadlineMs` is never spent on connecting. @default 3000
   */
  connectTimeoutMs?: number;
  /** Default per-call budget in ms (`auto` answers locally past it). @default none; 30 for the server in auto mode */
  deadlineMs?: number;
  /** `auto`: how often the server is probed while calls go local, in ms. @default 1000 */
  retryMs?: number;
  /** Named heuristics the fallback route may serve (a manifest's `policy.fallback.heuristic`). */
  heuristics?: Record<string, Heuristic>;
  /** Serve fallbacks when no model can answer. @default true */
  fallback?: boolean;
  /** Reload models whose files change (Node folders). @default false */
  watch?: boolean;
  /** Engine batching defaults (the brain's own engine only). */
  batching?: Partial<BatchingOptions>;
  /** A custom backend (e.g. onnxruntime-web in Node: `webBackend()`). */
  backend?: Backend;
  /**
   * Browser build: the URL prefix (ending in `/`) where onnxruntime-web's runtime files are served,
   * `ort-wasm-simd-threaded.wasm` and its `.mjs` loader (copy them with `npx playmind copy-runtime <dir>`).
   * A file that does not load fails `createBrain` with `runtime_load_failed` naming it. The Node build
   * refuses this option (it runs onnxruntime-node): there, pass `backend: webBackend(wasmPaths)`.
   */
  wasmPaths?: string;
  /**
   * Browser build: onnxruntime-web's `.wasm` bytes, when the page fetched them itself (e.g. to show
   * the download's progress); its `.mjs` loader still comes from `wasmPaths`. Refused by the Node build.
   */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** A pino-compatible logger. */
  logger?: Logger;
  /** Engine hooks (metrics; the brain's own engine only). */
  observer?: EngineObserver;
}

/** Options of one decide call. */
export interface DecideOptions {
  /**
   * Action masks (1 = allowed): one per observation, or one Float32Array of n × actions
   * (branches concatenated, the action order of the manifest or of the handle's contract).
   */
  masks?: readonly ActionMask[] | Float32Array;
  /** Agent ids, one per observation: recurrent state is carried per id. */
  agentIds?: readonly string[];
  /** Budget for this call in ms. */
  deadlineMs?: number;
  /**
   * Whether this call may be answered by the fallback when no model can answer (see
   * {@link Brain}). A frontend whose own caller applies the fallback (a server answering a
   * remote brain) passes `false`. @default the brain's `fallback` option
   */
  fallback?: boolean;
  /** Scheduling priority, passed to the engine (game-loop calls are `high`). @default 'normal' */
  priority?: Priority;
}

/** Options of a policy handle. */
export interface PolicyOptions {
  /**
   * The contract the caller is written against (see `policyContract`): observations and
   * masks come in its feature and action order, decisions go back in its action order,
   * whatever version serves; and when the model is missing, not a policy, or one the
   * contract cannot feed, the heuristic (the manifest's, else the contract's) answers
   * instead of an error.
   */
  contract?: PolicyManifest;
}

/** Options of a recommender handle. */
export interface RecommenderOptions {
  /**
   * The catalogue the caller can use (see `recommenderContract`): when the model is missing
   * or not a recommender, popularity over it answers instead of an error.
   */
  contract?: RecommenderManifest;
}

/** A route change, emitted as `route`. */
export interface RouteEvent {
  /** The model whose call changed route, or `*` when auto mode moved every call (server lost or back). */
  model: string;
  from: RouteName;
  to: RouteName;
  /** The error code that caused the change. */
  reason: ErrorCodeValue | string;
  message: string;
}

/** Counters of a brain. */
export interface BrainStats {
  /** Calls answered, per route. */
  servedBy: Record<RouteName, number>;
  /** Fallbacks served, in all and per model and per reason. */
  fallbacks: { total: number; byModel: Record<string, number>; byReason: Record<string, number> };
  /** Calls that failed (thrown to the caller), per error code. */
  errors: Record<string, number>;
}

/** Events of a {@link Brain}. */
export interface BrainEvents {
  route: RouteEvent;
}

/** How a platform (Node or browser) provides sources and backends. */
export interface Platform {
  source(models: string): ModelSource;
  backend(): Promise<Backend>;
}

/** Errors that mean "no model can answer now": the fallback may cover them. */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.MODEL_UNAVAILABLE,
  ErrorCode.OVERLOADED,
  ErrorCode.DEADLINE_EXCEEDED,
  ErrorCode.UNAVAILABLE,
  // The model answered NaN or Infinity: not an answer (the repository flags the version).
  ErrorCode.NON_FINITE_OUTPUT,
]);
/** Errors that, for a caller that declared a contract, mean the model it needs is missing or unusable. */
const MISSING_CODES: ReadonlySet<string> = new Set([
  ErrorCode.UNKNOWN_MODEL,
  ErrorCode.WRONG_KIND,
  ErrorCode.CONTRACT_MISMATCH,
]);

/**
 * The one fallback rule of Playmind: the code a fallback may answer for, or null when the
 * error must reach the caller. Only "no model can answer" qualifies (unavailable, overloaded,
 * past the deadline, no loaded version, an answer of NaN or Infinity) — plus, for a caller that declared the contract it
 * needs, "that model is missing or cannot serve the contract". Anything else (bad input,
 * a bug) is thrown: a fallback never hides it.
 */
function fallbackReason(err: unknown, contract: boolean): ErrorCodeValue | null {
  if (!(err instanceof PlaymindError)) return null;
  if (UNAVAILABLE_CODES.has(err.code) || (contract && MISSING_CODES.has(err.code))) return err.code;
  return null;
}

/** A policy handle: `brain.policy('npc-guard')`. */
export interface PolicyHandle {
  readonly name: string;
  /**
   * Decides for a batch of agents.
   * @param observations - objects keyed by feature name, Float32Array rows in feature order, objects
   *   keyed by observation input (per sensor), or one Float32Array of n × features (rows packed)
   * @returns one decision per observation
   * @example const [d] = await brain.policy('npc-guard').decide([{ health: 1, ... }]);
   */
  decide(observations: readonly Observation[] | Float32Array, options?: DecideOptions): Promise<Decision[]>;
  /** Forgets an agent's recurrent state (all agents when omitted), as at an episode start. */
  resetAgent(agent?: string): void;
  /** A copy of an agent's recurrent state (recurrent models), e.g. to save a game. */
  memory(agent: string): Float32Array | undefined;
  /** The model's contract. */
  manifest(): Promise<PolicyManifest>;
}

/** Options of one recommend call (beyond the request). */
export interface RecommendOptions {
  /** Whether the fallback may answer this call (see {@link DecideOptions.fallback}). @default the brain's `fallback` option */
  fallback?: boolean;
}

/** A recommender handle: `brain.recommender('quest-recs')`. */
export interface RecommenderHandle {
  readonly name: string;
  /** @example await recs.recommend({ history: ['q-forest-1'], k: 5, exclude: ['q-forest-1'] }) */
  recommend(request: RecommendRequest, options?: RecommendOptions): Promise<Recommendation>;
}

/** A handle on any model: `brain.model('mnist')`. */
export interface ModelHandle {
  readonly name: string;
  /** Runs the model on named tensors, checked against its manifest. */
  run(
    feeds: Record<string, Tensor>,
    options?: { deadlineMs?: number; fetches?: readonly string[] },
  ): Promise<RunOutput>;
  /** The model's manifest, whatever its kind. */
  manifest(): Promise<Manifest>;
}

/** Encoded inputs of one decide call, before routing. */
interface Encoded {
  rows: Float32Array;
  masks: Float32Array | undefined;
  n: number;
}

/**
 * The SDK's entry object. Create it with `createBrain`.
 *
 * Every call goes to the primary route (local, remote or auto). When it fails with an error
 * that means no model can answer (see the fallback rule above), a policy whose manifest names
 * a registered heuristic is answered by it and a recommender by popularity (`servedBy:
 * 'fallback'`), counted in {@link Brain.stats} and announced by a `route` event.
 */
export class Brain extends Emitter<BrainEvents> {
  private readonly counters: BrainStats = {
    servedBy: { local: 0, remote: 0, fallback: 0 },
    fallbacks: { total: 0, byModel: {}, byReason: {} },
    errors: {},
  };
  private readonly seen = new Map<string, Manifest>();
  /** Where encoded rows live (views on shared chunks: one allocation per chunk, not per call). */
  private readonly slab = new FloatSlab();
  private readonly fallback?: FallbackRoute;
  private closed = false;

  /** @internal use `createBrain` */
  constructor(
    private readonly primary: Route,
    private readonly options: { deadlineMs?: number; heuristics: Record<string, Heuristic>; fallback: boolean },
    /** The local repository, when the brain has one (for hot swap and state). */
    readonly repository?: ModelRepository,
  ) {
    super();
    if (options.fallback) this.fallback = new FallbackRoute(options.heuristics, (m) => this.seen.get(m));
  }

  /**
   * A policy by name. Calls fail with `unknown_model` / `wrong_kind` when it is not one
   * (unless `options.contract` is given).
   */
  policy(name: string, options: PolicyOptions = {}): PolicyHandle {
    checkName(name);
    const contract = options.contract;
    if (contract !== undefined && (contract?.kind !== 'policy' || !contract.policy.actions.discrete))
      throw new TypeError("'contract' must be a policy manifest with discrete actions (see policyContract())");
    return {
      name,
      decide: contract
        ? (observations, o = {}) => this.decideContract(name, contract, observations, o)
        : (observations, o = {}) => this.decide(name, observations, o),
      resetAgent: (agent) => this.primary.resetAgent?.(name, agent),
      memory: (agent) => this.primary.agentMemory?.(name, agent),
      manifest: async () => (await this.manifestOf(name, 'policy')) as PolicyManifest,
    };
  }

  /** A recommender by name (`options.contract`: see {@link RecommenderOptions}). */
  recommender(name: string, options: RecommenderOptions = {}): RecommenderHandle {
    checkName(name);
    const contract = options.contract;
    if (contract !== undefined && contract?.kind !== 'recommender')
      throw new TypeError("'contract' must be a recommender manifest (see recommenderContract())");
    return { name, recommend: (request, o) => this.recommend(name, request, contract, o?.fallback) };
  }

  /** Any model by name, run on named tensors. */
  model(name: string): ModelHandle {
    checkName(name);
    return {
      name,
      run: (feeds, options) => this.run(name, feeds, options ?? {}),
      manifest: () => this.manifestOf(name, null),
    };
  }

  /** Counters: calls per route, fallbacks, errors. */
  stats(): BrainStats {
    return structuredClone(this.counters);
  }

  /** Closes the routes, and the engine and repository the brain created (not those passed in). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.primary.close();
  }

  private async manifestOf(name: string, kind: Manifest['kind'] | null): Promise<Manifest> {
    this.ensureOpen();
    let m: Manifest;
    try {
      m = await this.routeManifest(name);
    } catch (err) {
      throw this.count(err);
    }
    if (kind) {
      try {
        expectKind(name, m, kind);
      } catch (err) {
        throw this.count(err);
      }
    }
    return m;
  }

  /** The primary route's manifest (or the last one seen, while the route cannot answer). */
  private async routeManifest(name: string): Promise<Manifest> {
    let m: Manifest;
    try {
      m = await this.primary.manifest(name);
    } catch (err) {
      const seen = this.seen.get(name);
      if (!seen || !(err instanceof PlaymindError) || !UNAVAILABLE_CODES.has(err.code)) throw err;
      m = seen;
    }
    this.seen.set(name, m);
    return m;
  }

  /** The manifest the route holds already, if it does (no await on the hot path). */
  private cached(name: string): Manifest | undefined {
    const m = this.primary.cachedManifest?.(name);
    if (m && this.seen.get(name) !== m) this.seen.set(name, m);
    return m;
  }

  private decide(name: string, observations: readonly Observation[] | Float32Array, options: DecideOptions) {
    if (options.deadlineMs !== undefined) {
      const bad = deadlineError(options.deadlineMs);
      if (bad) return Promise.reject(bad);
    }
    // The hot path: a manifest the route already holds needs no await before the call is queued.
    const cached = this.closed ? undefined : this.cached(name);
    if (cached && cached.kind === 'policy') {
      try {
        return this.decideWith(name, cached, observations, options);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.manifestOf(name, 'policy').then((m) =>
      this.decideWith(name, m as PolicyManifest, observations, options),
    );
  }

  private decideWith(
    name: string,
    m: PolicyManifest,
    observations: readonly Observation[] | Float32Array,
    options: DecideOptions,
  ): Promise<Decision[]> {
    let e: Encoded;
    try {
      e = encodeBatch(name, m, observations, options, this.slab.take);
    } catch (err) {
      throw this.count(err);
    }
    if (e.n === 0) return Promise.resolve([]);
    const batch = this.batchOf(e, options);
    return this.withFallback(
      name,
      () => this.primary.decide(name, batch),
      options.fallback === false
        ? null
        : (reason) => (this.fallback?.canServe(name) ? this.fallback.decide(name, batch, reason) : null),
      servedByDecisions,
      false,
    );
  }

  /** A decide call in the caller's contract: see {@link PolicyOptions.contract}. */
  private decideContract(
    name: string,
    contract: PolicyManifest,
    observations: readonly Observation[] | Float32Array,
    options: DecideOptions,
  ): Promise<Decision[]> {
    let e: Encoded;
    if (options.deadlineMs !== undefined) {
      const bad = deadlineError(options.deadlineMs);
      if (bad) return Promise.reject(bad);
    }
    try {
      this.ensureOpen();
      e = encodeBatch(name, contract, observations, options, this.slab.take);
    } catch (err) {
      return Promise.reject(this.count(err));
    }
    if (e.n === 0) return Promise.resolve([]);
    const onVersion = (m: Manifest): Promise<Decision[]> => {
      const a = adapterFor(contract, expectKind(name, m, 'policy'));
      if ('problem' in a) throw new PlaymindError(ErrorCode.CONTRACT_MISMATCH, a.problem, { details: { model: name } });
      const adapted = adaptBatch(a, e.rows, e.masks, e.n);
      const batch = this.batchOf({ rows: adapted.rows, masks: adapted.masks, n: e.n }, options);
      const decided = this.primary.decide(name, batch);
      return a.identity ? decided : decided.then((ds) => ds.map((d) => inContract(a, d)));
    };
    const cached = this.cached(name);
    return this.withFallback(
      name,
      () => (cached ? onVersion(cached) : this.routeManifest(name).then(onVersion)),
      options.fallback === false || !this.fallback
        ? null
        : (reason) => {
            const seen = this.seen.get(name);
            const named = seen?.kind === 'policy' ? seen.policy.fallback?.heuristic : undefined;
            const heuristic =
              named !== undefined && named in this.options.heuristics ? named : contract.policy.fallback!.heuristic;
            if (!(heuristic in this.options.heuristics)) return null;
            return this.fallback!.decideAs(name, contract, heuristic, this.batchOf(e, options), reason);
          },
      servedByDecisions,
      true,
    );
  }

  private batchOf(e: Encoded, options: DecideOptions): PolicyBatch {
    return {
      rows: e.rows,
      n: e.n,
      masks: e.masks,
      agentIds: options.agentIds,
      deadlineMs: options.deadlineMs ?? this.options.deadlineMs,
      priority: options.priority,
    };
  }

  private async recommend(
    name: string,
    request: RecommendRequest,
    contract: RecommenderManifest | undefined,
    fallback: boolean | undefined,
  ): Promise<Recommendation> {
    const bad = request && typeof request === 'object' ? deadlineError(request.deadlineMs) : null;
    if (bad) throw bad;
    if (!contract) await this.manifestOf(name, 'recommender');
    try {
      this.ensureOpen();
      checkRecommendRequest(name, request);
    } catch (err) {
      throw this.count(err);
    }
    const req = { ...request, deadlineMs: request.deadlineMs ?? this.options.deadlineMs };
    return this.withFallback(
      name,
      contract
        ? () =>
            this.routeManifest(name).then((m) => {
              expectKind(name, m, 'recommender');
              return this.primary.recommend(name, req);
            })
        : () => this.primary.recommend(name, req),
      !this.fallback || fallback === false
        ? null
        : () => {
            const seen = this.seen.get(name);
            if (seen?.kind === 'recommender') return this.fallback!.recommend(name, req);
            return contract ? this.fallback!.recommendAs(name, contract, req) : null;
          },
      (r) => r.servedBy,
      contract !== undefined,
    );
  }

  private async run(
    name: string,
    feeds: Record<string, Tensor>,
    options: { deadlineMs?: number; fetches?: readonly string[] },
  ): Promise<RunOutput> {
    const bad = deadlineError(options.deadlineMs);
    if (bad) throw bad;
    const m = await this.manifestOf(name, null);
    try {
      checkFeeds(name, m.inputs, feeds);
      for (const f of options.fetches ?? []) {
        if (!m.outputs.some((o) => o.name === f))
          throw new PlaymindError(
            ErrorCode.INVALID_TENSOR,
            `${name}: unknown output "${f}" (outputs: ${m.outputs.map((o) => o.name).join(', ')})`,
          );
      }
    } catch (err) {
      throw this.count(err);
    }
    return this.withFallback(
      name,
      () =>
        this.primary.run(name, feeds, {
          deadlineMs: options.deadlineMs ?? this.options.deadlineMs,
          fetches: options.fetches,
        }),
      null,
      (r) => r.servedBy,
      false,
    );
  }

  /**
   * Runs on the primary route; when it fails for a reason the fallback rule admits and the
   * fallback can answer (`fallback()` returns null when it cannot), serves it, counting it.
   */
  private withFallback<T>(
    name: string,
    primary: () => Promise<T>,
    fallback: ((reason: ErrorCodeValue) => Promise<T> | null) | null,
    servedBy: (t: T) => RouteName | false,
    contract: boolean,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new PlaymindError(ErrorCode.CLOSED, 'the brain is closed'));
    let call: Promise<T>;
    try {
      call = primary();
    } catch (err) {
      call = Promise.reject(err);
    }
    return call.then(
      (r) => {
        const by = servedBy(r);
        if (by) this.counters.servedBy[by]++;
        return r;
      },
      (err: unknown) => {
        const reason = fallback ? fallbackReason(err, contract) : null;
        const answer = reason ? fallback!(reason) : null;
        if (!answer) throw this.count(err);
        const f = this.counters.fallbacks;
        f.total++;
        f.byModel[name] = (f.byModel[name] ?? 0) + 1;
        f.byReason[reason!] = (f.byReason[reason!] ?? 0) + 1;
        this.emit('route', {
          model: name,
          from: this.primary.name,
          to: 'fallback',
          reason: reason!,
          message: (err as PlaymindError).message,
        });
        return answer.then((r) => {
          this.counters.servedBy.fallback++;
          return r;
        });
      },
    );
  }

  /** @internal the auto route reports its switches here. */
  routeChanged(e: RouteSwitch): void {
    this.emit('route', { model: '*', from: e.from, to: e.to, reason: e.reason, message: e.message });
  }

  private count(err: unknown): unknown {
    const code = err instanceof PlaymindError ? err.code : 'internal';
    this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
    return err;
  }

  private ensureOpen(): void {
    if (this.closed) throw new PlaymindError(ErrorCode.CLOSED, 'the brain is closed');
  }
}

function servedByDecisions(d: Decision[]): RouteName | false {
  return d.length > 0 && d[0]!.servedBy;
}

/** A version's decision in the caller's contract order. */
function inContract(a: PolicyAdapter, d: Decision): Decision {
  if (d.index === undefined) return d;
  const index = contractAction(a, d.index);
  const out: Decision = { ...d, index };
  if (d.indices) out.indices = [index, ...d.indices.slice(1)];
  if (d.probabilities) out.probabilities = contractProbabilities(a, d.probabilities);
  return out;
}

/** Validates and encodes observations, masks and agent ids against a policy contract. */
function encodeBatch(
  name: string,
  manifest: PolicyManifest,
  observations: readonly Observation[] | Float32Array,
  options: DecideOptions,
  alloc: (n: number) => Float32Array,
): Encoded {
  let rows: Float32Array;
  let n: number;
  const policy = manifest.policy;
  if (observations instanceof Float32Array) {
    rows = encodeRows(name, manifest, observations, alloc);
    n = rows.length / policy.observation.features.length;
  } else {
    rows = encodeObservations(name, manifest, observations, alloc);
    n = observations.length;
  }
  const m = options.masks;
  const masks =
    m === undefined
      ? undefined
      : m instanceof Float32Array
        ? encodeMaskRows(name, policy, m, n)
        : encodeMasks(name, policy, m, n);
  if (options.agentIds && (!Array.isArray(options.agentIds) || options.agentIds.length !== n)) {
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${name}: 'agentIds' must have one id per observation (${n})`);
  }
  return { rows, masks, n };
}

/** The RangeError for a per-call `deadlineMs` that is not a positive number (as `createBrain` gives for the option). */
function deadlineError(deadlineMs: unknown): RangeError | null {
  if (deadlineMs === undefined || (typeof deadlineMs === 'number' && Number.isFinite(deadlineMs) && deadlineMs > 0))
    return null;
  return new RangeError(`'deadlineMs' must be a positive number, got ${String(deadlineMs)}`);
}

function checkName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError(`'name' must be a non-empty string, got ${typeof name}`);
}

/** Says, at start, which heuristic a loaded manifest names that this brain does not have. */
function warnMissingHeuristics(
  repository: ModelRepository,
  heuristics: Record<string, Heuristic>,
  logger?: Logger,
): void {
  const manifests = repository.list().flatMap((s) => repository.manifest(s.name) ?? []);
  for (const miss of missingHeuristics(manifests, Object.keys(heuristics))) {
    (logger ?? consoleLogger).warn(
      { model: miss.model, heuristic: miss.heuristic, code: ErrorCode.UNKNOWN_HEURISTIC },
      describeMissingHeuristic(miss, Object.keys(heuristics)),
    );
  }
}

/**
 * Loads a brain's own repository from a folder or URL.
 * @throws PlaymindError `models_not_found` when it is not a model repository; `runtime_load_failed`
 *   when the inference runtime itself (onnxruntime-web's WASM) could not load, whatever the model
 */
async function loadRepository(platform: Platform, models: string, options: BrainOptions): Promise<ModelRepository> {
  const repository = new ModelRepository({
    source: platform.source(models),
    backend: options.backend ?? (await platform.backend()),
    logger: options.logger,
  });
  try {
    await repository.loadAll();
    const runtime = repository.list().find((s) => s.lastError?.code === ErrorCode.RUNTIME_LOAD_FAILED);
    if (runtime)
      throw new PlaymindError(ErrorCode.RUNTIME_LOAD_FAILED, runtime.lastError!.reason, {
        details: { model: runtime.name },
      });
  } catch (err) {
    await repository.close();
    throw err;
  }
  return repository;
}

/**
 * Creates a brain on a platform (Node or browser). Game code calls the `createBrain`
 * of `playmind/sdk`, which passes the right platform.
 */
export async function createBrainOn(platform: Platform, options: BrainOptions = {}): Promise<Brain> {
  if (!options || typeof options !== 'object') throw new TypeError("'options' must be an object");
  const mode = options.mode ?? 'local';
  if (mode !== 'local' && mode !== 'remote' && mode !== 'auto') {
    throw new RangeError(`'mode' must be 'local', 'remote' or 'auto', got ${JSON.stringify(mode)}`);
  }
  if (options.deadlineMs !== undefined && (!Number.isFinite(options.deadlineMs) || options.deadlineMs <= 0)) {
    throw new RangeError(`'deadlineMs' must be a positive number, got ${options.deadlineMs}`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0)
    throw new RangeError(`'connectTimeoutMs' must be a positive number, got ${options.connectTimeoutMs}`);
  if (mode !== 'local' && (typeof options.serverUrl !== 'string' || options.serverUrl.length === 0)) {
    throw new TypeError(`'serverUrl' is required in ${mode} mode, e.g. 'ws://localhost:2567'`);
  }
  const serverUrl = mode === 'local' ? undefined : serverWsUrl(options.serverUrl, 'serverUrl');
  if (options.engine !== undefined) {
    if (!(options.engine instanceof InferenceEngine))
      throw new TypeError(`'engine' must be an InferenceEngine, got ${typeof options.engine}`);
    if (options.batching !== undefined || options.observer !== undefined)
      throw new TypeError(
        "'batching' and 'observer' configure the brain's own engine; configure a shared 'engine' where it is created",
      );
  }
  const heuristics = { ...BUILTIN_HEURISTICS, ...(options.heuristics ?? {}) };
  const brainOptions = { deadlineMs: options.deadlineMs, heuristics, fallback: options.fallback ?? true };
  if (mode === 'remote') {
    return new Brain(
      new RemoteRoute({ url: serverUrl!, ...(options.deadlineMs ? { timeoutMs: options.deadlineMs } : {}) }),
      brainOptions,
    );
  }
  const models = options.models;
  if (models === undefined)
    throw new TypeError(
      `'models' is required in ${mode} mode: a folder, a base URL or a ModelRepository${mode === 'auto' ? ' (the local route answers when the server cannot)' : ''}`,
    );
  if (typeof models === 'string' ? models.length === 0 : !(models instanceof ModelRepository))
    throw new TypeError(`'models' must be a folder, a base URL or a ModelRepository, got ${JSON.stringify(models)}`);
  // Auto mode connects to the server while the local models load (the first call does not pay for it).
  const remote = mode === 'auto' ? new RemoteRoute({ url: serverUrl! }) : undefined;
  const connecting = remote?.connect();
  connecting?.catch(() => undefined); // settled below; a failure only means the local route starts
  let repository: ModelRepository;
  try {
    repository = typeof models === 'string' ? await loadRepository(platform, models, options) : models;
  } catch (err) {
    await remote?.close();
    throw err;
  }
  if (typeof models === 'string' && brainOptions.fallback)
    warnMissingHeuristics(repository, heuristics, options.logger);
  const engine = options.engine ?? new InferenceEngine({ batching: options.batching, observer: options.observer });
  if (options.watch) repository.watch();
  const local = new LocalRoute(repository, engine, {
    closeEngine: options.engine === undefined,
    closeRepository: typeof models === 'string',
  });
  if (mode === 'local') return new Brain(local, brainOptions, repository);
  let brain: Brain | undefined;
  const auto = new AutoRoute({
    remote: remote!,
    local,
    deadlineMs: options.deadlineMs,
    retryMs: options.retryMs,
    onSwitch: (e) => brain?.routeChanged(e),
  });
  const notConnected = await auto.start(connecting!, connectTimeoutMs);
  if (notConnected)
    (options.logger ?? consoleLogger).warn(
      { serverUrl, code: notConnected.code },
      `auto mode starts on the local engine: ${notConnected.message}; it moves to the server once the server answers`,
    );
  brain = new Brain(auto, brainOptions, repository);
  return brain;
}
