/**
 * Server configuration: command-line flags over environment variables over defaults.
 * `parseConfig` is pure (argv and env in, config out) so tests and `main.ts` share it.
 */
import { resolve } from 'node:path';
import type { BatchingOptions } from '../sdk/index.js';

/** Limits of the `inference` room, per client. */
export interface InferenceRoomLimits {
  /** Requests a client may make per second (token bucket refill). @default 500 */
  ratePerSec: number;
  /** Requests a client may make in a burst (token bucket size). @default 1000 */
  burst: number;
  /** Rejected requests within one second past which the client is disconnected. @default 1000 */
  floodRejectsPerSec: number;
  /** Requests a client may have in flight at once. @default 256 */
  maxPending: number;
  /** Largest message the room answers; larger ones get `payload_too_large`. @default 1 MiB */
  maxMessageBytes: number;
  /**
   * Bytes a client may send per second (a byte budget read before decoding; the burst is twice
   * it, at least `maxMessageBytes`); past it messages are dropped, and a client that keeps
   * exceeding it is closed (4029). @default 1 MiB
   */
  bytesPerSec: number;
  /** Agents with recurrent state kept per client. @default 10000 */
  maxAgentsPerClient: number;
  /** Clients per room before the matchmaker opens another. @default 500 */
  maxClients: number;
}

/** Everything the server needs to start. */
export interface ServerConfig {
  /** TCP port; 0 picks a free one. @default 2567 */
  port: number;
  /** Interface to listen on. @default '0.0.0.0' */
  host: string;
  /** TCP port of the KServe v2 gRPC service (on `host`); 0 picks a free one; unset = no gRPC. */
  grpcPort?: number;
  /** The model repository folder. @default './models' */
  modelsDir: string;
  /** The built demo game, served at `/` when present. @default './demo-game/dist' */
  demoDir: string;
  /** Bearer token of the admin endpoints (model control); unset turns them off. */
  adminToken?: string;
  /** Redis URL: when set, Colyseus uses RedisPresence and RedisDriver (several processes). */
  redisUrl?: string;
  /**
   * This process's own address as clients reach it, without a scheme (`host[:port][/path]`,
   * e.g. `game.example.com/p1` behind a load balancer that routes `/p1/` to this process).
   * Seat reservations for rooms this process owns carry it, so a client that matchmade through
   * any process connects to the one that runs its room. Unset: clients connect to the address
   * they matchmade through (right for a single process).
   */
  publicAddress?: string;
  /** JSONL file quest telemetry is appended to. @default './data/quest-telemetry.jsonl' */
  telemetryFile: string;
  /** pino level. @default 'info' */
  logLevel: string;
  /** Engine batching defaults (a manifest's `batching` overrides them per model). */
  batching: BatchingOptions;
  /** Reload models whose files change on disk. @default true */
  watch: boolean;
  /**
   * Worker threads that run the models (onnxruntime's `run()` blocks the thread it is called
   * on for the whole batch); 0 runs them on the event loop, which then stalls HTTP, rooms
   * and `/metrics` for as long as each batch takes. @default 1
   */
  inferenceThreads: number;
  /**
   * Bytes an `arena` client may send per second (burst twice it); past it messages are dropped,
   * and a client that keeps exceeding it is closed (4029). @default 256 KiB
   */
  arenaBytesPerSec: number;
  /** Largest HTTP request body (a KServe infer with binary tensors; gRPC messages). @default 8 MiB */
  maxBodyBytes: number;
  /** Largest JSON HTTP body (at most `maxBodyBytes`): JSON is parsed on the event loop. @default 256 KiB */
  maxJsonBodyBytes: number;
  /** Inference requests (REST and gRPC) in flight in the process; past it `503` + `Retry-After`. @default 64 */
  maxInflight: number;
  /** Inference requests in flight per client address; past it `429` + `Retry-After`. @default 16 */
  maxInflightPerClient: number;
  /** Origins (`scheme://host[:port]`, or `*`) allowed cross-origin (CORS); the server's own origin always is. @default [] */
  corsOrigins: string[];
  /** Longest a client may take to send a request's headers, in ms (slowloris). @default 10000 */
  headersTimeoutMs: number;
  /** Longest a client may take to send a whole request, body included, in ms. @default 30000 */
  requestTimeoutMs: number;
  /** On SIGTERM/SIGINT, how long readiness answers 503 (load balancers move away) before the listener closes, in ms. @default 5000 */
  drainGraceMs: number;
  /** Longest a request may ask to wait, and the default deadline when it names none, in ms. @default 10000 */
  maxDeadlineMs: number;
  /** Longest a SIGTERM drain waits for rooms and in-flight inference, in ms. @default 30000 */
  drainTimeoutMs: number;
  /** Limits of the inference room. */
  inference: InferenceRoomLimits;
  /** Folder every arena match is recorded to (the decision log, `playmind replay`); unset = no recording. */
  decisionLogDir?: string;
  /** Most bytes of decision-log files kept; the oldest are deleted past it. @default 1 GiB */
  decisionLogMaxBytes: number;
  /** Retrain quest-recs from the telemetry every this many minutes (promoted only when better); unset = on an admin call only. */
  retrainRecsMinutes?: number;
  /** Most bytes of the telemetry file; past it the file is rotated (`<file>.1` … `<file>.4` kept). @default 64 MiB */
  telemetryMaxBytes: number;
  /** Most rooms (arena and inference) one process holds; more are refused (503). @default 100 */
  maxRooms: number;
  /** Rooms one client address may create per minute (429 above). @default 60 */
  roomCreatePerMin: number;
  /** Seconds a seat reservation waits for its client to connect; a room nobody joined disposes after it. @default 5 */
  seatReservationSeconds: number;
  /** Seconds an arena player whose connection dropped may reconnect and keep its seat and quest; 0 = none. @default 20 */
  reconnectGraceSeconds: number;
}

