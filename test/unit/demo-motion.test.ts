/**
 * The demo's motion, without a browser: the tick timeline fitted from patch
 * arrivals, interpolation of other entities, and the own player's prediction
 * with reconciliation against a server that runs the simulation's own
 * movement with a latency.
 */
import { expect } from '../helpers/chai.js';
import { prng } from '../helpers/server.js';
import { Interpolator } from '../../demo-game/src/interpolation.js';
import { OwnPrediction } from '../../demo-game/src/prediction.js';
import { TickClock } from '../../demo-game/src/tick-clock.js';
import { moveCircle } from '../../server/sim/geometry.js';
import { DEFAULT_ARENA_CONFIG, createArena } from '../../server/sim/index.js';

const TICK_MS = 50;

describe('demo tick timeline', () => {
  it('puts each tick at its server time plus the lowest delay, whatever the jitter', () => {
    const clock = new TickClock(TICK_MS);
    const rnd = prng(1);
    const start = 1000;
    for (let k = 0; k < 200; k++) clock.observe(k, start + k * TICK_MS + 3 + rnd() * 40);
    // The lowest delay of the last second is within a few ms of 3.
    expect(clock.timeOf(199) - (start + 199 * TICK_MS)).to.be.within(3, 8);
    expect(clock.intervalMs).to.be.closeTo(TICK_MS, 1);
  });

  it('follows a server that stalled and ticks on from later, within a second', () => {
    const clock = new TickClock(TICK_MS);
    for (let k = 0; k < 100; k++) clock.observe(k, k * TICK_MS + 2);
    // The server stalls for 300 ms, then keeps its 50 ms interval from there.
    for (let k = 100; k < 130; k++) clock.observe(k, k * TICK_MS + 302);
    expect(clock.timeOf(129) - 129 * TICK_MS).to.be.closeTo(302, 10);
  });

  it('measures the tick rate that actually arrives', () => {
    const clock = new TickClock(TICK_MS);
    // A server at 10 ticks per second instead of 20.
    for (let k = 0; k < 60; k++) clock.observe(k, k * 100);
    expect(clock.tickRateAt(59 * 100)).to.be.closeTo(10, 0.5);
    // And nothing arriving for three seconds reads 0.
    expect(clock.tickRateAt(59 * 100 + 3000)).to.equal(0);
  });
});

/** A timeline on which ticks are milliseconds (so samples can be placed by time). */
const MS = { tickAt: (t: number) => t, intervalMs: 1 };

