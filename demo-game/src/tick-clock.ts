/**
 * Maps the arena's simulation ticks onto this page's clock. The arena sends
 * one state patch per tick; a patch's arrival time is the tick's time plus a
 * delay that varies (the network, the event loops). Over a sliding window of
 * recent patches the clock measures the tick interval (between the lowest
 * delays of the window's oldest and newest quarters) and takes the lowest
 * delay seen as the offset, so `timeOf(tick)` is a steady,
 * jitter-free timeline: interpolation and prediction key their samples on it
 * instead of on arrival times.
 *
 * @module
 */

/** Patches the fit looks back over (five seconds at 20 Hz). */
const WINDOW = 100;
/** Patches the timeline's offset looks back over (one second at 20 Hz). */
const ANCHOR_WINDOW = 20;
/** How far the timeline may move per patch, ms, and past which it jumps. */
const SLEW_MS = 3;
const JUMP_MS = 150;

/** See the module documentation. */
export class TickClock {
  private readonly ticks: number[] = [];
  private readonly arrivals: number[] = [];
  private interval: number;
  /** The page time of tick `anchorTick` on the timeline. */
  private anchorTime = Number.NaN;
  private anchorTick = 0;

  /** @param nominalMs - the expected tick interval (1000 / tick rate), used until a fit is possible */
  constructor(private readonly nominalMs: number) {
    if (!(nominalMs > 0)) throw new RangeError(`'nominalMs' must be > 0, got ${nominalMs}`);
    this.interval = nominalMs;
  }

  /** Whether a patch has been observed. */
  get ready(): boolean {
    return Number.isFinite(this.anchorTime);
  }

  /** The fitted tick interval, ms. */
  get intervalMs(): number {
    return this.interval;
  }

  /**
   * Ticks per second the arena delivered over the last two seconds (what the
   * HUD shows: it drops when the server is slow or patches stop coming).
   */
  tickRateAt(now: number): number {
    const n = this.ticks.length;
    if (n < 2) return 0;
    let i = n - 1;
    while (i > 0 && now - this.arrivals[i - 1]! <= 2000) i--;
    const span = Math.max(now - this.arrivals[i]!, this.arrivals[n - 1]! - this.arrivals[i]!);
    return span > 0 ? ((this.ticks[n - 1]! - this.ticks[i]!) * 1000) / span : 0;
  }

  /**
   * Records a patch.
   *
   * @param tick - the simulation tick it carries
   * @param arrivalMs - when it arrived (`performance.now()`)
   */
  observe(tick: number, arrivalMs: number): void {
    const n = this.ticks.length;
    if (n > 0 && tick <= this.ticks[n - 1]!) {
      // A restarted arena (ticks go back): start over.
      if (tick < this.ticks[n - 1]!) this.reset();
      else return;
    }
    this.ticks.push(tick);
    this.arrivals.push(arrivalMs);
    if (this.ticks.length > WINDOW) {
      this.ticks.shift();
      this.arrivals.shift();
    }
    this.fit();
  }

  /** The page time at which `tick` was (or will be) simulated, on the fitted timeline. */
  timeOf(tick: number): number {
    return this.anchorTime + (tick - this.anchorTick) * this.interval;
  }

  /** The (fractional) tick at page time `t`. */
  tickAt(t: number): number {
    return this.anchorTick + (t - this.anchorTime) / this.interval;
  }

  /** Forgets every patch (a new arena). */
  reset(): void {
    this.ticks.length = 0;
    this.arrivals.length = 0;
    this.interval = this.nominalMs;
    this.anchorTime = Number.NaN;
    this.anchorTick = 0;
  }

  private fit(): void {
    const n = this.ticks.length;
    const nominal = this.nominalMs;
    if (n >= 20) {
      // The lowest delay in the oldest and in the newest quarter of the window: the slope between
      // those two points is the server's real tick interval (bursts and late patches sit above them).
      const q = Math.floor(n / 4);
      const low = (from: number, to: number) => {
        let best = Infinity;
        let at = 0;
        for (let i = from; i < to; i++) {
          const d = this.arrivals[i]! - this.ticks[i]! * nominal;
          if (d < best) [best, at] = [d, this.ticks[i]!];
        }
        return { d: best, tick: at };
      };
      const a = low(0, q);
      const b = low(n - q, n);
      const slope = b.tick > a.tick ? nominal + (b.d - a.d) / (b.tick - a.tick) : nominal;
      this.interval = Math.min(nominal * 1.25, Math.max(nominal * 0.8, slope));
    }
    // The timeline is anchored at the newest tick, so a new interval estimate tilts it around the
    // present instead of shifting it by (tick number × change).
    const last = this.ticks[n - 1]!;
    // The lowest delay over the last second only: a server that stalled (a busy machine) keeps
    // ticking from where it got to, so its timeline moves for good.
    let target = Infinity;
    for (let i = Math.max(0, n - ANCHOR_WINDOW); i < n; i++)
      target = Math.min(target, this.arrivals[i]! + (last - this.ticks[i]!) * this.interval);
    // Move it by at most SLEW_MS per patch either way, so what is drawn on it never jumps (a
    // busy server ticks in bursts; a busy page reads patches late); a shift past JUMP_MS (a long
    // stall) is taken at once.
    const expected = this.anchorTime + (last - this.anchorTick) * this.interval;
    const off = target - expected;
    this.anchorTime =
      Number.isFinite(expected) && Math.abs(off) <= JUMP_MS
        ? expected + Math.max(-SLEW_MS, Math.min(SLEW_MS, off))
        : target;
    this.anchorTick = last;
  }
}