/** The defaults, as documented in `--help`. */
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  port: 2567,
  host: '0.0.0.0',
  modelsDir: './models',
  demoDir: './demo-game/dist',
  telemetryFile: './data/quest-telemetry.jsonl',
  logLevel: 'info',
  batching: { maxBatchSize: 256, maxQueueDelayMs: 0, maxQueueSize: 8192 },
  watch: true,
  inferenceThreads: 1,
  arenaBytesPerSec: 256 * 1024,
  maxBodyBytes: 8 * 1024 * 1024,
  maxJsonBodyBytes: 256 * 1024,
  maxInflight: 64,
  maxInflightPerClient: 16,
  corsOrigins: [],
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  drainGraceMs: 5000,
  maxDeadlineMs: 10_000,
  drainTimeoutMs: 30_000,
  decisionLogMaxBytes: 1024 * 1024 * 1024,
  telemetryMaxBytes: 64 * 1024 * 1024,
  maxRooms: 100,
  roomCreatePerMin: 60,
  seatReservationSeconds: 5,
  reconnectGraceSeconds: 20,
  inference: {
    ratePerSec: 500,
    burst: 1000,
    floodRejectsPerSec: 1000,
    maxPending: 256,
    maxMessageBytes: 1024 * 1024,
    bytesPerSec: 1024 * 1024,
    maxAgentsPerClient: 10_000,
    maxClients: 500,
  },
});