describe('demo interpolation of other entities', () => {
  it('draws an entity between the two samples around now − delay', () => {
    const it = new Interpolator(MS, { delayMs: 100 });
    it.push('a', 0, 0, 0);
    it.push('a', 50, 10, 0);
    it.push('a', 100, 20, 0);
    const at = { x: 0, y: 0 };
    it.position('a', 175, at);
    expect(at.x).to.be.closeTo(15, 1e-9);
  });

  it('keeps a moving entity moving, slowing down, when a patch is late, and never far past it', () => {
    const it = new Interpolator(MS, { delayMs: 100, maxExtrapolateMs: 60 });
    for (let k = 0; k <= 4; k++) it.push('a', k * 50, k * 10, 0);
    const at = { x: 0, y: 0 };
    it.position('a', 200 + 100 + 30, at); // 30 ms past the newest sample (0.2 units per ms)
    const early = at.x;
    expect(early).to.be.closeTo(40 + 0.2 * 60 * (1 - Math.exp(-30 / 60)), 1e-9);
    it.position('a', 200 + 100 + 60, at);
    expect(at.x - early, 'still moving').to.be.greaterThan(0.5);
    it.position('a', 200 + 100 + 2000, at); // long past: at most speed × 60 ms further
    expect(at.x).to.be.closeTo(52, 1e-6);
  });

  it('draws further in the past while patches come late, without ever stopping or going back', () => {
    const it = new Interpolator(MS, { delayMs: 100, maxExtrapolateMs: 60 });
    // An entity moving 1 unit per ms; patches every 50 ms, but from t = 1000 each arrives 200 ms late.
    const at = { x: 0, y: 0 };
    let last = -Infinity;
    let tick = 0;
    for (let now = 0; now <= 3000; now += 16) {
      while (tick * 50 <= now - (now >= 1000 ? 200 : 0)) {
        it.push('a', tick * 50, tick * 50, 0);
        tick++;
      }
      it.lateness(now >= 1000 ? 200 : 0, 50);
      it.position('a', now, at);
      if (now > 200) expect(at.x, `drawn at ${now} ms`).to.be.greaterThan(last);
      last = at.x;
    }
    expect(it.currentDelayMs).to.be.closeTo(260, 1);
  });

  it('keeps moving an entity when the timeline jumps (samples are kept by tick, not by time)', () => {
    // The timeline says tick k was at k × 50 ms, until a stall moves it 400 ms later.
    let shift = 0;
    const timeline = { tickAt: (t: number) => (t - shift) / 50, intervalMs: 50 };
    const it = new Interpolator(timeline, { delayMs: 100 });
    const at = { x: 0, y: 0 };
    let last = -Infinity;
    let tick = 0;
    for (let now = 0; now <= 2000; now += 16) {
      if (now === 1008) shift = 400;
      while ((tick + 1) * 50 + shift <= now) it.push('a', ++tick, tick * 3, 0);
      it.position('a', now, at);
      if (now > 200 && now !== 1008) expect(at.x, `drawn at ${now} ms`).to.be.at.least(last);
      if (now > 1500) expect(at.x, `moving at ${now} ms`).to.be.greaterThan(last);
      last = at.x;
    }
  });

  it('draws a teleport (a respawn) at once instead of gliding across the arena', () => {
    const it = new Interpolator(MS, { delayMs: 100, snapDistance: 60 });
    it.push('a', 0, 0, 0);
    it.push('a', 50, 5, 0);
    it.push('a', 100, 400, 300);
    const at = { x: 0, y: 0 };
    it.position('a', 160, at);
    expect([at.x, at.y]).to.deep.equal([400, 300]);
  });
});

/**
 * A server for one player: applies the newest input it has received at each tick (sticky, as the
 * arena room does), moves with the simulation's movement, and delivers its state `downMs` later;
 * inputs reach it `upMs` after they were sent.
 */
function simulate(opts: { upMs: number; downMs: number; inputAt: (t: number) => { dx: number; dy: number } }) {
  const arena = createArena({}, 5);
  const world = { width: arena.width, height: arena.height, obstacles: arena.obstacles };
  const { speed, radius } = DEFAULT_ARENA_CONFIG.player;
  const start = { x: arena.playerSpawns[0]!.x, y: arena.playerSpawns[0]!.y };
  const clock = new TickClock(TICK_MS);
  const prediction = new OwnPrediction(world, clock, { speed, radius, side: 1 });
  const server = { ...start };
  const sent: { at: number; dx: number; dy: number }[] = [];
  const deliveries: { at: number; tick: number; x: number; y: number }[] = [];
  const drawn: { t: number; x: number; y: number }[] = [];
  const leadMs = opts.upMs + opts.downMs + 8;
  let last = { dx: 0, dy: 0 };
  let tick = 0;
  deliveries.push({ at: opts.downMs, tick: 0, x: server.x, y: server.y });
  const out = { x: 0, y: 0 };
  for (let t = 0; t <= 4000; t++) {
    // The page: a frame every ~16.7 ms, an input change whenever the test's input changes.
    const want = opts.inputAt(t);
    if (want.dx !== last.dx || want.dy !== last.dy) {
      last = want;
      sent.push({ at: t, ...want });
    }
    // The server ticks every 50 ms with the newest input that has arrived.
    if (t > 0 && t % TICK_MS === 0) {
      tick++;
      const input = [...sent].reverse().find((s) => s.at + opts.upMs <= t) ?? { dx: 0, dy: 0 };
      moveCircle(world, server, input.dx, input.dy, speed, radius, 1);
      deliveries.push({ at: t + opts.downMs, tick, x: Math.fround(server.x), y: Math.fround(server.y) });
    }
    while (deliveries.length > 0 && deliveries[0]!.at <= t) {
      const d = deliveries.shift()!;
      clock.observe(d.tick, t);
      prediction.advance(t, last.dx, last.dy, leadMs);
      prediction.reconcile(d.tick, d.x, d.y, true, t, leadMs);
    }
    if (t % 17 === 0 && prediction.running) {
      prediction.advance(t, last.dx, last.dy, leadMs);
      prediction.position(t, leadMs, out, last);
      drawn.push({ t, x: out.x, y: out.y });
    }
  }
  return { prediction, drawn, server };
}

