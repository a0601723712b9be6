/**
 * Where the scene draws each entity: the own player predicted
 * ({@link OwnPrediction}), everyone else interpolated ({@link Interpolator}),
 * both on the arena's tick timeline ({@link TickClock}). Fed every state the
 * source emits, read every frame.
 *
 * Keys: `p:<playerId>` for players, `g:<guardId>` for guards.
 *
 * @module
 */
import { DEFAULT_ARENA_CONFIG, type Rect } from '../../server/sim/index.js';
import type { ArenaView, PlayerIntent } from './arena-source.js';
import { Interpolator } from './interpolation.js';
import { OwnPrediction } from './prediction.js';
import { TickClock } from './tick-clock.js';

/** Patches whose lateness the jitter buffer looks at (a second at 20 Hz). */
const LATENESS_WINDOW = 20;
/** Added to the round trip when sampling a step's input, ms (event-loop and timer slack). */
const LEAD_MARGIN_MS = 8;

/** See the module documentation. */
export class Motion {
  private readonly clock: TickClock;
  private readonly others: Interpolator;
  private prediction: OwnPrediction | null = null;
  private obstacles: Rect[] = [];
  private obstaclesKey = '';
  private lastTick = -1;
  private roundTripMs = 0;
  private readonly keys = new Set<string>();
  /** How late the last patches came, ms (for the interpolation's jitter buffer). */
  private readonly lateness: number[] = [];
  private intent: PlayerIntent = { dx: 0, dy: 0, attack: false };

  /**
   * @param playerId - the own player (predicted; '' for none)
   * @param tickRate - the arena's nominal ticks per second
   */
  constructor(
    private readonly playerId: string,
    tickRate = DEFAULT_ARENA_CONFIG.tickRate,
  ) {
    this.clock = new TickClock(1000 / tickRate);
    this.others = new Interpolator(this.clock);
  }

  /** How far in the past other entities are drawn now, ms (the jitter buffer). */
  get interpolationDelayMs(): number {
    return this.others.currentDelayMs;
  }

  /** Ticks per second over the last two seconds, measured from the patches. */
  get tickRate(): number {
    return this.clock.tickRateAt(performance.now());
  }

  /** Corrections the own prediction needed so far (the server disagreed), and snaps. */
  get corrections(): { corrections: number; snaps: number; restarts: number } {
    const p = this.prediction;
    return { corrections: p?.corrections ?? 0, snaps: p?.snaps ?? 0, restarts: p?.restarts ?? 0 };
  }

  /** The measured round trip to whoever runs the arena (0 offline), ms. */
  setRoundTrip(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.roundTripMs = ms;
  }

  private get leadMs(): number {
    return this.roundTripMs + LEAD_MARGIN_MS;
  }

  /** Takes a state (call on every state event). */
  onState(view: ArenaView, now: number): void {
    if (view.width === 0) return;
    if (view.tick === this.lastTick) return;
    this.lastTick = view.tick;
    this.clock.observe(view.tick, now);
    const t = this.clock.timeOf(view.tick);
    this.lateness.push(now - t);
    if (this.lateness.length > LATENESS_WINDOW) this.lateness.shift();
    this.others.lateness(Math.max(...this.lateness), this.clock.intervalMs);
    this.keys.clear();
    view.guards.forEach((g, id) => {
      const key = `g:${id}`;
      this.keys.add(key);
      this.others.push(key, view.tick, g.x, g.y);
    });
    let index = 0;
    view.players.forEach((p, id) => {
      const key = `p:${id}`;
      this.keys.add(key);
      this.others.push(key, view.tick, p.x, p.y);
      if (id === this.playerId) this.reconcileOwn(view, index, p.x, p.y, p.alive, now);
      index++;
    });
    this.others.retain(this.keys);
  }

  /** Runs the own player's due steps with the current input (call once per frame, before reading positions). */
  frame(now: number, intent: PlayerIntent): void {
    if (intent.dx !== this.intent.dx || intent.dy !== this.intent.dy) {
      // Steps due before now were decided with the input in effect until now (a page that
      // stalled runs them late): the new input only goes to the server now.
      this.prediction?.advance(now, this.intent.dx, this.intent.dy, this.leadMs);
    }
    this.intent = intent;
    this.prediction?.advance(now, intent.dx, intent.dy, this.leadMs);
  }

  /**
   * Where to draw an entity now.
   *
   * @returns false when the entity has no position yet
   */
  position(key: string, now: number, out: { x: number; y: number }): boolean {
    if (key === `p:${this.playerId}` && this.prediction?.running) {
      this.prediction.position(now, this.leadMs, out, this.intent);
      return true;
    }
    return this.others.position(key, now, out);
  }

  private reconcileOwn(view: ArenaView, index: number, x: number, y: number, alive: boolean, now: number): void {
    const key = this.worldKey(view);
    if (!this.prediction || key !== this.obstaclesKey) {
      this.obstaclesKey = key;
      this.obstacles = [];
      view.obstacles.forEach((o) => this.obstacles.push({ x: o.x, y: o.y, w: o.w, h: o.h }));
      const world = { width: view.width, height: view.height, obstacles: this.obstacles };
      const tuning = DEFAULT_ARENA_CONFIG.player;
      this.prediction = new OwnPrediction(world, this.clock, {
        speed: tuning.speed,
        radius: tuning.radius,
        side: index % 2 === 0 ? 1 : -1,
      });
    }
    // Steps due by now first: a patch can come before the frame that would have run them.
    this.prediction.advance(now, this.intent.dx, this.intent.dy, this.leadMs);
    this.prediction.reconcile(view.tick, x, y, alive, now, this.leadMs, this.intent);
  }

  private worldKey(view: ArenaView): string {
    const parts: number[] = [view.width, view.height];
    view.obstacles.forEach((o) => parts.push(o.x, o.y, o.w, o.h));
    return parts.join(',');
  }
}