/** `--help` text. */
export const HELP = `playmind server — Colyseus rooms, KServe v2 REST and metrics on one port

Usage: npm start -- [flags]      (or: tsx server/main.ts [flags])

Flags (each overrides its environment variable):
  --port <n>             PORT              TCP port, 0 = any free port           [2567]
  --host <addr>          HOST              interface to listen on                [0.0.0.0]
  --grpc-port <n>        GRPC_PORT         KServe v2 gRPC service port, 0 = any free port [off]
  --models <dir>         MODELS_DIR        model repository folder               [./models]
  --demo <dir>           DEMO_DIR          built demo game served at /           [./demo-game/dist]
  --telemetry <file>     TELEMETRY_FILE    quest telemetry JSONL log             [./data/quest-telemetry.jsonl]
  --telemetry-max-bytes <n> TELEMETRY_MAX_BYTES  rotate the telemetry file past this size
                                           (<file>.1 … <file>.4 kept)            [67108864]
  --decision-log <dir>   DECISION_LOG_DIR  record every arena match to this folder (playmind replay) [off]
  --decision-log-max-bytes <n> DECISION_LOG_MAX_BYTES  size cap of that folder; oldest files go [1073741824]
  --log-level <level>    LOG_LEVEL         fatal|error|warn|info|debug|trace     [info]
  --batch-max-size <n>   BATCH_MAX_SIZE    most rows merged into one model run   [256]
  --batch-delay-ms <ms>  BATCH_MAX_DELAY_MS  longest a request waits for others [0 = the same event-loop turn]
  --queue-max <n>        BATCH_MAX_QUEUE   rows queued per model before 'overloaded' [8192]
  --no-watch             WATCH=0           do not reload models changed on disk
  --inference-threads <n> INFERENCE_THREADS  worker threads running the models,
                                           0 = on the event loop                 [1]
  --max-body <bytes>     MAX_BODY_BYTES    largest HTTP body: binary tensors, gRPC (413 above) [8388608]
  --max-json-body <bytes> MAX_JSON_BODY_BYTES  largest JSON body (413 above; use binary
                                           tensors for large batches)            [262144]
  --max-inflight <n>     MAX_INFLIGHT      inference requests in flight (503 above) [64]
  --max-inflight-per-client <n> MAX_INFLIGHT_PER_CLIENT  per client address (429 above) [16]
  --cors-origin <list>   CORS_ORIGIN       origins allowed cross-origin, comma-separated,
                                           or * (never admin or /metrics)        [own origin only]
  --headers-timeout-ms <ms> HEADERS_TIMEOUT_MS  longest time to send the headers [10000]
  --request-timeout-ms <ms> REQUEST_TIMEOUT_MS  longest time to send a request   [30000]
  --drain-grace-ms <ms>  DRAIN_GRACE_MS    on SIGTERM, readiness 503 this long before
                                           the listener closes                   [5000]
  --max-deadline-ms <ms> MAX_DEADLINE_MS   longest (and default) request deadline [10000]
  --drain-timeout-ms <ms> DRAIN_TIMEOUT_MS longest SIGTERM drain                 [30000]
  --public-address <a>   PUBLIC_ADDRESS    this process as clients reach it, host[:port][/path]
                                           (no scheme); set one per process with REDIS_URL
  --max-rooms <n>        MAX_ROOMS         rooms one process holds (503 above)   [100]
  --room-create-per-min <n> ROOM_CREATE_PER_MIN  rooms one client address may create
                                           per minute (429 above)                [60]
  --seat-reservation-s <s> SEAT_RESERVATION_SECONDS  a seat not taken within this expires
                                           (an unjoined room disposes)           [5]
  --reconnect-grace-s <s> RECONNECT_GRACE_SECONDS  a dropped arena player may reconnect
                                           within this, keeping seat and quest; 0 = off [20]
  --rate <n>             INFERENCE_RATE    inference-room requests/s per client  [500]
  --burst <n>            INFERENCE_BURST   inference-room burst per client       [1000]
  --inference-bytes-per-sec <n> INFERENCE_BYTES_PER_SEC  inference-room bytes/s per client
                                           (burst 2x); kept exceeding: 4029      [1048576]
  --arena-bytes-per-sec <n> ARENA_BYTES_PER_SEC  arena-room bytes/s per client
                                           (burst 2x); kept exceeding: 4029      [262144]
  --retrain-recs-minutes <n> RETRAIN_RECS_MINUTES  retrain quest-recs from the telemetry every n
                                           minutes, promoted only when better     [off: admin call]
  --help                                   print this help

Environment only:
  ADMIN_TOKEN     bearer token for model control (POST /v2/repository/models/:name/load|unload);
                  unset = admin endpoints off
  REDIS_URL       redis://host:port — share matchmaking across processes (RedisPresence + RedisDriver)
  PLAYMIND_WATCH_SETTLE_MS  how long model files must be unchanged before a reload [150]

Endpoints:
  /                          demo game (or a status page when it is not built)
  ws://host:port             Colyseus rooms 'arena' and 'inference'
  GET  /v2/health/live, /v2/health/ready
  GET  /replay, /v2/replays, /v2/replays/:match   (admin: recorded matches, with --decision-log)
  GET  /v2/models/:name, /v2/models/:name/ready
  POST /v2/models/:name/infer
  POST /v2/repository/models/:name/load|unload   (Authorization: Bearer $ADMIN_TOKEN)
  POST|GET|DELETE /v2/repository/models/:name/rollout, POST .../rollout/promote   (admin)
  POST /v2/repository/models/:name/retrain      (admin: retrain quest-recs now)
  GET  /models/index.json, /models/:name/manifest.json, /models/:name/:version/model.onnx
  GET  /metrics              Prometheus metrics
  grpc://host:grpc-port      KServe v2 inference.GRPCInferenceService (with --grpc-port)
`;

