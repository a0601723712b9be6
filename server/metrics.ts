/**
 * Prometheus metrics of the server (prom-client, on its own Registry, never the
 * global one). The engine feeds them through its observer hooks, the repository
 * through its events, and rooms through the methods below.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver, ModelRepository } from '../sdk/index.js';

/** Label used for model names the repository does not know (keeps label cardinality bounded). */
export const UNKNOWN_MODEL_LABEL = '_unknown';

const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const TICK_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25];
const BATCH_ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** Where a request came in. */
export type Frontend = 'kserve' | 'grpc' | 'remote' | 'arena';

/**
 * The server's metrics. One instance per server; `GET /metrics` serves {@link Metrics.registry}.
 *
 * @example
 * const metrics = new Metrics();
 * const engine = new InferenceEngine({ observer: metrics.engineObserver() });
 * metrics.bind(repository, engine);
 */
export class Metrics {
  /** The registry `GET /metrics` serves. */
  readonly registry = new Registry();

  private readonly inferenceRequests = new Counter({
    name: 'playmind_inference_requests_total',
    help: 'Requests the inference engine finished, by model, version and outcome (ok or an error code).',
    labelNames: ['model', 'version', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly inferenceLatency = new Histogram({
    name: 'playmind_inference_latency_seconds',
    help: 'Time from queueing a request in the engine to its answer.',
    labelNames: ['model'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly queueTime = new Histogram({
    name: 'playmind_inference_queue_seconds',
    help: 'Time a request waited in the engine queue before its batch ran.',
    labelNames: ['model'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly batchRows = new Histogram({
    name: 'playmind_inference_batch_rows',
    help: 'Rows per model run (micro-batch size).',
    labelNames: ['model'] as const,
    buckets: BATCH_ROWS,
    registers: [this.registry],
  });
  private readonly batchRun = new Histogram({
    name: 'playmind_inference_batch_run_seconds',
    help: 'Time onnxruntime took per batch.',
    labelNames: ['model'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly frontendRequests = new Counter({
    name: 'playmind_requests_total',
    help: 'Requests received per frontend (kserve, grpc, remote, arena), model and outcome, including those refused before reaching the engine.',
    labelNames: ['frontend', 'model', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly rejectedFiles = new Counter({
    name: 'playmind_model_files_rejected_total',
    help: 'Model files the repository refused (unreadable, not ONNX, contract mismatch, bad manifest).',
    labelNames: ['model', 'code'] as const,
    registers: [this.registry],
  });
  private readonly nonFinite = new Counter({
    name: 'playmind_non_finite_outputs_total',
    help: 'Requests a served model version answered with NaN or Infinity (they failed with non_finite_output; a policy call fell back).',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  private readonly modelLoads = new Counter({
    name: 'playmind_model_loads_total',
    help: 'Model versions swapped in.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  private readonly roomsGauge = new Gauge({
    name: 'playmind_rooms',
    help: 'Rooms open in this process, by room name.',
    labelNames: ['room'] as const,
    registers: [this.registry],
  });
  private readonly clientsGauge = new Gauge({
    name: 'playmind_clients',
    help: 'Clients connected to rooms of this process, by room name.',
    labelNames: ['room'] as const,
    registers: [this.registry],
  });
  private readonly tickTime = new Histogram({
    name: 'playmind_room_tick_seconds',
    help: 'Duration of one simulation tick, inference included.',
    labelNames: ['room'] as const,
    buckets: TICK_SECONDS,
    registers: [this.registry],
  });
  private readonly deadlineMisses = new Counter({
    name: 'playmind_tick_deadline_misses_total',
    help: 'Decisions that missed their tick deadline (the agent kept its last action).',
    labelNames: ['room', 'model'] as const,
    registers: [this.registry],
  });
  private readonly fallbacks = new Counter({
    name: 'playmind_fallbacks_total',
    help: 'Calls the fallback (a heuristic, or popularity) answered because no model could, by model and reason (an error code).',
    labelNames: ['model', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'playmind_rate_limited_total',
    help: "Requests refused because a client exceeded its rate, clients disconnected for flooding, and room creations refused (action create_refused: the address's creation rate; room_limit: --max-rooms).",
    labelNames: ['room', 'action'] as const,
    registers: [this.registry],
  });
  private readonly malformed = new Counter({
    name: 'playmind_malformed_messages_total',
    help: 'Messages refused as malformed, oversized or of an unknown type.',
    labelNames: ['room', 'code'] as const,
    registers: [this.registry],
  });
  private readonly httpRequests = new Counter({
    name: 'playmind_http_requests_total',
    help: 'HTTP requests by route and status class.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly grpcRequests = new Counter({
    name: 'playmind_grpc_requests_total',
    help: 'gRPC calls (KServe v2 GRPCInferenceService) by method and status code.',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  private readonly admissions = new Counter({
    name: 'playmind_admission_total',
    help: 'Inference requests (REST and gRPC) admitted or refused by admission control: admitted, client_limit (429), server_limit (503), draining (503, shutting down).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly inflight = new Gauge({
    name: 'playmind_inflight_requests',
    help: 'Inference requests (REST and gRPC) in flight in this process, admitted and not yet answered.',
    registers: [this.registry],
  });
  private readonly adminAuth = new Counter({
    name: 'playmind_admin_auth_failures_total',
    help: 'Admin requests refused: a wrong or missing token (wrong), or an address throttled after too many (throttled).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private unbind: Array<() => void> = [];

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // process metrics, including event-loop lag (nodejs_eventloop_lag_p99_seconds, from monitorEventLoopDelay)
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1 });
  }

  /** Hooks for the {@link InferenceEngine}'s `observer` option. */
  engineObserver(): EngineObserver {
    return {
      onBatch: (e) => {
        this.batchRows.observe({ model: e.model }, e.rows);
        this.batchRun.observe({ model: e.model }, e.runMs / 1000);
      },
      onRequest: (e) => {
        this.inferenceRequests.inc({ model: e.model, version: String(e.version), outcome: e.outcome });
        this.inferenceLatency.observe({ model: e.model }, e.latencyMs / 1000);
        this.queueTime.observe({ model: e.model }, e.queueMs / 1000);
      },
    };
  }

  /**
   * Follows a repository (rejected files, loads, loaded versions) and an engine (queue depth).
   * @param repository - the server's repository
   * @param engine - something with `queueDepth()` (the engine)
   */
  bind(repository: ModelRepository, engine: { queueDepth(): Record<string, number> }): void {
    this.unbind.push(
      repository.on('load-failed', (f) => this.rejectedFiles.inc({ model: f.name, code: f.code })),
      repository.on('loaded', (e) => this.modelLoads.inc({ model: e.name })),
      repository.on('non-finite', (e) => this.nonFinite.inc({ model: e.name, version: String(e.version) })),
    );
    new Gauge({
      name: 'playmind_inference_queue_rows',
      help: 'Rows waiting in the engine queue, per model version.',
      labelNames: ['model'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [id, rows] of Object.entries(engine.queueDepth())) this.set({ model: id }, rows);
      },
    });
    new Gauge({
      name: 'playmind_model_versions_loaded',
      help: 'Model versions being served (1 per served model, labelled with its version).',
      labelNames: ['model', 'version'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of repository.list())
          if (s.served !== null) this.set({ model: s.name, version: String(s.served) }, 1);
      },
    });
    new Gauge({
      name: 'playmind_model_state',
      help: 'Models known to the repository, by state (READY, UNAVAILABLE, UNLOADED).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const counts: Record<string, number> = { READY: 0, UNAVAILABLE: 0, UNLOADED: 0 };
        for (const s of repository.list()) counts[s.state] = (counts[s.state] ?? 0) + 1;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  /** Counts a request at a frontend; `model` must be a known model or {@link UNKNOWN_MODEL_LABEL}. */
  request(frontend: Frontend, model: string, outcome: string): void {
    this.frontendRequests.inc({ frontend, model, outcome });
  }

  /** A room was created. */
  roomCreated(room: string): void {
    this.roomsGauge.inc({ room });
  }

  /** A room was disposed. */
  roomDisposed(room: string): void {
    this.roomsGauge.dec({ room });
  }

  /** A client joined a room. */
  clientJoined(room: string): void {
    this.clientsGauge.inc({ room });
  }

  /** A client left a room. */
  clientLeft(room: string): void {
    this.clientsGauge.dec({ room });
  }

  /**
   * Records one simulation tick.
   * @param room - the room name (`arena`)
   * @param ms - the tick's duration, inference included
   */
  observeTick(room: string, ms: number): void {
    this.tickTime.observe({ room }, ms / 1000);
  }

  /**
   * Counts decisions that missed their tick deadline.
   * @param room - the room name
   * @param model - the policy that was late
   * @param count - how many agents kept their last action @default 1
   */
  deadlineMiss(room: string, model: string, count = 1): void {
    this.deadlineMisses.inc({ room, model }, count);
  }

  /**
   * Counts a call the fallback answered.
   * @param model - a known model or {@link UNKNOWN_MODEL_LABEL}
   * @param reason - the error code that made the fallback answer
   */
  fallback(model: string, reason: string): void {
    this.fallbacks.inc({ model, reason });
  }

  /** Counts a rate-limited request (`action: 'rejected'`) or a client dropped for flooding (`'disconnected'`). */
  rateLimit(room: string, action: 'rejected' | 'disconnected' | 'create_refused' | 'room_limit'): void {
    this.rateLimited.inc({ room, action });
  }

  /** Counts a malformed, oversized or unknown message. */
  malformedMessage(room: string, code: string): void {
    this.malformed.inc({ room, code });
  }

  /** Counts an HTTP request by route and status class (2xx, 4xx...). */
  http(route: string, status: number): void {
    this.httpRequests.inc({ route, status: `${Math.floor(status / 100)}xx` });
  }

  /** Hooks for the admission control (`server/inference/admission.ts`). */
  admissionObserver(): {
    decision(outcome: 'admitted' | 'client_limit' | 'server_limit' | 'draining'): void;
    inflight(n: number): void;
  } {
    return {
      decision: (outcome) => this.admissions.inc({ outcome }),
      inflight: (n) => this.inflight.set(n),
    };
  }

  /** Counts a refused admin request. */
  adminRefused(outcome: 'wrong' | 'throttled'): void {
    this.adminAuth.inc({ outcome });
  }

  /** Counts a gRPC call by method (`ModelInfer`...) and status code name (`OK`, `NOT_FOUND`...). */
  grpc(method: string, code: string): void {
    this.grpcRequests.inc({ method, code });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Stops following the repository. */
  close(): void {
    for (const u of this.unbind.splice(0)) u();
  }
}
