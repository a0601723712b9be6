/**
 * The Brain: one API for game code. Each call is routed to the local engine, the
 * server (remote) or a fallback heuristic; the caller sees the same results and
 * types whichever route answered.
 */
import type { Manifest, PolicyManifest } from './contract/manifest.js';
import { encodeMasks, encodeObservations, type ActionMask, type Observation } from './contract/observation.js';
import { checkFeeds } from './contract/tensors.js';
import type { Backend, Tensor } from './engine/backend.js';
import { InferenceEngine, type BatchingOptions, type EngineObserver } from './engine/inference-engine.js';
import type { Decision } from './engine/policy.js';
import { checkRecommendRequest, type Recommendation, type RecommendRequest } from './engine/recommender.js';
import { ErrorCode, PlaymindError, type ErrorCodeValue } from './protocol.js';
import type { ModelSource } from './repository/model-source.js';
import { consoleLogger, ModelRepository, type Logger } from './repository/model-repository.js';
import { describeMissingHeuristic, missingHeuristics } from './heuristics/missing-heuristics.js';
import { BUILTIN_HEURISTICS, FallbackRoute, type Heuristic } from './routes/fallback.js';
import { AutoRoute, type RouteSwitch } from './routes/auto.js';
import { LocalRoute } from './routes/local.js';
import { RemoteRoute } from './routes/remote.js';
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
  /** Local models: a folder (Node), a base URL (browser), or a ready {@link ModelRepository}. */
  models?: string | ModelRepository;
  /** Server URL for `remote` and `auto`, e.g. `ws://localhost:2567`. */
  serverUrl?: string;
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
  /** Engine batching defaults. */
  batching?: Partial<BatchingOptions>;
  /** A custom backend (e.g. onnxruntime-web in Node). */
  backend?: Backend;
  /** A pino-compatible logger. */
  logger?: Logger;
  /** Engine hooks (metrics). */
  observer?: EngineObserver;
}

/** Options of one decide call. */
export interface DecideOptions {
  /** Action masks, one per observation (1 = allowed). */
  masks?: readonly ActionMask[];
  /** Agent ids, one per observation: recurrent state is carried per id. */
  agentIds?: readonly string[];
  /** Budget for this call in ms. */
  deadlineMs?: number;
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

/** Errors that mean "this route cannot answer now", which a fallback may cover; anything else is a bug or bad input and is thrown. */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.MODEL_UNAVAILABLE,
  ErrorCode.OVERLOADED,
  ErrorCode.DEADLINE_EXCEEDED,
  ErrorCode.UNAVAILABLE,
]);

/** A policy handle: `brain.policy('npc-guard')`. */
export interface PolicyHandle {
  readonly name: string;
  /**
   * Decides for a batch of agents.
   * @param observations - objects keyed by feature name, Float32Array rows in feature order, or objects keyed by observation input (per sensor)
   * @returns one decision per observation
   * @example const [d] = await brain.policy('npc-guard').decide([{ health: 1, ... }]);
   */
  decide(observations: readonly Observation[], options?: DecideOptions): Promise<Decision[]>;
  /** Forgets an agent's recurrent state (all agents when omitted), as at an episode start. */
  resetAgent(agent?: string): void;
  /** A copy of an agent's recurrent state (recurrent models), e.g. to save a game. */
  memory(agent: string): Float32Array | undefined;
  /** The model's contract. */
  manifest(): Promise<PolicyManifest>;
}

/** A recommender handle: `brain.recommender('quest-recs')`. */
export interface RecommenderHandle {
  readonly name: string;
  /** @example await recs.recommend({ history: ['q-forest-1'], k: 5, exclude: ['q-forest-1'] }) */
  recommend(request: RecommendRequest): Promise<Recommendation>;
}

/** A tensor-model handle: `brain.model('mnist')`. */
export interface ModelHandle {
  readonly name: string;
  /** Runs the model on named tensors, checked against its manifest. */
  run(
    feeds: Record<string, Tensor>,
    options?: { deadlineMs?: number; fetches?: readonly string[] },
  ): Promise<RunOutput>;
}

/** The SDK's entry object. Create it with `createBrain`. */
export class Brain extends Emitter<BrainEvents> {
  private readonly counters: BrainStats = {
    servedBy: { local: 0, remote: 0, fallback: 0 },
    fallbacks: { total: 0, byModel: {}, byReason: {} },
    errors: {},
  };
  private readonly seen = new Map<string, Manifest>();
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

  /** A policy by name. Calls fail with `unknown_model` / `wrong_kind` when it is not one. */
  policy(name: string): PolicyHandle {
    checkName(name);
    return {
      name,
      decide: (observations, options = {}) => this.decide(name, observations, options),
      resetAgent: (agent) => this.primary.resetAgent?.(name, agent),
      memory: (agent) => this.primary.agentMemory?.(name, agent),
      manifest: async () => (await this.manifestOf(name, 'policy')) as PolicyManifest,
    };
  }

  /** A recommender by name. */
  recommender(name: string): RecommenderHandle {
    checkName(name);
    return { name, recommend: (request) => this.recommend(name, request) };
  }

  /** Any model by name, run on named tensors. */
  model(name: string): ModelHandle {
    checkName(name);
    return { name, run: (feeds, options) => this.run(name, feeds, options ?? {}) };
  }

  /** Counters: calls per route, fallbacks, errors. */
  stats(): BrainStats {
    return structuredClone(this.counters);
  }