/** A bad flag or value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The result of {@link parseConfig}: a config, or a request for help. */
export type ParsedArgs = { help: true } | { help: false; config: ServerConfig };

type Env = Record<string, string | undefined>;

const FLAG_ENV: Record<string, string> = {
  port: 'PORT',
  host: 'HOST',
  'grpc-port': 'GRPC_PORT',
  models: 'MODELS_DIR',
  demo: 'DEMO_DIR',
  telemetry: 'TELEMETRY_FILE',
  'decision-log': 'DECISION_LOG_DIR',
  'decision-log-max-bytes': 'DECISION_LOG_MAX_BYTES',
  'log-level': 'LOG_LEVEL',
  'batch-max-size': 'BATCH_MAX_SIZE',
  'batch-delay-ms': 'BATCH_MAX_DELAY_MS',
  'queue-max': 'BATCH_MAX_QUEUE',
  'inference-threads': 'INFERENCE_THREADS',
  'max-body': 'MAX_BODY_BYTES',
  'max-json-body': 'MAX_JSON_BODY_BYTES',
  'max-inflight': 'MAX_INFLIGHT',
  'max-inflight-per-client': 'MAX_INFLIGHT_PER_CLIENT',
  'cors-origin': 'CORS_ORIGIN',
  'headers-timeout-ms': 'HEADERS_TIMEOUT_MS',
  'request-timeout-ms': 'REQUEST_TIMEOUT_MS',
  'drain-grace-ms': 'DRAIN_GRACE_MS',
  'max-deadline-ms': 'MAX_DEADLINE_MS',
  'drain-timeout-ms': 'DRAIN_TIMEOUT_MS',
  rate: 'INFERENCE_RATE',
  burst: 'INFERENCE_BURST',
  'inference-bytes-per-sec': 'INFERENCE_BYTES_PER_SEC',
  'arena-bytes-per-sec': 'ARENA_BYTES_PER_SEC',
  'public-address': 'PUBLIC_ADDRESS',
  'retrain-recs-minutes': 'RETRAIN_RECS_MINUTES',
  'telemetry-max-bytes': 'TELEMETRY_MAX_BYTES',
  'max-rooms': 'MAX_ROOMS',
  'room-create-per-min': 'ROOM_CREATE_PER_MIN',
  'seat-reservation-s': 'SEAT_RESERVATION_SECONDS',
  'reconnect-grace-s': 'RECONNECT_GRACE_SECONDS',
};

/**
 * Reads flags and environment variables.
 * @param argv - the arguments after the script (`process.argv.slice(2)`)
 * @param env - the environment (`process.env`)
 * @returns the config, or `{ help: true }` when `--help` was given
 * @throws ConfigError naming the flag or variable that is wrong
 * @example parseConfig(['--port', '0'], {})
 */
