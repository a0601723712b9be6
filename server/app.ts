/**
 * The Playmind server: one HTTP server carrying the express app (KServe v2 REST,
 * `/metrics`, the model files, the demo game) and the Colyseus rooms over
 * WebSocket, all on the server's one model repository and inference engine.
 *
 * @example
 * const server = await createServer(serverConfig({ port: 0, host: '127.0.0.1', modelsDir }));
 * console.log(server.url);
 * await server.close();
 */
import { existsSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Server as ColyseusServer, type Presence, matchMaker } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';
import type { Application } from 'express';
import pino from 'pino';
import {
  ErrorCode,
  FsModelSource,
  InferenceEngine,
  ModelRepository,
  PlaymindError,
  RoomName,
  createBrain,
  nodeBackend,
  workerBackend,
} from '../sdk/index.js';
import type { ServerConfig } from './config.js';
import { startGrpcServer, type GrpcInferenceServer } from './grpc/grpc-server.js';
import { errorHandler, hidePaths, sendError } from './http/errors.js';
import { installFrontDoor } from './http/front-door.js';
import { originAllowed, originRule } from './http/origins.js';
import { Admission } from './inference/admission.js';
import { kserveRouter } from './http/kserve.js';
import { rolloutRouter } from './http/rollout-routes.js';
import { modelFilesRouter } from './http/model-files.js';
import { staticFiles } from './http/static-files.js';
import { statusPage } from './http/status-page.js';
import { Metrics, UNKNOWN_MODEL_LABEL } from './metrics.js';
import { OpenInference } from './inference/open-inference.js';
import { InferenceRoom } from './rooms/inference-room.js';
import { DecisionLog } from './recording/decision-log-writer.js';
import { registerDecisionLogMetrics } from './recording/decision-log-metrics.js';
import { replayRouter } from './http/replay-routes.js';
import { RecsRetrainer } from './rollout/recs-retrainer.js';
import { RolloutManager } from './rollout/rollout-manager.js';
import { RolloutMetrics } from './rollout/rollout-metrics.js';
import type { ServerServices } from './services.js';
// ARENA: the arena room is registered below when server/rooms/arena-room.ts exists.
import { ArenaRoom, type ArenaSettings } from './rooms/arena-room.js';
import { QuestTelemetry } from './rooms/arena-telemetry.js';
import { RoomAdmission, trackClientAddresses } from './rooms/room-admission.js';

export type { ServerConfig } from './config.js';
export { serverConfig, parseConfig, DEFAULT_CONFIG } from './config.js';
export type { ServerServices } from './services.js';