/** Speeds between drawn frames in [from, to) ms, units per second. */
function speeds(drawn: { t: number; x: number; y: number }[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < drawn.length; i++) {
    const a = drawn[i - 1]!;
    const b = drawn[i]!;
    if (a.t >= from && b.t < to) out.push((Math.hypot(b.x - a.x, b.y - a.y) * 1000) / (b.t - a.t));
  }
  return out;
}

function cv(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length) / m;
}

describe('demo prediction of the own player', () => {
  it('moves at the simulation speed from the first frames of a key press, with a latency of 60 ms', () => {
    // Hold "right" from 1 s to 1.6 s, with 30 ms each way.
    const { drawn, prediction } = simulate({
      upMs: 30,
      downMs: 30,
      inputAt: (t) => (t >= 1000 && t < 1600 ? { dx: 1, dy: 0 } : { dx: 0, dy: 0 }),
    });
    const s = speeds(drawn, 1150, 1600);
    const perSecond = DEFAULT_ARENA_CONFIG.player.speed * (1000 / TICK_MS);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    expect(mean).to.be.closeTo(perSecond, perSecond * 0.1);
    expect(cv(s), 'speed CV at steady input').to.be.at.most(0.15);
    // Moving already within one tick of the key press, not one round trip later.
    const first = drawn.find((d) => d.t >= 1000 && d.x > drawn.find((e) => e.t >= 990)!.x + 0.5)!;
    expect(first.t - 1000).to.be.at.most(TICK_MS + 17);
    expect(prediction.snaps).to.equal(0);
  });

  it('ends where the server ends, after corrections, without a visible jump', () => {
    // Zig-zag input: every change is a chance to mispredict the tick it starts at.
    const { drawn, server } = simulate({
      upMs: 20,
      downMs: 20,
      inputAt: (t) =>
        t < 500 || t > 3000 ? { dx: 0, dy: 0 } : Math.floor(t / 230) % 2 ? { dx: 1, dy: 0 } : { dx: 0, dy: 1 },
    });
    const end = drawn[drawn.length - 1]!;
    expect(end.x).to.be.closeTo(server.x, 0.05);
    expect(end.y).to.be.closeTo(server.y, 0.05);
    // No frame moves further than a fast frame would (speed × 17 ms, plus a correction's share).
    const perFrame = DEFAULT_ARENA_CONFIG.player.speed * (17 / TICK_MS);
    for (let i = 1; i < drawn.length; i++) {
      const d = Math.hypot(drawn[i]!.x - drawn[i - 1]!.x, drawn[i]!.y - drawn[i - 1]!.y);
      expect(d, `frame at ${drawn[i]!.t} ms`).to.be.at.most(perFrame * 2.5);
    }
  });

  it('takes the server position at once when it jumps (a respawn)', () => {
    const arena = createArena({}, 5);
    const world = { width: arena.width, height: arena.height, obstacles: arena.obstacles };
    const clock = new TickClock(TICK_MS);
    const p = new OwnPrediction(world, clock, { speed: 3.2, radius: 10, side: 1 });
    const sp = arena.playerSpawns[0]!;
    clock.observe(1, 0);
    p.reconcile(1, sp.x, sp.y, true, 0, 10);
    clock.observe(2, 50);
    p.advance(50, 0, 0, 10);
    p.reconcile(2, sp.x + 200, sp.y, true, 50, 10);
    const out = { x: 0, y: 0 };
    p.position(51, 10, out);
    expect(out.x).to.be.closeTo(sp.x + 200, 1e-6);
    expect(p.snaps).to.equal(1);
  });
});
