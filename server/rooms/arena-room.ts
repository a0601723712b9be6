/**
 * The `arena` room: the Colyseus adapter of the one arena game
 * (`server/game/arena-game.ts`). One {@link ArenaSession} per room (the game
 * with the server's brain and telemetry injected, and its view written
 * into the schema state) ticks at 20 Hz; guards are driven by the `npc-guard`
 * model (one batched decision per tick, pipelined so inference never stalls a
 * tick), scripted bots fill the arena up to `minPlayers`, and every client
 * controls one player. This file only validates and forwards messages, rate-limits
 * clients, sends each player its recommendations and errors, and reports metrics.
 *
 * Define it with the server's services:
 * `gameServer.define('arena', ArenaRoom, { services })`. Room options (from the
 * definition only, as an {@link ArenaSettings}): `guardCount`, `minPlayers`,
 * `seed`, `deadlineMs`, `tickRate`, `maxClients`, `rateLimits`, each held to the game's one
 * limit set (`ARENA_LIMITS`), `roundTicks`, `roundGoal`. Join options: `name` (1-16 letters,
 * digits, spaces or `_.-'`), the name other players see. Quest telemetry is written under the
 * player's session id, assigned by the server (a client cannot name the player it writes for).
 *
 * Admission and seats: a room is admitted by the server's room admission (`room-admission.ts`: the cap per
 * process, the creation rate per client address); a seat reservation nobody takes expires
 * after `--seat-reservation-s`, and a room nobody joined disposes then. A player whose
 * connection drops keeps its seat, its player and its active quest for `--reconnect-grace-s`
 * (`allowReconnection`): it reconnects with its reconnection token (`@colyseus/sdk` does it by
 * itself, or `client.reconnect(token)`); after the grace it is removed (its quest abandoned)
 * and the token is refused.
 *
 * Messages and state: see `arena-messages.ts` and `arena-state.ts`.
 *
 * @module
 */
import { Room, ServerError, type Client } from '@colyseus/core';
import { ArenaMessage, ErrorCode, PlaymindError, RoomName, type WireError } from '../../sdk/index.js';
import { toPlaymindError } from '../../sdk/runtime.js';
import { checkLimit } from '../game/index.js';
import { UNKNOWN_MODEL_LABEL } from '../metrics.js';
import { MatchRecorder } from '../recording/match-recorder.js';
import { servicesFrom, type RoomServicesOptions, type ServerServices } from '../services.js';
import {
  parseAbandonQuest,
  parseFinishQuest,
  parseGuardMode,
  parseInput,
  parseRecommendationsRequest,
  parseTakeQuest,
  RateLimiter,
  type RateLimitOptions,
} from './arena-messages.js';
import { ByteBudget } from './byte-budget.js';
import type { RecommendationsMessage } from './arena-quests.js';
import { ArenaSession, type ArenaMetricsSink } from './arena-session.js';
import type { ArenaState } from './arena-state.js';
import type { QuestTelemetry } from './arena-telemetry.js';

/** Close code sent to a client dropped for flooding. */
export const ARENA_FLOOD_CLOSE_CODE = 4029;

/** Game settings of the `arena` room. */
export interface ArenaSettingsInput {
  /** @default 6 (at most `ARENA_LIMITS.guardCount.max`) */
  guardCount?: number;
  /** Bots fill the arena up to this many players. @default 4 */
  minPlayers?: number;
  /** Simulation seed. @default random */
  seed?: number;
  /** Guard decision deadline, ms. @default 25 */
  deadlineMs?: number;
  /** Ticks per second. @default 20 */
  tickRate?: number;
  /** Most clients per room. @default 32 */
  maxClients?: number;
  /** Per-client message limits. @default DEFAULT_RATE_LIMITS */
  rateLimits?: Partial<RateLimitOptions>;
  /** Ticks a round lasts. @default 1200 (a minute at 20 Hz) */
  roundTicks?: number;
  /** Team points that win a round. @default 20 */
  roundGoal?: number;
}

/**
 * Settings given in the room's definition. They must be an instance of this
 * class: Colyseus merges a client's join options into `onCreate`'s options, and
 * a client can send plain objects but never a server-side instance, so clients
 * cannot create rooms with their own guard counts or rate limits.
 *
 * @example
 * gameServer.define('arena', ArenaRoom, { services, arena: new ArenaSettings({ guardCount: 8 }) });
 */
export class ArenaSettings {
  readonly values: Readonly<ArenaSettingsInput>;

