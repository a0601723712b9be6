/**
 * The shared services every room and HTTP route of one server uses: one model
 * repository, one inference engine, one metrics registry. They are passed to
 * rooms through the room definition's options
 * (`gameServer.define('arena', ArenaRoom, { services })`), never through module
 * globals, so tests can run servers side by side with their own services.
 */
import type pino from 'pino';
import type { Brain, InferenceEngine, ModelRepository } from '../sdk/index.js';
import type { ServerConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { DecisionLog } from './recording/decision-log-writer.js';
import type { RolloutManager } from './rollout/rollout-manager.js';
import type { QuestTelemetry } from './rooms/arena-telemetry.js';
import type { RoomAdmission } from './rooms/room-admission.js';

/** What a room or route of the server may use. */
export interface ServerServices {
  /**
   * The decision layer every frontend uses (arena guards and quests, the inference room,
   * KServe): the SDK's brain on the shared engine and repository, with the guard
   * heuristics registered. One fallback rule holds everywhere.
   */
  brain: Brain;
  /** The model repository (the one source of model versions). */
  repository: ModelRepository;
  /** The inference engine (the one batcher; decide through `brain`). */
  engine: InferenceEngine;
  /** The server's metrics. */
  metrics: Metrics;
  /** The server's logger; rooms take a child (`logger.child({ room: 'arena' })`). */
  logger: pino.Logger;
  /** The configuration the server started with. */
  config: ServerConfig;
  /** Where quest telemetry (take/finish) is appended, one JSON object per line. */
  telemetryFile: string;
  /** The one writer of that file (every arena room shares it; size-capped with rotation). */
  telemetry: QuestTelemetry;
  /** Admission of new rooms: the cap per process and the creation rate per client address. */
  rooms: RoomAdmission;
  /** Shadow and canary rollouts of candidate versions (`/v2/repository/models/:name/rollout`). */
  rollouts: RolloutManager;
  /** Where arena matches are recorded (`--decision-log`), or null when they are not. */
  decisionLog: DecisionLog | null;
}

/** The options rooms receive in `onCreate` (the client's join options are merged under them). */
export interface RoomServicesOptions {
  services: ServerServices;
}

/**
 * Takes the services out of a room's `onCreate` options.
 * @param options - the options `onCreate` received
 * @returns the services the server defined the room with
 * @throws TypeError when the room was defined without services (a wiring bug)
 * @example
 * override onCreate(options: RoomServicesOptions) { this.services = servicesFrom(options); }
 */
export function servicesFrom(options: unknown): ServerServices {
  const s = (options as Partial<RoomServicesOptions> | undefined)?.services;
  if (
    !s ||
    typeof s !== 'object' ||
    typeof (s as ServerServices).repository?.use !== 'function' ||
    typeof (s as ServerServices).brain?.policy !== 'function' ||
    typeof (s as ServerServices).engine?.run !== 'function'
  ) {
    throw new TypeError("room options must carry 'services' (define the room with { services })");
  }
  return s;
}
