/**
 * The "game first" attacks, bounded in count and time, shared by the attack suite
 * (`game-first.test.ts`) and the benchmark (`test/bench/attack.ts`): each runs for a
 * window against a server on 127.0.0.1 while one real arena player watches its state
 * patches, and the held game is measured from the server's own counters.
 */
import { Client, type Room } from '@colyseus/sdk';
import { RoomName } from '../../sdk/protocol.js';
import { metricValue } from '../helpers/server.js';
import { sleep, type WatchingPlayer } from './helpers.js';

/** npc-guard's features per row. */
export const FEATURES = 24;

/** An attack: runs until `stop()` resolves, then reports what it saw. */
export interface Attack {
  readonly name: string;
  /** Starts the attack; resolves when it has stopped (after `stop`). */
  run(url: string, stopped: () => boolean): Promise<AttackReport>;
}

/** What the attackers saw. */
export interface AttackReport {
  /** Requests or messages sent. */
  sent: number;
  /** Close codes of connections the server closed. */
  closes: number[];
  /** Typed error codes received (notices, rejections, HTTP bodies). */
  codes: string[];
}

/** The arena's guard decisions and ticks, from the server's /metrics. */
export interface GameCounters {
  /** Guard decisions by outcome (`ok`, `fallback`, `deadline_exceeded`, ...). */
  decisions: Record<string, number>;
  /** Arena ticks measured. */
  ticks: number;
}

/** Reads the arena's guard-decision and tick counters. */
export async function gameCounters(url: string): Promise<GameCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const decisions: Record<string, number> = {};
  for (const outcome of ['ok', 'fallback', 'deadline_exceeded', 'overloaded', 'internal', 'scripted'])
    decisions[outcome] = metricValue(text, 'playmind_requests_total', {
      frontend: 'arena',
      model: 'npc-guard',
      outcome,
    });
  return { decisions, ticks: metricValue(text, 'playmind_room_tick_seconds_count', { room: 'arena' }) };
}

/** What a window of play under an attack gave. */
export interface HeldGame {
  attack: string;
  seconds: number;
  /** Patches the player received per second. */
  patchesPerSec: number;
  /** Patches received / ticks of the player's room over the window. */
  patchRatio: number;
  /** Guard decisions in the window, and the share made by the model or the heuristic in their tick. */
  decisions: number;
  inTick: number;
  /** The share made by the model itself. */
  byModel: number;
  report: AttackReport;
}

/**
 * Plays a window of `seconds` under `attack` (null: no attack) and measures the held game.
 */
export async function holdGame(
  url: string,
  player: WatchingPlayer,
  attack: Attack | null,
  seconds: number,
): Promise<HeldGame> {
  let stop = false;
  const before = await gameCounters(url);
  const read = player.window();
  const running = attack ? attack.run(url, () => stop) : Promise.resolve({ sent: 0, closes: [], codes: [] });
  await sleep(seconds * 1000);
  const seen = read();
  stop = true;
  const after = await gameCounters(url);
  const report = await running;
  const delta = (k: string) => (after.decisions[k] ?? 0) - (before.decisions[k] ?? 0);
  const decisions = Object.keys(after.decisions).reduce((n, k) => n + delta(k), 0);
  return {
    attack: attack?.name ?? 'none',
    seconds: seen.seconds,
    patchesPerSec: seen.perSecond,
    // The player's own room, from the synced tick (the counters span every room and the time /metrics took).
    patchRatio: seen.ticks > 0 ? seen.patches / seen.ticks : 0,
    decisions,
    inTick: decisions > 0 ? (delta('ok') + delta('fallback')) / decisions : 0,
    byModel: decisions > 0 ? delta('ok') / decisions : 0,
    report,
  };
}

/** Rooms the attackers leave themselves (their close is not the server's). */
const leaving = new WeakSet<Room>();

async function joinInference(url: string, report: AttackReport): Promise<Room> {
  const room = await new Client(url).joinOrCreate(RoomName.INFERENCE);
  room.reconnection.enabled = false;
  room.onMessage('error', (e: { code?: string }) => void report.codes.push(`notice:${e?.code ?? '?'}`));
  room.onLeave((code: number) => {
    if (!leaving.has(room)) report.closes.push(code);
  });
  return room;
}

