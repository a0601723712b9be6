/**
 * The attack suite, "the game first" rows (a real server on 127.0.0.1 serving the
 * repository's models, real @colyseus/sdk clients, bounded in count and time): a client
 * past its room's byte budget is told (`rate_limited`) and closed (4029) while a real
 * arena player keeps receiving its state patches.
 */
import { Client, type Room } from '@colyseus/sdk';
import { ErrorCode, InferenceMessage, RoomName } from '../../sdk/protocol.js';
import { expect } from '../helpers/chai.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import { copyOfRepoModels, sleep, until, watchingPlayer } from './helpers.js';

const FEATURES = 24;

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
