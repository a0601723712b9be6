/**
 * The attack suite, "the game first" rows (a real server on 127.0.0.1 serving the
 * repository's models, real @colyseus/sdk clients, bounded in count and time): while
 * 30 clients flood `decide`, 4 send ~1 MB decide messages, or one connection posts
 * large KServe bodies back to back, a real arena player keeps receiving its state
 * patches and the guards are decided in their tick (by the model, or the heuristic);
 * a client past its room's byte budget is told (`rate_limited`) and closed (4029).
 * Measures are shares (decisions in tick, patches per server tick), loose enough for
 * a loaded 2-core box; the rates themselves are benchmarked (`test/bench/attack.ts`).
 */
import { Client, type Room } from '@colyseus/sdk';
import { ErrorCode, InferenceMessage, RoomName } from '../../sdk/protocol.js';
import { expect } from '../helpers/chai.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import { copyOfRepoModels, sleep, until, watchingPlayer } from './helpers.js';
import { bigDecides, bigInfers, decideFlood, holdGame, type Attack, type HeldGame } from './game-attacks.js';

const FEATURES = 24;
const WINDOW_S = 3;

/** The held game: guards decided in their tick, the room ticking for the player, no crash. */
function expectHeld(h: HeldGame, t: TestServer): void {
  const what = JSON.stringify({ ...h, report: { ...h.report, codes: [...new Set(h.report.codes)] } });
  // The room kept deciding (20 Hz: ~60 in the window; a loaded box may tick late, not stop).
  expect(h.decisions, what).to.be.greaterThan(5);
  expect(h.inTick, `guard decisions made by the model or the heuristic in their tick: ${what}`).to.be.at.least(0.98);
  // The player received patches for most server ticks (a ratio, loose on a loaded box).
  expect(h.patchRatio, `patches per server tick: ${what}`).to.be.greaterThan(0.5);
  expect(t.errors(), 'no error logged').to.deep.equal([]);
}

/** A client that records the typed notices it gets and its close code. */
async function hostile(url: string, room: string, notice: string) {
  const r: Room = await new Client(url).joinOrCreate(room, room === RoomName.ARENA ? { name: 'hostile' } : {});
  r.reconnection.enabled = false;
  if (room === RoomName.ARENA) r.onMessage('recommendations', () => {});
  const notices: { code: string; message: string; details?: Record<string, unknown> }[] = [];
  let left: number | undefined;
  r.onMessage(notice, (e: (typeof notices)[number]) => void notices.push(e));
  r.onLeave((code: number) => {
    left = code;
  });
  return {
    room: r,
    notices,
    left: () => left,
  };
}