  /**
   * @param values - the settings
   * @throws PlaymindError `invalid_argument` naming the first setting outside `ARENA_LIMITS` (the arena game's one limit set)
   */
  constructor(values: ArenaSettingsInput = {}) {
    const v = { ...values };
    checkLimit('guardCount', v.guardCount);
    checkLimit('minPlayers', v.minPlayers);
    checkLimit('seed', v.seed);
    checkLimit('deadlineMs', v.deadlineMs);
    checkLimit('tickRate', v.tickRate);
    checkLimit('maxClients', v.maxClients);
    checkLimit('roundTicks', v.roundTicks);
    checkLimit('roundGoal', v.roundGoal);
    this.values = Object.freeze(v);
  }
}

/** Options of the `arena` room's definition. */
export interface ArenaRoomOptions extends RoomServicesOptions {
  arena?: ArenaSettings;
}

/**
 * A join option `name` as other players may see it: letters, digits, spaces and
 * `_.-'`, trimmed, at most 16 characters; anything else gives no name (the game names the player).
 */
function playerName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const n = name.normalize('NFC').trim().replace(/\s+/g, ' ');
  return /^[\p{L}\p{N} _.'-]{1,16}$/u.test(n) ? n : undefined;
}

/** A dropped player's input while it may reconnect: standing still. */
const STILL = Object.freeze({ dx: 0, dy: 0, attack: false });

/** See the module documentation. */
export class ArenaRoom extends Room<{ state: ArenaState }> {
  private services!: ServerServices;
  private game!: ArenaSession;
  private telemetry!: QuestTelemetry;
  private limiter!: RateLimiter;
  private bytes!: ByteBudget;
  private readonly connected = new Map<string, Client>();
  /** Clients the room itself disconnected (a flood): no reconnection for them. */
  private readonly kicked = new Set<string>();
  /** Gives the room's place back to the server's room admission (on dispose). */
  private releaseAdmission: () => void = () => {};
  private tickMs = 50;
  private ticking = false;

  /** The running game (simulation, decisions, traces) — for tests and tooling in the same process. */
  get session(): ArenaSession {
    return this.game;
  }

  override onCreate(options: ArenaRoomOptions): void {
    this.services = servicesFrom(options);
    // The process's room cap and the creator's creation rate (a refusal is a typed 503/429).
    this.releaseAdmission = this.services.rooms.admit(RoomName.ARENA);
    try {
      this.create(options);
    } catch (err) {
      this.releaseAdmission();
      throw err;
    }
  }

  private create(options: ArenaRoomOptions): void {
    const log = this.services.logger.child({ room: RoomName.ARENA });
    // An unused seat reservation expires soon; a room nobody joined disposes then.
    this.seatReservationTimeout = this.services.config.seatReservationSeconds;
    this.telemetry = this.services.telemetry;
    // Only server-side settings: anything else under 'arena' came from a client's join options.
    const settings = options.arena instanceof ArenaSettings ? options.arena.values : {};
    this.limiter = new RateLimiter(settings.rateLimits);
    const bytesPerSec = this.services.config.arenaBytesPerSec;
    this.bytes = new ByteBudget({ bytesPerSec, burstBytes: 2 * bytesPerSec });
    const tickRate = settings.tickRate ?? 20;
    this.maxClients = settings.maxClients ?? 32;
    // Colyseus' own hard cap, far above ours: a client past it is dropped before decoding.
    this.maxMessagesPerSecond = 2000;
    this.game = new ArenaSession({
      brain: this.services.brain,
      guardCount: settings.guardCount,
      minPlayers: settings.minPlayers,
      seed: settings.seed,
      deadlineMs: settings.deadlineMs,
      rounds: { ticks: settings.roundTicks, goal: settings.roundGoal },
      telemetry: this.telemetry,
      metrics: this.metricsSink(),
      logger: log,
      onRecommendations: (playerId, message) => this.sendRecommendations(playerId, message),
      tickRate,
      rollouts: { manager: this.services.rollouts, repository: this.services.repository },
      recorder: this.recorder(),
    });
    this.state = this.game.state;
    // One patch per tick, right after it: clients see every tick's state exactly once.
    this.patchRate = null;
    this.tickMs = 1000 / tickRate;

    this.onMessage(ArenaMessage.INPUT, (client: Client, message: unknown) =>
      this.handle(client, ArenaMessage.INPUT, () => this.game.setInput(client.sessionId, parseInput(message))),
    );
    this.onMessage(ArenaMessage.TAKE_QUEST, (client: Client, message: unknown) =>
      this.handle(client, ArenaMessage.TAKE_QUEST, () =>
        this.game.takeQuest(client.sessionId, parseTakeQuest(message)),
      ),
    );
    this.onMessage(ArenaMessage.FINISH_QUEST, (client: Client, message: unknown) =>
      this.handle(client, ArenaMessage.FINISH_QUEST, () => {
        parseFinishQuest(message);
        this.game.finishQuest(client.sessionId);
      }),
    );
    this.onMessage(ArenaMessage.ABANDON_QUEST, (client: Client, message: unknown) =>
      this.handle(client, ArenaMessage.ABANDON_QUEST, () => {
        parseAbandonQuest(message);
        this.game.game.abandonQuest(client.sessionId);
      }),
    );
    this.onMessage(ArenaMessage.GUARD_MODE, (client: Client, message: unknown) =>
      this.handle(client, ArenaMessage.GUARD_MODE, () => this.game.game.setGuardMode(parseGuardMode(message))),
    );
    this.onMessage(ArenaMessage.RECOMMENDATIONS, (client: Client, message: unknown) =>
      this.handle(client, ArenaMessage.RECOMMENDATIONS, () => {
        parseRecommendationsRequest(message);
        this.game.requestRecommendations(client.sessionId);
      }),
    );
    this.onMessage('*', (client: Client, type: string | number) =>
      this.handle(client, String(type).slice(0, 64), () => {
        throw new PlaymindError(
          ErrorCode.MALFORMED_MESSAGE,
          `unknown message type ${JSON.stringify(String(type).slice(0, 64))} (types: ${[ArenaMessage.INPUT, ArenaMessage.TAKE_QUEST, ArenaMessage.FINISH_QUEST, ArenaMessage.ABANDON_QUEST, ArenaMessage.GUARD_MODE, ArenaMessage.RECOMMENDATIONS].join(', ')})`,
        );
      }),
    );
    this.services.metrics.roomCreated(RoomName.ARENA);
  }

