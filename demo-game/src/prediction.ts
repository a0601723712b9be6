/**
 * Client-side prediction with reconciliation for the own player, in the
 * pattern of Colyseus 0.18's `Reconciler` (`@colyseus/sdk/predict`): the page
 * runs the player's movement itself, one fixed step per arena tick, with the
 * simulation's own movement function (`moveCircle`: the same speed, walls and
 * obstacle sliding as the server), so a key press moves the player at once and
 * at a steady speed. Each step remembers its input and result; when the
 * server's state for a tick arrives, the step for that tick is compared with
 * it, and on a difference the page takes the server's position and replays
 * the steps after it. What that changes on screen is absorbed into an offset
 * that fades out over ~80 ms, so a correction never pops (a jump past
 * `snapDistance`, a respawn, is drawn at once).
 *
 * Which step a server tick matches comes from the {@link TickClock}: the step
 * for tick `k` samples the player's input `leadMs` (the round trip plus a
 * margin) before tick `k` runs on the server, so the input the step used is
 * the one the server had when it ran tick `k`.
 *
 * Why not Colyseus's own `Reconciler`: it needs the room to declare its input
 * (`defineInput` with a fixed timestep, acked per input) and a decoded schema
 * instance to bind to; the arena room takes a sticky `input` message, and the
 * demo's offline mode has no Colyseus room at all. This class runs the same
 * loop on both.
 *
 * @module
 */
import { moveCircle } from '../../server/sim/geometry.js';
import type { Rect } from '../../server/sim/index.js';
import type { TickClock } from './tick-clock.js';

/** The world the movement needs. */
export interface PredictionWorld {
  readonly width: number;
  readonly height: number;
  readonly obstacles: readonly Rect[];
}

/** Options of {@link OwnPrediction}. */
export interface PredictionOptions {
  /** The player's speed per tick (`config.player.speed`). */
  speed: number;
  /** The player's radius. */
  radius: number;
  /** Which way the simulation tries first when blocked (+1 or -1; the player's join order parity). */
  side: number;
  /** A difference past this is a teleport (snap, no smoothing), arena units. @default 40 */
  snapDistance?: number;
  /** Time constant of the correction fade, ms. @default 80 */
  smoothMs?: number;
  /** How much faster or slower than the prediction's speed the drawn player may move to catch up with it. @default 0.08 */
  catchUp?: number;
}

/** One predicted step. */
interface Step {
  tick: number;
  dx: number;
  dy: number;
  x: number;
  y: number;
}

/** Steps kept for replay (3.2 s at 20 Hz). */
const HISTORY = 64;
/** The drawn position closes its gap to the prediction over about this long, ms (within the catch-up cap). */
const CATCH_UP_MS = 100;
/** The catch-up speed when the prediction stands still, units per ms (30 units/s). */
const MIN_CATCH_UP = 0.03;
/** Steps the prediction runs at once when the server is ahead of it, rather than start over. */
const CATCH_UP = 3;
/** A server position this close to the prediction matches (float32 rounding on the wire). */
const MATCH = 0.01;

/** See the module documentation. */
export class OwnPrediction {
  private readonly history: (Step | undefined)[] = new Array(HISTORY);
  private readonly snapDistance: number;
  private readonly smoothMs: number;
  private readonly pos = { x: 0, y: 0 };
  private active = false;
  /** The newest step's tick, and the position before it. */
  private tick = 0;
  private prevX = 0;
  private prevY = 0;
  private offsetX = 0;
  private offsetY = 0;
  private lastFrame = Number.NaN;
  /** Where the player is drawn (see {@link position}). */
  private readonly drawn = { x: 0, y: 0, valid: false };
  private readonly catchUp: number;

  /** Corrections made (server disagreed with a step), snaps (too far off), and restarts from the server. */
  corrections = 0;
  snaps = 0;
  restarts = 0;

  constructor(
    private readonly world: PredictionWorld,
    private readonly clock: TickClock,
    private readonly options: PredictionOptions,
  ) {
    this.snapDistance = options.snapDistance ?? 40;
    this.smoothMs = options.smoothMs ?? 80;
    this.catchUp = options.catchUp ?? 0.08;
  }

  /** Whether the prediction is running (the player is alive and has a server position). */
  get running(): boolean {
    return this.active;
  }

  /**
   * Runs the steps that are due by page time `now` with the current input.
   *
   * @param leadMs - how long before a tick runs on the server its input must be sent (round trip + margin)
   */
  advance(now: number, dx: number, dy: number, leadMs: number): void {
    if (!this.active || !this.clock.ready) return;
    // At most a second's worth in one frame (a hidden tab): the server's next state resets the rest.
    for (let n = 0; n < 20 && this.clock.timeOf(this.tick + 1) - leadMs <= now; n++) this.step(dx, dy);
  }

