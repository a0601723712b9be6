/**
 * Entity interpolation for what the player does not control (other players,
 * bots, guards): each entity keeps its last few positions by tick, and is
 * drawn where it was a little in the past — the page time `now − delay` read
 * as a (fractional) tick on the {@link TickClock} timeline — between the two
 * samples around that tick. Keying samples by tick, not by time, keeps them
 * consistent when the timeline moves (a stalled page or server). The delay
 * is a jitter buffer: at least `delayMs` (two ticks by default), and more
 * while patches come late (a busy server or page: the delay follows the
 * latest patches' lateness up quickly and back down slowly), so a late patch
 * does not leave a moving entity without a sample to draw. Past the newest
 * sample the motion goes on, slowing down over `maxExtrapolateMs`. A jump
 * longer than `snapDistance` (a respawn) is drawn at once instead of as a glide.
 *
 * @module
 */

/** A position at a tick. */
interface Sample {
  /** The tick. */
  t: number;
  x: number;
  y: number;
}

/** Page time to ticks (a {@link TickClock}). */
export interface Timeline {
  /** The (fractional) tick at page time `t`. */
  tickAt(t: number): number;
  /** Milliseconds per tick. */
  readonly intervalMs: number;
}

/** Options of {@link Interpolator}. */
export interface InterpolationOptions {
  /** How far in the past entities are drawn at least, ms. @default 100 */
  delayMs?: number;
  /** How far at most, however late patches come, ms. @default 400 */
  maxDelayMs?: number;
  /** Past the newest sample, motion goes on slowing with this time constant, ms (at most speed × this further). @default 100 */
  maxExtrapolateMs?: number;
  /** A jump longer than this is a teleport, arena units. @default 60 */
  snapDistance?: number;
}

/** Samples kept per entity: more than the largest delay covers (400 ms is 8 ticks at 20 Hz). */
const KEEP = 24;

/** See the module documentation. */
export class Interpolator {
  /** The minimum delay, ms. */
  readonly delayMs: number;
  private readonly maxDelayMs: number;
  /** The delay in use, ms (see {@link lateness}). */
  private delay: number;
  private target: number;
  private lastAdjust = Number.NaN;
  private readonly maxExtrapolateMs: number;
  private readonly snapDistance: number;
  private readonly tracks = new Map<string, Sample[]>();

  /** @param timeline - reads page times as ticks */
  constructor(
    private readonly timeline: Timeline,
    options: InterpolationOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 100;
    this.maxDelayMs = Math.max(this.delayMs, options.maxDelayMs ?? 400);
    this.delay = this.delayMs;
    this.target = this.delayMs;
    this.maxExtrapolateMs = options.maxExtrapolateMs ?? 100;
    this.snapDistance = options.snapDistance ?? 60;
  }

  /** The delay entities are drawn with now, ms. */
  get currentDelayMs(): number {
    return this.delay;
  }

  /**
   * How late the latest patches came (the largest lateness over the last second or so, ms,
   * on the tick timeline): the delay becomes at least that plus one tick.
   *
   * @param intervalMs - the tick interval
   */
  lateness(lateMs: number, intervalMs: number): void {
    this.target = Math.min(this.maxDelayMs, Math.max(this.delayMs, lateMs + intervalMs + 10));
  }

  /**
   * Moves the delay towards its target without ever moving drawn time backwards or stopping
   * it: up by 80 % of the real time that passed (entities play slower for a moment), down by 5 %.
   */
  private adjust(now: number): void {
    const dt = Number.isFinite(this.lastAdjust) ? Math.max(0, Math.min(100, now - this.lastAdjust)) : 0;
    this.lastAdjust = now;
    if (this.target > this.delay) this.delay = Math.min(this.target, this.delay + 0.8 * dt);
    else this.delay = Math.max(this.target, this.delay - 0.05 * dt);
  }

  /**
   * Records where an entity was at a tick.
   *
   * @param key - the entity
   * @param t - the tick
   */
  push(key: string, t: number, x: number, y: number): void {
    let s = this.tracks.get(key);
    if (!s) {
      s = [];
      this.tracks.set(key, s);
    }
    const last = s[s.length - 1];
    if (last && t <= last.t) {
      // The same tick again (an offline take-quest re-sync): keep the newest position.
      last.x = x;
      last.y = y;
      return;
    }
    if (last && Math.hypot(x - last.x, y - last.y) > this.snapDistance) s.length = 0;
    s.push({ t, x, y });
    if (s.length > KEEP) s.shift();
  }

  /**
   * Where to draw an entity at page time `now` (null when it has no sample).
   *
   * @param out - receives the position (no allocation per frame)
   */
  position(key: string, now: number, out: { x: number; y: number }): boolean {
    if (now !== this.lastAdjust) this.adjust(now);
    const s = this.tracks.get(key);
    if (!s || s.length === 0) return false;
    const t = this.timeline.tickAt(now - this.delay);
    const first = s[0]!;
    if (s.length === 1 || t <= first.t) {
      out.x = first.x;
      out.y = first.y;
      return true;
    }
    for (let i = s.length - 1; i > 0; i--) {
      const a = s[i - 1]!;
      const b = s[i]!;
      if (t >= a.t && t <= b.t) {
        const u = b.t > a.t ? (t - a.t) / (b.t - a.t) : 1;
        out.x = a.x + (b.x - a.x) * u;
        out.y = a.y + (b.y - a.y) * u;
        return true;
      }
    }
    // Past the newest sample: continue its last motion, slowing down (a decay of
    // `maxExtrapolateMs`), so a late patch makes it ease, not freeze, and it never runs
    // further than its speed × `maxExtrapolateMs` past where it was last seen.
    const b = s[s.length - 1]!;
    const a = s.length > 1 ? s[s.length - 2]! : b;
    const tau = this.maxExtrapolateMs / this.timeline.intervalMs;
    const ahead = tau > 0 ? tau * (1 - Math.exp(-(t - b.t) / tau)) : 0;
    const span = b.t - a.t;
    out.x = span > 0 ? b.x + ((b.x - a.x) * ahead) / span : b.x;
    out.y = span > 0 ? b.y + ((b.y - a.y) * ahead) / span : b.y;
    return true;
  }

  /** Forgets entities not in `keys`. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.tracks.keys()) if (!keys.has(k)) this.tracks.delete(k);
  }

  /** Forgets everything (a new arena). */
  clear(): void {
    this.tracks.clear();
  }
}
