/**
 * Admission of new rooms: a cap on the rooms one process holds (`--max-rooms`) and a
 * creation rate per client address (`--room-create-per-min`, a token bucket per address).
 * Rooms ask in `onCreate` ({@link RoomAdmission.admit}), so only a room that would really be
 * created counts (a `joinOrCreate` that joins an open room does not); a refusal is a Colyseus
 * `ServerError` the matchmaker answers with: `@colyseus/sdk` rejects `create`/`joinOrCreate`
 * with a `MatchMakeError` whose `code` is {@link ROOM_CREATE_RATE_LIMITED} (429) or
 * {@link ROOM_LIMIT_REACHED} (503) and whose message names the limit.
 *
 * The client address is the TCP peer of the matchmaking request (not a forwarded header a
 * client could write), carried to `onCreate` through an AsyncLocalStorage that
 * {@link trackClientAddresses} sets around every HTTP request. A room created without a
 * request (in-process `matchMaker.createRoom`, another process over Redis) counts against
 * the cap only.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ServerError } from '@colyseus/core';
import { ErrorCode } from '../../sdk/index.js';

/** `MatchMakeError.code` of a room creation refused for the address's creation rate (HTTP 429). */
export const ROOM_CREATE_RATE_LIMITED = 429;
/** `MatchMakeError.code` of a room creation refused because the process holds `--max-rooms` rooms (HTTP 503). */
export const ROOM_LIMIT_REACHED = 503;

/** Limits of {@link RoomAdmission}. */
export interface RoomAdmissionLimits {
  /** Most rooms (every room name) one process holds. */
  maxRooms: number;
  /** Rooms one client address may create per minute (also the burst). */
  createPerMinute: number;
}

/** What the admission reports (metrics). */
export type RoomRefusal = 'rate_limited' | 'room_limit';

const requestAddress = new AsyncLocalStorage<string>();

/** Addresses tracked at most; past it, buckets that have refilled are forgotten. */
const MAX_TRACKED = 10_000;

/**
 * Runs every request of `server` with its TCP peer address in context, so a room created by
 * a matchmaking request knows who asked. Call it after the other request listeners are on.
 * @param server - the HTTP server
 */
export function trackClientAddresses(server: Server): void {
  const inner = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const address = (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    requestAddress.run(address, () => {
      for (const l of inner) l.call(server, req, res);
    });
  });
}

/** See the module documentation. */
export class RoomAdmission {
  /** The limits in force. */
  readonly limits: Readonly<RoomAdmissionLimits>;
  private held = 0;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly onRefuse: (room: string, reason: RoomRefusal) => void;

  /**
   * @param limits - the cap and the rate
   * @param onRefuse - called for every refusal (metrics, logs)
   * @throws RangeError naming a limit that is not a positive integer
   */
  constructor(limits: RoomAdmissionLimits, onRefuse: (room: string, reason: RoomRefusal) => void = () => {}) {
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`room limit '${k}' must be an integer >= 1, got ${v}`);
    }
    this.limits = Object.freeze({ ...limits });
    this.onRefuse = onRefuse;
  }

  /** Rooms held now. */
  get rooms(): number {
    return this.held;
  }

  /**
   * Admits one new room (call first thing in `onCreate`).
   * @param room - the room's name
   * @param t - now, ms @default performance.now()
   * @returns releases the room's place (call once, when it disposes or its creation fails)
   * @throws ServerError {@link ROOM_LIMIT_REACHED} past the cap, {@link ROOM_CREATE_RATE_LIMITED} past the address's rate
   */
  admit(room: string, t: number = performance.now()): () => void {
    if (this.held >= this.limits.maxRooms) {
      this.onRefuse(room, 'room_limit');
      throw new ServerError(
        ROOM_LIMIT_REACHED,
        `${ErrorCode.OVERLOADED}: this server holds its most rooms (${this.limits.maxRooms}, --max-rooms); try again later`,
      );
    }
    const address = requestAddress.getStore();
    if (address !== undefined) {
      const wait = this.take(address, t);
      if (wait > 0) {
        this.onRefuse(room, 'rate_limited');
        throw new ServerError(
          ROOM_CREATE_RATE_LIMITED,
          `${ErrorCode.RATE_LIMITED}: too many rooms created from this address (${this.limits.createPerMinute} a minute, --room-create-per-min); retry in ${Math.ceil(wait / 1000)} s`,
        );
      }
    }
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
    };
  }

  /** Takes a token of `address`: 0 when taken, else the ms until one is there. */
  private take(address: string, t: number): number {
    const burst = this.limits.createPerMinute;
    const perMs = burst / 60_000;
    if (this.buckets.size >= MAX_TRACKED) {
      for (const [a, b] of this.buckets) if (b.tokens + (t - b.at) * perMs >= burst) this.buckets.delete(a);
    }
    let b = this.buckets.get(address);
    if (!b) {
      b = { tokens: burst, at: t };
      this.buckets.set(address, b);
    }
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / perMs;
  }
}