/** A running server. */
export interface PlaymindServer {
  /** The port it listens on (the real one when the config asked for 0). */
  readonly port: number;
  readonly host: string;
  /** `http://host:port` (loopback when listening on every interface). */
  readonly url: string;
  /** The KServe v2 gRPC service's `host:port` as a client dials it, when `config.grpcPort` is set. */
  readonly grpcAddress?: string;
  /** The shared services (repository, engine, metrics...). */
  readonly services: ServerServices;
  /** Whether a drain has started. */
  readonly draining: boolean;
  /**
   * Drains and stops: readiness answers 503 at once (for `graceMs`, load balancers move
   * away while everything is still served), then the listener closes, new rooms are
   * refused, rooms dispose (their ticks finish), HTTP and gRPC inference in flight is
   * answered, and the engine, the repository and the HTTP server close. Resolves once
   * everything is closed; calling it again returns the same promise.
   * @param options - `graceMs`: how long readiness reports 503 before the listener closes @default 0
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Options of {@link createServer} beyond the config. */
export interface CreateServerOptions {
  /** A pino logger; by default one is made at `config.logLevel`. */
  logger?: pino.Logger;
  /** Game settings of the `arena` room (guard count, seed, tick rate, rate limits...). */
  arena?: ArenaSettings;
}

// Colyseus keeps its matchmaker in module state: one server per process at a time.
let running: Promise<unknown> | null = null;

/**
 * Starts a server.
 * @param config - see {@link serverConfig} and `parseConfig`
 * @param options - a logger
 * @returns the running server
 * @throws Error when another server is running in this process, or the port is taken
 */
export async function createServer(config: ServerConfig, options: CreateServerOptions = {}): Promise<PlaymindServer> {
  if (!config || typeof config !== 'object')
    throw new TypeError("'config' must be a ServerConfig (see serverConfig())");
  if (running)
    throw new Error(
      'a Playmind server is already running in this process (Colyseus keeps one matchmaker per process); close it first',
    );
  let release!: () => void;
  running = new Promise<void>((r) => (release = r)).then(() => {
    running = null;
  });
  try {
    return await start(config, options, release);
  } catch (err) {
    release();
    throw err;
  }
}

async function start(config: ServerConfig, options: CreateServerOptions, release: () => void): Promise<PlaymindServer> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'playmind' } });
  const metrics = new Metrics();
  const engine = new InferenceEngine({ batching: config.batching, observer: metrics.engineObserver() });
  await mkdir(config.modelsDir, { recursive: true });
  await mkdir(dirname(config.telemetryFile), { recursive: true });
  const repository = new ModelRepository({
    source: new FsModelSource(config.modelsDir),
    // Off the event loop by default: a batch blocks the thread that runs it.
    backend: config.inferenceThreads > 0 ? workerBackend({ threads: config.inferenceThreads }) : nodeBackend(),
    logger: logger.child({ component: 'repository' }),
  });
  metrics.bind(repository, engine);
  const states = await repository.loadAll();
  logger.info(
    { modelsDir: config.modelsDir, models: states.map((s) => ({ name: s.name, state: s.state, served: s.served })) },
    'model repository loaded',
  );
  if (config.watch) repository.watch();
  // The one decision layer: a brain on the shared engine and repository (it closes neither); the
  // guards' fallback, expert-guard, is a builtin heuristic of every brain.
  const brain = await createBrain({ engine, models: repository, logger: logger.child({ component: 'brain' }) });
  brain.on('route', (e) => {
    if (e.to === 'fallback') metrics.fallback(repository.has(e.model) ? e.model : UNKNOWN_MODEL_LABEL, e.reason);
  });

  const rolloutMetrics = new RolloutMetrics(metrics.registry);
  const rollouts = new RolloutManager({
    repository,
    modelsDir: config.modelsDir,
    metrics: rolloutMetrics,
    logger: logger.child({ component: 'rollout' }),
    // A candidate decides on the shared engine, beside the served version.
    engine,
  });
  const telemetry = new QuestTelemetry(
    config.telemetryFile,
    (err) => logger.error({ err, file: config.telemetryFile }, 'quest telemetry write failed'),
    { maxBytes: config.telemetryMaxBytes },
  );
  let refusals = 0;
  let refusalLoggedAt = 0;
  const rooms = new RoomAdmission(
    { maxRooms: config.maxRooms, createPerMinute: config.roomCreatePerMin },
    (room, reason) => {
      metrics.rateLimit(room, reason === 'room_limit' ? 'room_limit' : 'create_refused');
      // At most one warning every 10 s (a flood of refusals must not flood the log too).
      refusals++;
      if (Date.now() - refusalLoggedAt < 10_000) return;
      logger.warn({ room, reason, refusals }, 'room creations refused (counted in playmind_rate_limited_total)');
      refusalLoggedAt = Date.now();
      refusals = 0;
    },
  );
  const recsRetrainer = new RecsRetrainer({
    model: 'quest-recs',
    telemetryFile: config.telemetryFile,
    flushTelemetry: () => telemetry.flush(),
    modelsDir: config.modelsDir,
    repository,
    engine,
    rollouts,
    logger: logger.child({ component: 'recs-retrain' }),
    onReport: (r) =>
      rolloutMetrics.retrain(r.model, r.version === null ? 'skipped' : r.promoted ? 'promoted' : 'refused', r),
  });
  if (config.retrainRecsMinutes !== undefined) recsRetrainer.schedule(config.retrainRecsMinutes);
  const decisionLog = config.decisionLogDir
    ? await DecisionLog.open({
        dir: config.decisionLogDir,
        maxBytes: config.decisionLogMaxBytes,
        logger: logger.child({ component: 'decision-log' }),
      })
    : null;
  if (decisionLog) {
    registerDecisionLogMetrics(metrics.registry, decisionLog);
    logger.info({ dir: decisionLog.dir, maxBytes: decisionLog.maxBytes }, 'recording every arena match');
  }
  const services: ServerServices = {
    brain,
    repository,
    engine,
    metrics,
    logger,
    config,
    telemetryFile: config.telemetryFile,
    telemetry,
    rooms,
    rollouts,
    decisionLog,
  };
  let draining = false;
  // The Open Inference core (REST and gRPC adapt it), running models through the brain.
  const core = new OpenInference(
    services,
    { manifest: (m) => brain.model(m).manifest(), run: (m, feeds, o) => brain.model(m).run(feeds, o) },
    { isDraining: () => draining },
  );

  // Slowloris: headers within headersTimeout, the whole request within requestTimeout
  // (checked every second, not Node's default 30 s).
  const httpServer: HttpServer = createHttpServer({
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
    connectionsCheckingInterval: 1000,
  });
  httpServer.keepAliveTimeout = 5000;
  // Absolute paths (the repository's, the working folder's) never reach a caller in an error.
  const modelsReal = await realpath(config.modelsDir).catch(() => config.modelsDir);
  hidePaths([
    [config.modelsDir, 'the model repository'],
    [modelsReal, 'the model repository'],
    [process.cwd(), '.'],
    [dirname(config.telemetryFile), 'the telemetry folder'],
  ]);
  // Admission control of inference requests, shared by REST (the front door) and gRPC.
  const admission = new Admission(
    { maxInflight: config.maxInflight, maxInflightPerClient: config.maxInflightPerClient },
    metrics.admissionObserver(),
  );
  // CORS is the front door's (configured origins only, never admin or /metrics): Colyseus's
  // own handler, which reflects any origin with credentials, adds nothing.
  matchMaker.controller.DEFAULT_CORS_HEADERS = {} as typeof matchMaker.controller.DEFAULT_CORS_HEADERS;
  matchMaker.controller.getCorsHeaders = () => ({});
  const httpClosed = new Promise<void>((resolve) => httpServer.once('close', () => resolve()));
  const originOf = originRule(config.corsOrigins);
  const transport = new WebSocketTransport({
    server: httpServer,
    // Hard cap: frames past it close the socket. The rooms answer `payload_too_large` below it.
    maxPayload: 2 * config.inference.maxMessageBytes,
    // A page from a foreign origin may not open the rooms' WebSockets (browsers apply no CORS
    // to them); a client that sends no Origin (Node, Unity, Godot) is not a page.
    beforeUpgrade: (_request, context) => {
      const origin = context.headers.get('origin');
      if (originAllowed(originOf(origin ?? undefined, context.headers.get('host') ?? undefined))) return;
      metrics.http('websocket', 403);
      return Response.json(
        {
          error: `origin ${JSON.stringify(String(origin).slice(0, 200))} may not open a WebSocket here: only this server's own origin and those given with --cors-origin`,
          code: ErrorCode.UNAUTHORIZED,
        },
        { status: 403 },
      );
    },
  });
  // Node 20 has no global WebSocket, and @colyseus/core 0.18 reads `WebSocket.OPEN` when a
  // dropped client reconnects (`allowReconnection`): without one every reconnection fails.
  // The transport's own `ws` class fills in (Node 22+ has the global; it is left alone).
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= (transport as unknown as { wss: { options: { WebSocket: unknown } } }).wss.options.WebSocket;
  let presence: Presence | undefined;
  let driver: matchMaker.MatchMakerDriver | undefined;
  if (config.redisUrl) {
    const [{ RedisPresence }, { RedisDriver }] = await Promise.all([
      import('@colyseus/redis-presence'),
      import('@colyseus/redis-driver'),
    ]);
    presence = new RedisPresence(config.redisUrl);
    driver = new RedisDriver(config.redisUrl);
    logger.info(
      { redis: redact(config.redisUrl), publicAddress: config.publicAddress },
      'matchmaking shared through Redis (RedisPresence + RedisDriver)',
    );
    if (!config.publicAddress) {
      logger.warn(
        'REDIS_URL is set without PUBLIC_ADDRESS: seat reservations will not name this process, so a client that matchmade through another process cannot reach rooms created here; give each process its own --public-address',
      );
    }
  }

  const gameServer = new ColyseusServer({
    transport,
    presence,
    driver,
    // Seat reservations for rooms this process owns name it, so clients connect here.
    publicAddress: config.publicAddress,
    greet: false,
    // main.ts handles SIGTERM/SIGINT and drains; Colyseus must not exit the process itself.
    gracefullyShutdown: false,
    logger: logger.child({ component: 'colyseus' }),
    express: (app) => mountHttp(app as Application, services, core, new Map([['quest-recs', recsRetrainer]])),
  });
  gameServer.define(RoomName.INFERENCE, InferenceRoom, { services });
  gameServer.define(RoomName.ARENA, ArenaRoom, options.arena ? { services, arena: options.arena } : { services }); // ARENA

  await gameServer.listen(config.port, config.host);
  installFrontDoor(httpServer, { config, admission, metrics });
  // Outermost: a room created by a matchmaking request knows the request's TCP peer.
  trackClientAddresses(httpServer);
  let grpc: GrpcInferenceServer | undefined;
  if (config.grpcPort !== undefined) {
    try {
      grpc = await startGrpcServer(services, core, { host: config.host, port: config.grpcPort, admission });
    } catch (err) {
      await gameServer.gracefullyShutdown(false).catch(() => undefined);
      await recsRetrainer.stop();
      await rollouts.close();
      await decisionLog?.close();
      await brain.close();
      engine.close();
      await repository.close();
      metrics.close();
      throw err;
    }
  }
  const address = httpServer.address() as AddressInfo;
  const host = config.host;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${address.port}`;
  logger.info(
    {
      url,
      port: address.port,
      host,
      admin: config.adminToken !== undefined,
      redis: config.redisUrl !== undefined,
      publicAddress: config.publicAddress,
      processId: matchMaker.processId,
      grpc: grpc?.address,
    },
    'playmind server listening',
  );

  let closing: Promise<void> | undefined;
  const close = (options: { graceMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      const graceMs = Math.max(0, options.graceMs ?? 0);
      if (graceMs > 0) {
        // Readiness answers 503 while everything is still served: load balancers move away first.
        logger.info({ graceMs }, 'draining: readiness reports 503; the listener closes after the grace');
        await new Promise((r) => setTimeout(r, graceMs));
      }
      const deadline = Date.now() + config.drainTimeoutMs;
      const left = () => Math.max(0, deadline - Date.now());
      logger.info(
        { timeoutMs: config.drainTimeoutMs },
        'draining: no new connections or rooms; waiting for rooms and in-flight inference',
      );
      // New connections are refused, and new inference requests on open ones (503 `unavailable`,
      // REST and gRPC); those in flight are still answered.
      admission.drain();
      if (httpServer.listening) httpServer.close();
      // Locks every room, lets it dispose (ticks finish), disconnects clients, closes the transport.
      const shutdown = await within(
        gameServer.gracefullyShutdown(false).then(() => true),
        left(),
        false,
      );
      if (!shutdown) logger.warn('draining: rooms did not dispose in time');
      // HTTP inference in flight (its body still being read, perhaps) is answered first.
      if (
        !(await within(
          admission.idle().then(() => true),
          left(),
          false,
        ))
      )
        logger.warn({ inflight: admission.inflight }, 'draining: HTTP inference in flight did not finish in time');
      const idle = await within(
        engine.idle().then(() => true),
        left(),
        false,
      );
      if (!idle)
        logger.warn({ pending: engine.pending }, 'draining: in-flight inference did not finish in time; cancelling it');
      // gRPC calls in flight finish before the engine closes (their deadlines bound them).
      await grpc?.close(Math.max(100, left()));
      await recsRetrainer.stop();
      await telemetry.flush();
      // Rooms have disposed (their matches ended); what is left is written and synced.
      await decisionLog?.close();
      await rollouts.close();
      await brain.close();
      engine.close();
      await repository.close();
      metrics.close();
      if (httpServer.listening) httpServer.close();
      httpServer.closeIdleConnections();
      if (
        !(await within(
          httpClosed.then(() => true),
          Math.min(2000, left() + 500),
          false,
        ))
      )
        httpServer.closeAllConnections();
      await httpClosed;
      logger.info('server closed');
      release();
    })();
    return closing;
  };

  return {
    port: address.port,
    host,
    url,
    ...(grpc ? { grpcAddress: grpc.address } : {}),
    services,
    get draining() {
      return draining;
    },
    close,
  };
}

/** Mounts the HTTP routes on the transport's express app. */
function mountHttp(
  app: Application,
  services: ServerServices,
  core: OpenInference,
  retrainers: ReadonlyMap<string, RecsRetrainer>,
): void {
  const { config, metrics, repository, logger } = services;
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String((req.route as { path?: unknown }).path)}` : 'unmatched';
      metrics.http(route, res.statusCode);
    });
    next();
  });
  app.use(kserveRouter(services, { core }));
  app.use(rolloutRouter(services, services.rollouts, retrainers));
  app.use(replayRouter(services));
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.render();
    res.type(contentType).send(body);
  });
  app.use('/models', modelFilesRouter(config.modelsDir));
  const demoIndex = join(config.demoDir, 'index.html');
  if (existsSync(demoIndex)) {
    logger.info({ demoDir: config.demoDir }, 'serving the demo game at /');
    // Precompressed variants (.br, .gz written by the demo's build) when the browser takes them.
    app.use(staticFiles(config.demoDir));
  } else {
    logger.warn({ demoDir: config.demoDir }, 'the demo game is not built; / serves a status page');
    app.get('/', (_req, res) => {
      res.type('html').send(statusPage(repository.list(), config.demoDir, config.adminToken !== undefined));
    });
  }
  app.use((req, res) => {
    sendError(
      res,
      new PlaymindError(ErrorCode.INVALID_ARGUMENT, `no route ${req.method} ${req.path.slice(0, 200)}`),
      404,
    );
  });
  app.use(errorHandler(logger));
}

/** Resolves with the promise's value, or `fallback` after `ms`. */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.catch(() => fallback),
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
