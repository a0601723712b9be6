/**
 * The attack suite, rooms rows (a real server on 127.0.0.1 serving the repository's models,
 * real `@colyseus/sdk` clients, bounded counts and waits):
 * - seat reservations never used (`POST /matchmake/create/arena` without connecting) expire,
 *   and their rooms dispose instead of ticking on;
 * - room creation per client address is rate-limited, rooms per process are capped: both
 *   typed refusals (`MatchMakeError` code 429 / 503 and a sentence naming the limit);
 * - a player whose socket drops reconnects within the grace with its quest kept (not logged
 *   abandoned); after the grace its token is refused and the quest counts as abandoned;
 * - telemetry lines are written under the server's player id, never one a client names, and
 *   the file is size-capped with rotation (the retrainer reads the rotated files).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { matchMaker } from '@colyseus/core';
import { Client, MatchMakeError, type Room } from '@colyseus/sdk';
import { ArenaMessage, RoomName } from '../../sdk/protocol.js';
import type { ArenaRoom } from '../../server/rooms/arena-room.js';
import { ROOM_CREATE_RATE_LIMITED, ROOM_LIMIT_REACHED } from '../../server/rooms/room-admission.js';
import { expect } from '../helpers/chai.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { REPO_ROOT, copyOfRepoModels, sleep, until, watchingPlayer } from './helpers.js';

const TOKEN = 'attack-suite-admin-token';

/** Arena rooms this process holds (disposed ones are gone from the local driver). */
async function arenaRooms(): Promise<number> {
  return (await matchMaker.query({ name: RoomName.ARENA })).length;
}