export function parseConfig(argv: readonly string[], env: Env = {}): ParsedArgs {
  const flags = new Map<string, string>();
  let watch: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg === '--no-watch') {
      watch = false;
      continue;
    }
    if (arg === '--watch') {
      watch = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1]! in FLAG_ENV)) throw new ConfigError(`unknown flag ${arg} (see --help)`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${m[1]} needs a value`);
    flags.set(m[1]!, value);
  }
  const raw = (flag: string): { value: string; from: string } | undefined => {
    const f = flags.get(flag);
    if (f !== undefined) return { value: f, from: `--${flag}` };
    const name = FLAG_ENV[flag]!;
    const e = env[name];
    return e !== undefined && e !== '' ? { value: e, from: name } : undefined;
  };
  const str = (flag: string, def: string) => raw(flag)?.value ?? def;
  const num = (flag: string, def: number, min: number, integer = true) => {
    const r = raw(flag);
    if (!r) return def;
    const n = Number(r.value);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new ConfigError(`${r.from} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${r.value}"`);
    }
    return n;
  };
  const d = DEFAULT_CONFIG;
  const port = num('port', d.port, 0);
  if (port > 65535) throw new ConfigError(`port must be at most 65535, got ${port}`);
  const grpcPort = raw('grpc-port') ? num('grpc-port', 0, 0) : undefined;
  if (grpcPort !== undefined && grpcPort > 65535)
    throw new ConfigError(`grpc port must be at most 65535, got ${grpcPort}`);
  if (grpcPort !== undefined && grpcPort !== 0 && grpcPort === port)
    throw new ConfigError(`the gRPC port must differ from the HTTP port (both ${port})`);
  const logLevel = str('log-level', d.logLevel);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }
  const ratePerSec = num('rate', d.inference.ratePerSec, 1);
  const burst = num('burst', Math.max(d.inference.burst, ratePerSec), 1);
  const envWatch = env.WATCH;
  const publicAddress = publicAddressOf(raw('public-address'));
  const config: ServerConfig = {
    port,
    host: str('host', d.host),
    grpcPort,
    modelsDir: resolve(str('models', d.modelsDir)),
    demoDir: resolve(str('demo', d.demoDir)),
    telemetryFile: resolve(str('telemetry', d.telemetryFile)),
    decisionLogDir: raw('decision-log') ? resolve(raw('decision-log')!.value) : undefined,
    decisionLogMaxBytes: num('decision-log-max-bytes', d.decisionLogMaxBytes, 1024),
    adminToken: env.ADMIN_TOKEN ? env.ADMIN_TOKEN : undefined,
    redisUrl: env.REDIS_URL ? env.REDIS_URL : undefined,
    publicAddress,
    logLevel,
    batching: {
      maxBatchSize: num('batch-max-size', d.batching.maxBatchSize, 1),
      maxQueueDelayMs: num('batch-delay-ms', d.batching.maxQueueDelayMs, 0, false),
      maxQueueSize: num('queue-max', d.batching.maxQueueSize, 1),
    },
    watch: watch ?? (envWatch === undefined ? d.watch : !['0', 'false', 'no', 'off'].includes(envWatch.toLowerCase())),
    inferenceThreads: num('inference-threads', d.inferenceThreads, 0),
    arenaBytesPerSec: num('arena-bytes-per-sec', d.arenaBytesPerSec, 1024),
    maxBodyBytes: num('max-body', d.maxBodyBytes, 1024),
    maxJsonBodyBytes: num('max-json-body', d.maxJsonBodyBytes, 1024),
    maxInflight: num('max-inflight', d.maxInflight, 1),
    maxInflightPerClient: num('max-inflight-per-client', d.maxInflightPerClient, 1),
    corsOrigins: corsOriginsOf(raw('cors-origin')),
    headersTimeoutMs: num('headers-timeout-ms', d.headersTimeoutMs, 100),
    requestTimeoutMs: num('request-timeout-ms', d.requestTimeoutMs, 100),
    drainGraceMs: num('drain-grace-ms', d.drainGraceMs, 0),
    maxDeadlineMs: num('max-deadline-ms', d.maxDeadlineMs, 1),
    drainTimeoutMs: num('drain-timeout-ms', d.drainTimeoutMs, 0),
    retrainRecsMinutes: raw('retrain-recs-minutes') ? num('retrain-recs-minutes', 60, 1) : undefined,
    telemetryMaxBytes: num('telemetry-max-bytes', d.telemetryMaxBytes, 1024),
    maxRooms: num('max-rooms', d.maxRooms, 1),
    roomCreatePerMin: num('room-create-per-min', d.roomCreatePerMin, 1),
    seatReservationSeconds: num('seat-reservation-s', d.seatReservationSeconds, 1),
    reconnectGraceSeconds: num('reconnect-grace-s', d.reconnectGraceSeconds, 0),
    inference: {
      ...d.inference,
      ratePerSec,
      burst,
      floodRejectsPerSec: Math.max(d.inference.floodRejectsPerSec, ratePerSec),
      bytesPerSec: num('inference-bytes-per-sec', d.inference.bytesPerSec, 1024),
    },
  };
  if (config.adminToken !== undefined && config.adminToken.length < 8) {
    throw new ConfigError('ADMIN_TOKEN must be at least 8 characters');
  }
  return { help: false, config };
}