  /** Closes routes, the engine and the repository. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.primary.close();
  }

  private async manifestOf(name: string, kind: Manifest['kind'] | null): Promise<Manifest> {
    this.ensureOpen();
    let m: Manifest;
    try {
      m = await this.primary.manifest(name);
    } catch (err) {
      const seen = this.seen.get(name);
      if (!seen || !(err instanceof PlaymindError) || !UNAVAILABLE_CODES.has(err.code)) throw this.count(err);
      m = seen;
    }
    this.seen.set(name, m);
    if (kind && m.kind !== kind) {
      throw this.count(
        new PlaymindError(ErrorCode.WRONG_KIND, `model "${name}" is a ${m.kind}, not a ${kind}`, {
          details: { model: name, kind: m.kind },
        }),
      );
    }
    return m;
  }

  private decide(name: string, observations: readonly Observation[], options: DecideOptions): Promise<Decision[]> {
    // The hot path: a manifest the route already holds needs no await before the call is queued.
    const cached = this.primary.cachedManifest?.(name);
    if (cached && cached.kind === 'policy' && !this.closed) {
      if (this.seen.get(name) !== cached) this.seen.set(name, cached);
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
    observations: readonly Observation[],
    options: DecideOptions,
  ): Promise<Decision[]> {
    let rows: Float32Array;
    let masks: Float32Array | undefined;
    try {
      rows = encodeObservations(name, m, observations);
      masks = options.masks ? encodeMasks(name, m.policy, options.masks, observations.length) : undefined;
      if (options.agentIds && (!Array.isArray(options.agentIds) || options.agentIds.length !== observations.length)) {
        throw new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `${name}: 'agentIds' must have one id per observation (${observations.length})`,
        );
      }
    } catch (err) {
      throw this.count(err);
    }
    if (observations.length === 0) return Promise.resolve([]);
    const batch = {
      rows,
      n: observations.length,
      masks,
      agentIds: options.agentIds,
      deadlineMs: options.deadlineMs ?? this.options.deadlineMs,
    };
    return this.withFallback(
      name,
      () => this.primary.decide(name, batch),
      () => this.fallback!.decide(name, batch),
      (d) => d.length > 0 && d[0]!.servedBy,
    );
  }

  private async recommend(name: string, request: RecommendRequest): Promise<Recommendation> {
    await this.manifestOf(name, 'recommender');
    try {
      checkRecommendRequest(name, request);
    } catch (err) {
      throw this.count(err);
    }
    const req = { ...request, deadlineMs: request.deadlineMs ?? this.options.deadlineMs };
    return this.withFallback(
      name,
      () => this.primary.recommend(name, req),
      () => this.fallback!.recommend(name, req),
      (r) => r.servedBy,
    );
  }

  private async run(
    name: string,
    feeds: Record<string, Tensor>,
    options: { deadlineMs?: number; fetches?: readonly string[] },
  ): Promise<RunOutput> {
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
    );
  }

  /** Runs on the primary route; on an "unavailable" error, serves the fallback if it can, counting it. */
  private withFallback<T>(
    name: string,
    primary: () => Promise<T>,
    fallback: (() => Promise<T>) | null,
    servedBy: (t: T) => RouteName | false,
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
      async (err: unknown) => {
        const e = err instanceof PlaymindError ? err : null;
        if (!e || !UNAVAILABLE_CODES.has(e.code) || !fallback || !this.fallback?.canServe(name)) throw this.count(err);
        this.counters.fallbacks.total++;
        this.counters.fallbacks.byModel[name] = (this.counters.fallbacks.byModel[name] ?? 0) + 1;
        this.counters.fallbacks.byReason[e.code] = (this.counters.fallbacks.byReason[e.code] ?? 0) + 1;
        this.emit('route', {
          model: name,
          from: this.primary.name,
          to: 'fallback',
          reason: e.code,
          message: e.message,
        });
        const r = await fallback();
        this.counters.servedBy.fallback++;
        return r;
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
  if (mode !== 'local' && (typeof options.serverUrl !== 'string' || options.serverUrl.length === 0)) {
    throw new TypeError(`'serverUrl' is required in ${mode} mode, e.g. 'ws://localhost:2567'`);
  }
  const heuristics = { ...BUILTIN_HEURISTICS, ...(options.heuristics ?? {}) };
  const brainOptions = { deadlineMs: options.deadlineMs, heuristics, fallback: options.fallback ?? true };
  if (mode === 'remote') {
    return new Brain(
      new RemoteRoute({ url: options.serverUrl!, ...(options.deadlineMs ? { timeoutMs: options.deadlineMs } : {}) }),
      brainOptions,
    );
  }
  const models = options.models;
  if (models === undefined)
    throw new TypeError(
      `'models' is required in ${mode} mode: a folder, a base URL or a ModelRepository${mode === 'auto' ? ' (the local route answers when the server cannot)' : ''}`,
    );
  const engine = new InferenceEngine({ batching: options.batching, observer: options.observer });
  let repository: ModelRepository;
  if (typeof models === 'string') {
    repository = new ModelRepository({
      source: platform.source(models),
      backend: options.backend ?? (await platform.backend()),
      logger: options.logger,
    });
    await repository.loadAll();
    if (brainOptions.fallback) warnMissingHeuristics(repository, heuristics, options.logger);
  } else if (models instanceof ModelRepository) {
    repository = models;
  } else {
    throw new TypeError(`'models' must be a string or a ModelRepository, got ${typeof models}`);
  }
  if (options.watch) repository.watch();
  const local = new LocalRoute(repository, engine);
  if (mode === 'local') return new Brain(local, brainOptions, repository);
  let brain: Brain | undefined;
  const auto = new AutoRoute({
    remote: new RemoteRoute({ url: options.serverUrl! }),
    local,
    deadlineMs: options.deadlineMs,
    retryMs: options.retryMs,
    onSwitch: (e) => brain?.routeChanged(e),
  });
  brain = new Brain(auto, brainOptions, repository);
  return brain;
}