/** Polls an async condition every 50 ms until it holds, failing after `timeoutMs`. */
async function untilAsync(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The refusal a `create` gets, or null when it succeeded (the room is left at once). */
async function refusalOf(p: Promise<Room>): Promise<MatchMakeError | null> {
  try {
    const room = await p;
    await room.leave(true).catch(() => undefined);
    return null;
  } catch (err) {
    if (err instanceof MatchMakeError) return err;
    throw err;
  }
}

/** The quest ids of the shipped recommender's catalogue. */
async function questIds(): Promise<string[]> {
  const m = JSON.parse(await readFile(join(REPO_ROOT, 'models', 'quest-recs', 'manifest.json'), 'utf8')) as {
    recommender: { catalogue: Array<{ id: string }> };
  };
  return m.recommender.catalogue.map((c) => c.id);
}

/** Every telemetry line on disk (the file and its rotations). */
async function telemetryLines(file: string): Promise<Array<Record<string, string>>> {
  const dir = join(file, '..');
  const base = file.slice(dir.length + 1);
  const out: Array<Record<string, string>> = [];
  for (const f of (await readdir(dir)).filter((n) => n === base || n.startsWith(`${base}.`))) {
    const text = await readFile(join(dir, f), 'utf8');
    for (const l of text.split('\n')) if (l.trim()) out.push(JSON.parse(l) as Record<string, string>);
  }
  return out;
}

/** Drops a client's socket without a leave (as a flaky network does). */
function dropSocket(room: Room): void {
  const ws = (room.connection.transport as unknown as { ws: { terminate?: () => void; close: () => void } }).ws;
  if (ws.terminate) ws.terminate();
  else ws.close();
}

describe('attack: rooms', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer | undefined;
  const rooms: Room[] = [];

  before(async () => {
    ({ dir, cleanup } = await copyOfRepoModels());
  });
  afterEach(async () => {
    for (const r of rooms.splice(0)) await r.leave(true).catch(() => undefined);
    await t?.server.close();
    t = undefined;
  });
  after(async () => {
    await cleanup();
  });

  const start = (overrides: Parameters<typeof startTestServer>[0] = {}) =>
    startTestServer({
      modelsDir: dir,
      watch: false,
      telemetryFile: join(dir, 'data', 'telemetry.jsonl'),
      ...overrides,
    });

  it('seat reservations never used expire: their rooms dispose instead of ticking on', async () => {
    // No cap or rate in the way (at most 200 posts): this is about what an unused seat leaves behind.
    t = await start({ seatReservationSeconds: 1, roomCreatePerMin: 10_000, maxRooms: 1000 });
    const server = t.server;
    const player = await watchingPlayer(server.url);
    rooms.push(player.room);
    // 4 loops posting create for ~2 s, never connecting (bounded: at most 200 posts).
    let posted = 0;
    let peak = 0;
    const end = Date.now() + 2000;
    const loop = async () => {
      while (Date.now() < end && posted < 200) {
        posted++;
        const res = await fetch(`${server.url}/matchmake/create/arena`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status, await res.text()).to.equal(200);
        peak = Math.max(peak, server.services.rooms.rooms);
      }
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    expect(posted).to.be.greaterThan(4);
    // One more, kept: consumed after it expired, it is refused.
    const late = (await (
      await fetch(`${server.url}/matchmake/create/arena`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as Parameters<Client['consumeSeatReservation']>[0];
    // A room nobody joined does not tick (it costs the game nothing while its seat waits).
    await sleep(300);
    const unjoined = matchMaker.getLocalRoomById(late.roomId) as ArenaRoom | undefined;
    expect(unjoined, 'the room of the kept reservation').to.not.equal(undefined);
    expect(unjoined!.session.arena.tick, 'ticks of a room nobody joined').to.equal(0);
    // Every unused reservation expires (1 s) and its room disposes; the player's room stays.
    await untilAsync('the unused rooms to dispose', async () => (await arenaRooms()) === 1, 30_000);
    expect(server.services.rooms.rooms, 'rooms held').to.equal(1);
    expect(matchMaker.getLocalRoomById(player.room.roomId), "the player's room").to.not.equal(undefined);
    const expired = await new Client(server.url).consumeSeatReservation(late).then(
      (r) => r.leave(true).then(() => null),
      (err: Error) => err,
    );
    expect(expired?.message, 'an expired seat').to.match(/seat reservation expired/);
    // The player's game went on throughout.
    const seen = player.patches;
    await until('patches after the flood', () => player.patches > seen + 5, 10_000);
    console.log(`      ${posted} unused reservations, peak ${peak} rooms held, all disposed after expiry`);
  });

  it('refuses room creation past the per-address rate with a typed 429, while joining still works', async () => {
    t = await start({ roomCreatePerMin: 3, maxRooms: 50 });
    const url = t.server.url;
    const keeper = await new Client(url).create(RoomName.ARENA, { name: 'keeper' });
    rooms.push(keeper);
    for (let i = 0; i < 2; i++) expect(await refusalOf(new Client(url).create(RoomName.ARENA))).to.equal(null);
    const refused = await refusalOf(new Client(url).create(RoomName.ARENA));
    expect(refused, 'the 4th create within a minute').to.be.instanceOf(MatchMakeError);
    expect(refused!.code).to.equal(ROOM_CREATE_RATE_LIMITED);
    expect(refused!.message).to.match(/^rate_limited: too many rooms created from this address \(3 a minute/);
    // The inference room's creation counts against the same address.
    const inference = await refusalOf(new Client(url).create(RoomName.INFERENCE));
    expect(inference?.code).to.equal(ROOM_CREATE_RATE_LIMITED);
    // Joining the open room creates nothing: admitted.
    const joined = await new Client(url).joinOrCreate(RoomName.ARENA, { name: 'joiner' });
    rooms.push(joined);
    expect(joined.roomId).to.equal(keeper.roomId);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).to.match(/playmind_rate_limited_total\{room="arena",action="create_refused"\} [1-9]/);
    // A refusal is an answer, not an error: nothing logged at error level.
    expect(t.errors().map((e) => e.msg)).to.deep.equal([]);
  });

  it('caps the rooms of a process with a typed 503, and admits again once one disposes', async () => {
    t = await start({ maxRooms: 3, roomCreatePerMin: 10_000 });
    const url = t.server.url;
    for (let i = 0; i < 3; i++) rooms.push(await new Client(url).create(RoomName.ARENA, { name: `p${i}` }));
    const refused = await refusalOf(new Client(url).create(RoomName.ARENA));
    expect(refused, 'the 4th room').to.be.instanceOf(MatchMakeError);
    expect(refused!.code).to.equal(ROOM_LIMIT_REACHED);
    expect(refused!.message).to.match(/^overloaded: this server holds its most rooms \(3, --max-rooms\)/);
    expect(await arenaRooms()).to.equal(3);
    // A player leaves, its room disposes: a new room is admitted.
    await rooms.shift()!.leave(true);
    await untilAsync('the left room to dispose', async () => (await arenaRooms()) === 2, 15_000);
    rooms.push(await new Client(url).create(RoomName.ARENA, { name: 'again' }));
    expect(await arenaRooms()).to.equal(3);
    expect(t.errors().map((e) => e.msg)).to.deep.equal([]);
  });

  it('lets a dropped player reconnect within the grace keeping its quest; after the grace its seat is gone', async () => {
    const telemetryFile = join(dir, 'data', 'reconnect.jsonl');
    t = await start({ reconnectGraceSeconds: 3, telemetryFile });
    const url = t.server.url;
    const [quest] = await questIds();
    const client = new Client(url);
    const room = await client.joinOrCreate(RoomName.ARENA, { name: 'flaky' });
    room.reconnection.enabled = false; // the test reconnects by itself, with the token
    room.onError(() => undefined);
    const { sessionId, roomId } = room;
    const server = () => matchMaker.getLocalRoomById(roomId) as ArenaRoom;
    room.send(ArenaMessage.TAKE_QUEST, { questId: quest });
    await until('the quest taken', () => server().session.arena.player(sessionId)?.activeQuest?.questId === quest);

    // Drop the socket (no leave message): the player and its quest stay for the grace.
    const token = room.reconnectionToken;
    dropSocket(room);
    await sleep(500);
    expect(server().session.arena.player(sessionId)?.activeQuest?.questId, 'quest while dropped').to.equal(quest);
    const back = await client.reconnect(token);
    rooms.push(back);
    back.reconnection.enabled = false;
    back.onError(() => undefined);
    expect(back.sessionId).to.equal(sessionId);
    expect(back.roomId).to.equal(roomId);
    await until(
      'the quest in the reconnected state',
      () => (back.state as any)?.players?.get(sessionId)?.quest === quest,
      10_000,
    );
    expect(server().session.arena.player(sessionId)?.activeQuest?.questId).to.equal(quest);
    await t.server.services.telemetry.flush();
    let lines = (await telemetryLines(telemetryFile)).filter((l) => l.player === sessionId);
    expect(lines.map((l) => l.outcome)).to.deep.equal(['taken']);
    // The reconnected client plays on: its messages are handled.
    back.send(ArenaMessage.ABANDON_QUEST, {});
    await until('the abandon handled', () => server().session.arena.player(sessionId)?.activeQuest == null, 10_000);
    back.send(ArenaMessage.TAKE_QUEST, { questId: quest });
    await until(
      'the quest taken again',
      () => server().session.arena.player(sessionId)?.activeQuest?.questId === quest,
    );

    // Drop again and stay away past the grace: the player is removed, its quest abandoned.
    const token2 = back.reconnectionToken;
    rooms.pop();
    dropSocket(back);
    await until(
      'the player removed after the grace',
      () => server()?.session.arena.player(sessionId) === undefined,
      20_000,
    );
    const late = await refusalOf(new Client(url).reconnect(token2));
    expect(late, 'a reconnection after the grace').to.be.instanceOf(MatchMakeError);
    await t.server.services.telemetry.flush();
    lines = (await telemetryLines(telemetryFile)).filter((l) => l.player === sessionId);
    expect(lines.map((l) => l.outcome)).to.deep.equal(['taken', 'abandoned', 'taken', 'abandoned']);
  });

  it('keeps the byte budget on a reconnected socket: a player back within the grace that floods is cut (4029)', async () => {
    t = await start({ reconnectGraceSeconds: 10, arenaBytesPerSec: 64 * 1024 });
    const client = new Client(t.server.url);
    const room = await client.joinOrCreate(RoomName.ARENA, { name: 'flaky' });
    room.reconnection.enabled = false;
    room.onError(() => undefined);
    dropSocket(room);
    await sleep(300);
    const back = await client.reconnect(room.reconnectionToken);
    rooms.push(back);
    back.reconnection.enabled = false;
    back.onError(() => undefined);
    back.onMessage('recommendations', () => undefined);
    const notices: { code: string; message: string }[] = [];
    back.onMessage('error', (e: (typeof notices)[number]) => void notices.push(e));
    let left: number | undefined;
    back.onLeave((code: number) => void (left = code));
    const junk = 'x'.repeat(60 * 1024);
    for (let i = 0; i < 40 && left === undefined; i++) {
      back.send(ArenaMessage.INPUT, { dx: 0, dy: 0, attack: false, junk });
      await sleep(5);
    }
    await until('the reconnected flooder to be closed', () => left !== undefined, 20_000);
    expect(left).to.equal(4029);
    expect(
      notices.some((e) => /byte rate limit/.test(e.message)),
      JSON.stringify(notices),
    ).to.equal(true);
    rooms.pop();
  });

  it("lets @colyseus/sdk's own automatic reconnection bring a dropped player back to its seat", async () => {
    t = await start({ reconnectGraceSeconds: 10 });
    const room = await new Client(t.server.url).joinOrCreate(RoomName.ARENA, { name: 'auto' });
    rooms.push(room);
    room.onMessage('*', () => undefined);
    room.reconnection.minUptime = 0;
    let reconnected = 0;
    room.onReconnect(() => reconnected++);
    const server = matchMaker.getLocalRoomById(room.roomId) as ArenaRoom;
    dropSocket(room);
    await until('the SDK to reconnect', () => reconnected === 1, 20_000);
    const seen = server.session.arena.tick;
    room.send(ArenaMessage.INPUT, { dx: 1, dy: 0, attack: false });
    await until('ticks after the reconnection', () => server.session.arena.tick > seen + 5, 10_000);
    expect(server.session.arena.player(room.sessionId), 'the same player').to.not.equal(undefined);
    expect(server.clients.length).to.equal(1);
  });

  it('writes telemetry under the server-assigned id only, size-capped with rotation the retrainer reads', async () => {
    const telemetryFile = join(dir, 'data', 'rotate.jsonl');
    const maxBytes = 2048;
    t = await start({ telemetryFile, telemetryMaxBytes: maxBytes, adminToken: TOKEN });
    const quests = await questIds();
    const room = await new Client(t.server.url).joinOrCreate(RoomName.ARENA, { name: 'writer', playerId: 'victim' });
    rooms.push(room);
    room.onMessage('*', () => undefined);
    const server = matchMaker.getLocalRoomById(room.roomId) as ArenaRoom;
    // 300 quest takes (each abandons the last: ~600 lines, ~60 KB), paced under the message rate.
    const n = 300;
    for (let i = 0; i < n; i++) {
      room.send(ArenaMessage.TAKE_QUEST, { questId: quests[i % quests.length] });
      if (i % 40 === 39) await sleep(1000);
    }
    const last = quests[(n - 1) % quests.length];
    await until(
      'every take handled',
      () => server.session.arena.player(room.sessionId)?.activeQuest?.questId === last,
      30_000,
    );
    await t.server.services.telemetry.flush();

    const names = (await readdir(join(dir, 'data'))).filter((f) => f.startsWith('rotate.jsonl')).sort();
    expect(names).to.deep.equal([
      'rotate.jsonl',
      'rotate.jsonl.1',
      'rotate.jsonl.2',
      'rotate.jsonl.3',
      'rotate.jsonl.4',
    ]);
    let total = 0;
    for (const f of names) {
      const size = (await stat(join(dir, 'data', f))).size;
      expect(size, f).to.be.at.most(maxBytes);
      total += size;
    }
    expect(total).to.be.at.most(5 * maxBytes);
    const lines = await telemetryLines(telemetryFile);
    expect(lines.length).to.be.greaterThan(20);
    expect(new Set(lines.map((l) => l.player))).to.deep.equal(new Set([room.sessionId]));
    // The last take is in the newest file.
    const newest = (await readFile(telemetryFile, 'utf8')).trim().split('\n').pop()!;
    expect(JSON.parse(newest)).to.include({ player: room.sessionId, quest: last, outcome: 'taken' });

    // The retrainer reads the rotated files and the live one (too few pairs to train: skipped).
    const res = await fetch(`${t.server.url}/v2/repository/models/quest-recs/retrain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const report = (await res.json()) as { version: null; telemetry: { files: string[]; lines: number } };
    expect(report.version).to.equal(null);
    expect(report.telemetry.files.map((f) => f.slice(f.lastIndexOf('/') + 1))).to.deep.equal([
      'rotate.jsonl.4',
      'rotate.jsonl.3',
      'rotate.jsonl.2',
      'rotate.jsonl.1',
      'rotate.jsonl',
    ]);
    expect(report.telemetry.lines).to.equal(lines.length);
  });
});