  /**
   * Takes the server's state of the own player at a tick.
   *
   * @param now - page time, for the correction's on-screen continuity
   */
  reconcile(
    tick: number,
    x: number,
    y: number,
    alive: boolean,
    now: number,
    leadMs: number,
    input: { dx: number; dy: number } = { dx: 0, dy: 0 },
  ): void {
    if (!alive) {
      this.active = false;
      return;
    }
    // The server a step or three ahead (it caught up after a stall, or the timeline is a little
    // late): run those steps now with the current input, then compare.
    if (this.active && tick > this.tick && tick - this.tick <= CATCH_UP) {
      while (this.tick < tick) this.step(input.dx, input.dy);
    }
    // In step, the newest step is at most lead + a patch's delay ahead of the server; far more means
    // the page stalled and caught up on a timeline that has moved since: start again from the server.
    const maxAhead = Math.ceil(leadMs / this.clock.intervalMs) + 4;
    if (!this.active || tick > this.tick || this.tick - tick > maxAhead) {
      if (this.active) this.restarts++;
      const shownBefore = this.active ? this.shown(now, leadMs) : null;
      this.reset(tick, x, y);
      if (shownBefore && Math.hypot(shownBefore.x - x, shownBefore.y - y) <= this.snapDistance) {
        this.offsetX = shownBefore.x - x;
        this.offsetY = shownBefore.y - y;
      }
      return;
    }
    const step = this.history[tick % HISTORY];
    if (!step || step.tick !== tick) return; // older than the history: nothing to compare with
    const ex = x - Math.fround(step.x);
    const ey = y - Math.fround(step.y);
    if (Math.abs(ex) <= MATCH && Math.abs(ey) <= MATCH) return;
    if (Math.hypot(ex, ey) > this.snapDistance) {
      this.snaps++;
      this.reset(tick, x, y);
      return;
    }
    this.corrections++;
    const before = this.shown(now, leadMs);
    // Rewind to the server's position at `tick` and replay the steps after it.
    step.x = x;
    step.y = y;
    const p = { x, y };
    let prev = { x, y };
    for (let t = tick + 1; t <= this.tick; t++) {
      const s = this.history[t % HISTORY];
      if (!s || s.tick !== t) break;
      prev = { x: p.x, y: p.y };
      moveCircle(this.world, p, s.dx, s.dy, this.options.speed, this.options.radius, this.options.side);
      s.x = p.x;
      s.y = p.y;
    }
    if (tick === this.tick) prev = { x: this.prevX, y: this.prevY };
    this.pos.x = p.x;
    this.pos.y = p.y;
    this.prevX = prev.x;
    this.prevY = prev.y;
    const after = this.shown(now, leadMs);
    this.offsetX += before.x - after.x;
    this.offsetY += before.y - after.y;
  }

  /**
   * Where to draw the player at page time `now`. The drawn position moves
   * with the current input at the simulation's speed (with its walls and
   * obstacles), plus a catch-up towards the predicted position (between the
   * last two steps, with the fading correction) of at most `catchUp` of that
   * speed: so at a steady input the drawn speed stays within ±`catchUp` of the
   * simulation's whatever the timeline, the server or the page's frames do,
   * and the drawn position never drifts from the prediction (a gap past
   * `snapDistance` is drawn at once; standing still, it closes at 30 units/s).
   */
  position(
    now: number,
    leadMs: number,
    out: { x: number; y: number },
    input: { dx: number; dy: number } = { dx: 0, dy: 0 },
  ): void {
    const dt = Number.isFinite(this.lastFrame) ? Math.min(100, Math.max(0, now - this.lastFrame)) : 0;
    if (dt > 0) {
      const k = Math.exp(-dt / this.smoothMs);
      this.offsetX *= k;
      this.offsetY *= k;
    }
    this.lastFrame = now;
    const s = this.shown(now, leadMs);
    const tx = s.x + this.offsetX;
    const ty = s.y + this.offsetY;
    const d = this.drawn;
    const gap = Math.hypot(tx - d.x, ty - d.y);
    if (!d.valid || gap > this.snapDistance) {
      d.x = tx;
      d.y = ty;
      d.valid = true;
    } else if (dt > 0) {
      // Move with the input at the simulation's speed (walls and obstacles as the simulation
      // has them), whatever the timeline does...
      const moved = { x: d.x, y: d.y };
      const step = (this.options.speed * dt) / this.clock.intervalMs;
      const walking = moveCircle(this.world, moved, input.dx, input.dy, step, this.options.radius, this.options.side);
      const vx = (moved.x - d.x) / dt;
      const vy = (moved.y - d.y) / dt;
      // ...and close the gap to the prediction at most `catchUp` faster or slower than that.
      const ex = tx - moved.x;
      const ey = ty - moved.y;
      const rest = Math.hypot(ex, ey);
      const cap = Math.max(this.catchUp * Math.hypot(vx, vy), walking ? 0 : MIN_CATCH_UP);
      const want = rest / CATCH_UP_MS;
      const c = want > cap ? cap / want : 1;
      let nx = moved.x + (ex / CATCH_UP_MS) * c * dt;
      let ny = moved.y + (ey / CATCH_UP_MS) * c * dt;
      // Never run past the prediction while closing the gap.
      if (Math.hypot(nx - moved.x, ny - moved.y) > rest) [nx, ny] = [tx, ty];
      d.x = nx;
      d.y = ny;
    }
    out.x = d.x;
    out.y = d.y;
  }

  /** The predicted position at `now` without the correction offset. */
  private shown(now: number, leadMs: number): { x: number; y: number } {
    const start = this.clock.timeOf(this.tick) - leadMs;
    const u = Math.max(0, Math.min(1, (now - start) / this.clock.intervalMs));
    return { x: this.prevX + (this.pos.x - this.prevX) * u, y: this.prevY + (this.pos.y - this.prevY) * u };
  }

  private step(dx: number, dy: number): void {
    this.prevX = this.pos.x;
    this.prevY = this.pos.y;
    moveCircle(this.world, this.pos, dx, dy, this.options.speed, this.options.radius, this.options.side);
    this.tick++;
    this.history[this.tick % HISTORY] = { tick: this.tick, dx, dy, x: this.pos.x, y: this.pos.y };
  }

  private reset(tick: number, x: number, y: number): void {
    this.active = true;
    this.tick = tick;
    this.pos.x = x;
    this.pos.y = y;
    this.prevX = x;
    this.prevY = y;
    this.offsetX = 0;
    this.offsetY = 0;
    this.history.fill(undefined);
    this.history[tick % HISTORY] = { tick, dx: 0, dy: 0, x, y };
  }
}