function leave(room: Room): Promise<unknown> {
  leaving.add(room);
  return room.leave().catch(() => undefined);
}

/** (a) `clients` remote-inference clients flooding `decide` (`rows` rows each, `inFlight` at once per client). */
export function decideFlood(clients = 30, rows = 64, inFlight = 8): Attack {
  return {
    name: `${clients} clients flooding decide`,
    async run(url, stopped) {
      const report: AttackReport = { sent: 0, closes: [], codes: [] };
      const data = new Uint8Array(new Float32Array(rows * FEATURES).fill(0.25).buffer);
      const rooms = await Promise.all(Array.from({ length: clients }, () => joinInference(url, report)));
      const lane = async (room: Room) => {
        while (!stopped() && room.connection.isOpen) {
          report.sent++;
          await room.request('decide', { model: 'npc-guard', rows: data, n: rows }, { timeout: 10_000 }).then(
            () => undefined,
            (e: { reason?: { code?: string } }) => void report.codes.push(e?.reason?.code ?? 'closed'),
          );
        }
      };
      await Promise.all(rooms.flatMap((room) => Array.from({ length: inFlight }, () => lane(room))));
      await Promise.all(rooms.map(leave));
      return report;
    },
  };
}

/** (b) `clients` clients sending ~`bytes` `decide` messages back to back (reconnecting at most `rejoins` times each). */
export function bigDecides(clients = 4, bytes = 1000 * 1024, rejoins = 2): Attack {
  return {
    name: `${clients} clients sending ${Math.round(bytes / 1024)} KiB decide messages`,
    async run(url, stopped) {
      const report: AttackReport = { sent: 0, closes: [], codes: [] };
      const rows = Math.floor(bytes / 4 / FEATURES);
      const data = new Uint8Array(rows * FEATURES * 4);
      const sender = async () => {
        for (let join = 0; join <= rejoins && !stopped(); join++) {
          const room = await joinInference(url, report);
          while (!stopped() && room.connection.isOpen) {
            report.sent++;
            room.send('decide', { model: 'npc-guard', rows: data, n: rows });
            await sleep(10);
          }
          if (room.connection.isOpen) await leave(room);
        }
      };
      await Promise.all(Array.from({ length: clients }, sender));
      return report;
    },
  };
}

/** (c) one connection posting large KServe infer bodies back to back (at most `count`; `rows` rows of JSON each). */
export function bigInfers(count = 40, rows = 900): Attack {
  return {
    name: `one connection posting ${rows}-row KServe infer bodies back to back`,
    async run(url, stopped) {
      const report: AttackReport = { sent: 0, closes: [], codes: [] };
      const body = JSON.stringify({
        inputs: [
          { name: 'obs', shape: [rows, FEATURES], datatype: 'FP32', data: new Array(rows * FEATURES).fill(0.125) },
        ],
      });
      for (let i = 0; i < count && !stopped(); i++) {
        report.sent++;
        const res = await fetch(`${url}/v2/models/npc-guard/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }).catch(() => null);
        if (!res) report.codes.push('network');
        else if (res.status === 200) await res.arrayBuffer();
        else report.codes.push(String(((await res.json().catch(() => ({}))) as { code?: string }).code ?? res.status));
      }
      return report;
    },
  };
}

/**
 * (d) `loops` loops posting `POST /matchmake/create/arena` back to back without ever
 * connecting (at most `count` posts in all): seat reservations nobody uses.
 */
export function createFlood(loops = 16, count = 20_000): Attack {
  return {
    name: `${loops} loops creating arena rooms without connecting`,
    async run(url, stopped) {
      const report: AttackReport = { sent: 0, closes: [], codes: [] };
      const loop = async () => {
        while (!stopped() && report.sent < count) {
          report.sent++;
          const res = await fetch(`${url}/matchmake/create/arena`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }).catch(() => null);
          if (!res) report.codes.push('network');
          else {
            await res.arrayBuffer();
            if (res.status !== 200) report.codes.push(String(res.status));
          }
        }
      };
      await Promise.all(Array.from({ length: loops }, loop));
      return report;
    },
  };
}