/** `--cors-origin`: comma-separated origins (`scheme://host[:port]`, no path) or `*`. */
function corsOriginsOf(r: { value: string; from: string } | undefined): string[] {
  if (!r) return [];
  const out: string[] = [];
  for (const part of r.value.split(',')) {
    const o = part.trim().replace(/\/+$/, '');
    if (!o) continue;
    if (
      o !== '*' &&
      !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o) &&
      !/^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(o)
    )
      throw new ConfigError(
        `${r.from} must list origins like https://game.example.com or http://localhost:5173 (or *), got "${o}"`,
      );
    out.push(o.toLowerCase());
  }
  return out;
}

/** `host[:port][/path]`: the SDK puts `ws(s)://` in front and `/<processId>/<roomId>` after it. */
function publicAddressOf(r: { value: string; from: string } | undefined): string | undefined {
  if (!r) return undefined;
  const value = r.value.trim().replace(/\/+$/, '');
  if (
    !/^[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~\-/]*)?$/.test(value) &&
    !/^\[[0-9A-Fa-f:.]+\](:\d{1,5})?(\/[A-Za-z0-9._~\-/]*)?$/.test(value)
  ) {
    throw new ConfigError(
      `${r.from} must be host[:port][/path] without a scheme (e.g. game.example.com/p1 or 10.0.0.5:2567), got "${r.value}"`,
    );
  }
  return value;
}

/**
 * A config for tests and embedding: the defaults with `overrides` applied
 * (nested `batching` and `inference` are merged).
 * @example createServer(serverConfig({ port: 0, host: '127.0.0.1', modelsDir: dir }))
 */
export function serverConfig(
  overrides: Partial<Omit<ServerConfig, 'batching' | 'inference'>> & {
    batching?: Partial<BatchingOptions>;
    inference?: Partial<InferenceRoomLimits>;
  } = {},
): ServerConfig {
  const d = DEFAULT_CONFIG;
  return {
    ...d,
    ...overrides,
    modelsDir: resolve(overrides.modelsDir ?? d.modelsDir),
    demoDir: resolve(overrides.demoDir ?? d.demoDir),
    telemetryFile: resolve(overrides.telemetryFile ?? d.telemetryFile),
    ...(overrides.decisionLogDir !== undefined ? { decisionLogDir: resolve(overrides.decisionLogDir) } : {}),
    batching: { ...d.batching, ...(overrides.batching ?? {}) },
    inference: { ...d.inference, ...(overrides.inference ?? {}) },
  };
}