  override onJoin(client: Client, options?: unknown): void {
    // The game ticks from its first player on: a room nobody joined costs no ticks.
    if (!this.ticking) {
      this.ticking = true;
      this.setSimulationInterval(() => {
        this.game.tick();
        this.broadcastPatch();
      }, this.tickMs);
    }
    this.connected.set(client.sessionId, client);
    this.watchBytes(client);
    // Telemetry is written under the session id the server assigned, never an id the client names.
    this.game.addHuman(
      client.sessionId,
      client.sessionId,
      playerName((options as { name?: unknown } | undefined)?.name),
    );
    this.services.metrics.clientJoined(RoomName.ARENA);
  }

  /**
   * A connection dropped (not a consented leave): the player stays, standing still, with its
   * quest, for the reconnection grace; `onLeave` removes it when the grace passes.
   */
  override onDrop(client: Client): void {
    this.connected.delete(client.sessionId);
    const grace = this.services.config.reconnectGraceSeconds;
    if (grace <= 0 || this.kicked.has(client.sessionId)) return;
    if (this.game.arena.player(client.sessionId)) this.game.setInput(client.sessionId, STILL);
    this.allowReconnection(client, grace).catch(() => undefined);
  }

  /**
   * The dropped player is back within the grace: same session id, same player, same quest,
   * and the same byte budget (its bucket is the session's) on its new socket.
   */
  override onReconnect(client: Client): void {
    this.connected.set(client.sessionId, client);
    this.watchBytes(client);
  }

  /** Weighs every message of `client`'s socket before it is decoded (the byte budget). */
  private watchBytes(client: Client): void {
    this.bytes.watch(client, (verdict, notice) => {
      // A message past the byte budget was dropped unread; a client that keeps on is cut.
      this.services.metrics.rateLimit(RoomName.ARENA, verdict === 'flood' ? 'disconnected' : 'rejected');
      if (verdict === 'flood')
        this.services.logger.warn(
          { client: client.sessionId, room: this.roomId, bytesPerSec: this.bytes.options.bytesPerSec },
          'arena room: client kept exceeding its byte budget; disconnecting',
        );
      if (notice) this.sendError(client, notice);
      if (verdict !== 'flood') return;
      this.kicked.add(client.sessionId);
      client.leave(ARENA_FLOOD_CLOSE_CODE, 'rate_limited');
    });
  }

  override onLeave(client: Client): void {
    this.connected.delete(client.sessionId);
    this.kicked.delete(client.sessionId);
    this.limiter.forget(client.sessionId);
    this.bytes.forget(client);
    this.game.removeHuman(client.sessionId);
    this.services.metrics.clientLeft(RoomName.ARENA);
  }