describe('attack: the game first', function () {
  this.timeout(90_000);
  let t: TestServer;
  let cleanup: () => Promise<void>;

  before(async () => {
    let dir: string;
    ({ dir, cleanup } = await copyOfRepoModels());
    t = await startTestServer({ modelsDir: dir, watch: false });
  });

  after(async () => {
    await t?.server.close();
    await cleanup?.();
  });

  describe('holds the game', () => {
    const cases: [string, () => Attack, (h: HeldGame) => void][] = [
      [
        'while 30 remote-inference clients flood decide',
        () => decideFlood(30),
        (h) => {
          expect(h.report.sent).to.be.greaterThan(30);
        },
      ],
      [
        'while 4 clients send ~1 MB decide messages (each closed 4029 with rate_limited)',
        () => bigDecides(4),
        (h) => {
          expect(h.report.closes.length, JSON.stringify(h.report.closes)).to.be.at.least(4);
          expect(
            h.report.closes.every((c) => c === 4029),
            JSON.stringify(h.report.closes),
          ).to.equal(true);
          expect(h.report.codes).to.include(`notice:${ErrorCode.RATE_LIMITED}`);
        },
      ],
      [
        'while one connection posts large KServe infer bodies back to back',
        () => bigInfers(40),
        (h) => {
          expect(h.report.sent).to.be.greaterThan(1);
          expect(h.report.codes.filter((c) => c === 'network')).to.deep.equal([]);
        },
      ],
    ];
    for (const [title, attack, check] of cases) {
      it(title, async () => {
        const player = await watchingPlayer(t.server.url);
        try {
          await until('the player to see the game', () => player.patches > 3, 10_000);
          const h = await holdGame(t.server.url, player, attack(), WINDOW_S);
          expectHeld(h, t);
          check(h);
          // After the attack the server still answers.
          expect((await fetch(`${t.server.url}/v2/health/live`)).status).to.equal(200);
        } finally {
          await player.leave();
        }
      });
    }

    it('refuses a KServe body over the JSON limit by its size, with payload_too_large', async () => {
      const rows = 4000;
      const res = await fetch(`${t.server.url}/v2/models/npc-guard/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [
            { name: 'obs', shape: [rows, FEATURES], datatype: 'FP32', data: new Array(rows * FEATURES).fill(0.125) },
          ],
        }),
      });
      expect(res.status).to.equal(413);
      expect(((await res.json()) as { code?: string }).code).to.equal(ErrorCode.PAYLOAD_TOO_LARGE);
    });
  });

  it('cuts an inference client that keeps sending ~1 MB decide messages past its byte budget', async () => {
    const player = await watchingPlayer(t.server.url);
    const big = await hostile(t.server.url, RoomName.INFERENCE, InferenceMessage.ERROR);
    const honest = await hostile(t.server.url, RoomName.INFERENCE, InferenceMessage.ERROR);
    const rows = new Uint8Array(1000 * 1024); // ~1 MB: 10,666 guards' rows
    const n = rows.byteLength / 4 / FEATURES;
    // Bounded: at most 40 MB sent, stopping once the server closed the connection.
    for (let i = 0; i < 40 && big.left() === undefined; i++) {
      big.room.send('decide', { model: 'npc-guard', rows, n });
      await sleep(5);
    }
    await until('the big sender to be closed', () => big.left() !== undefined, 20_000);
    expect(big.left()).to.equal(4029);
    const codes = big.notices.map((e) => e.code);
    expect(codes).to.include(ErrorCode.RATE_LIMITED);
    expect(big.notices.some((e) => /byte/.test(e.message) && e.details?.bytesPerSec === 1024 * 1024)).to.equal(true);
    expect(big.notices.at(-1)!.details?.disconnect).to.equal(true);
    // An honest client in the same room is still answered, and the player still gets patches.
    const reply = (await honest.room.request('decide', {
      model: 'npc-guard',
      rows: new Uint8Array(new Float32Array(FEATURES).buffer),
      n: 1,
    })) as { decisions: { model: string }[] };
    expect(reply.decisions[0]!.model).to.match(/^npc-guard@/);
    expect(honest.left()).to.equal(undefined);
    const seen = player.patches;
    await until('patches after the attack', () => player.patches > seen + 2, 10_000);
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(
      metricValue(metrics, 'playmind_rate_limited_total', { room: 'inference', action: 'disconnected' }),
    ).to.be.greaterThanOrEqual(1);
    await honest.room.leave();
    await player.leave();
  });

  it('cuts an arena player that keeps sending oversized messages past its byte budget, the others play on', async () => {
    const player = await watchingPlayer(t.server.url);
    const big = await hostile(t.server.url, RoomName.ARENA, 'error');
    const junk = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 40 && big.left() === undefined; i++) {
      big.room.send('input', { dx: 0, dy: 0, attack: false, junk });
      await sleep(5);
    }
    await until('the big arena sender to be closed', () => big.left() !== undefined, 20_000);
    expect(big.left()).to.equal(4029);
    expect(big.notices.map((e) => e.code)).to.include(ErrorCode.RATE_LIMITED);
    expect(big.notices.some((e) => /byte rate limit/.test(e.message))).to.equal(true);
    expect(big.notices.at(-1)!.details?.disconnect).to.equal(true);
    const seen = player.patches;
    await until('patches after the attack', () => player.patches > seen + 2, 10_000);
    expect(t.errors()).to.deep.equal([]);
    await player.leave();
  });
});