  override async onDispose(): Promise<void> {
    this.releaseAdmission();
    // A creation refused (or failed) is discarded through a dispose: nothing was made.
    if (!this.game) return;
    this.services.metrics.roomDisposed(RoomName.ARENA);
    await this.game.end('disposed');
    await this.telemetry.flush();
  }

  /** The match's recorder when the server records matches (`--decision-log`). */
  private recorder(): MatchRecorder | null {
    const log = this.services.decisionLog;
    if (!log) return null;
    const model = 'npc-guard';
    return new MatchRecorder(log, {
      matchId: `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${this.roomId ?? 'room'}`.replace(
        /[^A-Za-z0-9_-]/g,
        '_',
      ),
      meta: { room: this.roomId, model, served: this.services.repository.get(model)?.id ?? null },
    });
  }

  /** A handler's unexpected throw: logged; the room keeps running. */
  override onUncaughtException(error: Error, method: string): void {
    // Colyseus wraps the throw (with the method's arguments: never log those). A ServerError from
    // onCreate is a typed refusal (room admission), answered to the client and counted.
    const cause = error.cause instanceof Error ? error.cause : error;
    if (method === 'onCreate' && cause instanceof ServerError) return;
    this.services.logger.error({ err: cause, method, room: this.roomId }, 'arena room: uncaught exception');
  }

  /** Rate-limits, runs a message handler, and turns its PlaymindError into a typed `error` reply. */
  private handle(client: Client, type: string, fn: () => void): void {
    const verdict = this.limiter.take(client.sessionId);
    if (verdict !== 'ok') {
      if (verdict === 'flood') {
        this.services.metrics.rateLimit(RoomName.ARENA, 'disconnected');
        this.services.logger.warn(
          { client: client.sessionId, room: this.roomId },
          'arena room: client flooded; disconnecting',
        );
        this.sendError(client, {
          code: ErrorCode.RATE_LIMITED,
          message: 'disconnected: sustained message flood',
          details: { type, disconnect: true },
        });
        this.limiter.forget(client.sessionId);
        this.kicked.add(client.sessionId);
        client.leave(ARENA_FLOOD_CLOSE_CODE, 'rate_limited');
        return;
      }
      this.services.metrics.rateLimit(RoomName.ARENA, 'rejected');
      if (verdict === 'limited')
        this.sendError(client, {
          code: ErrorCode.RATE_LIMITED,
          message: `too many messages; further ones are dropped for now`,
          details: { type },
        });
      return;
    }
    try {
      fn();
    } catch (err) {
      const e = toPlaymindError(err);
      if (e.code === ErrorCode.INTERNAL)
        this.services.logger.error({ err, type, room: this.roomId }, 'arena room: message failed');
      this.services.metrics.malformedMessage(RoomName.ARENA, e.code);
      this.sendError(client, { code: e.code, message: e.message, details: { type } });
    }
  }

  private sendError(client: Client, error: WireError): void {
    if (!this.connected.has(client.sessionId)) return;
    client.send(ArenaMessage.ERROR, error);
  }

  private sendRecommendations(playerId: string, message: RecommendationsMessage): void {
    const client = this.connected.get(playerId);
    if (client) client.send(ArenaMessage.RECOMMENDATIONS, message);
  }

  /** Adapts the server's Metrics to what the session reports. */
  private metricsSink(): ArenaMetricsSink {
    const m = this.services.metrics;
    const repo = this.services.repository;
    const label = (name: string) => (repo.has(name) ? name : UNKNOWN_MODEL_LABEL);
    const outcomes = {
      model: 'ok',
      fallback: 'fallback',
      deadline: ErrorCode.DEADLINE_EXCEEDED,
      overloaded: ErrorCode.OVERLOADED,
      error: ErrorCode.INTERNAL,
      // The room's guards are set to the scripted expert (the demo's toggle): no model asked.
      scripted: 'scripted',
    } as const;
    return {
      tick: (ms) => m.observeTick(RoomName.ARENA, ms),
      decision: (outcome, _latencyMs, guards) => {
        const model = label(this.game?.brain.model ?? 'npc-guard');
        m.request('arena', model, outcomes[outcome]);
        if (outcome === 'deadline' || outcome === 'overloaded' || outcome === 'error')
          m.deadlineMiss(RoomName.ARENA, model, guards);
      },
      // The brain counts its own fallbacks; a tick the game's late fallback decided is counted here.
      lateFallback: (_guards, reason) => m.fallback(label(this.game?.brain.model ?? 'npc-guard'), reason),
      recommendation: (fallback) => m.request('arena', label('quest-recs'), fallback ? 'fallback' : 'ok'),
    };
  }
}
