/**
 * Entity interpolation for what the player does not control (other players,
 * bots, guards): each entity keeps its last few positions stamped with their
 * tick's time on the {@link TickClock} timeline, and is drawn where it was a
 * little in the past (`delayMs`, two ticks by default), between the two
 * samples around that instant. A patch that comes late is covered by the
 * delay; past the newest sample the motion is extrapolated for at most one
 * more tick, so a late patch never freezes a moving entity. A jump longer
 * than `snapDistance` (a respawn) is drawn at once instead of as a glide.
 *
 * @module
 */

/** A position at a moment of the tick timeline. */
interface Sample {
  t: number;
  x: number;
  y: number;
}

/** Options of {@link Interpolator}. */
export interface InterpolationOptions {
  /** How far in the past entities are drawn, ms. @default 100 */
  delayMs?: number;
  /** How far past the newest sample motion is extrapolated, ms. @default 60 */
  maxExtrapolateMs?: number;
  /** A jump longer than this is a teleport, arena units. @default 60 */
  snapDistance?: number;
}

/** Samples kept per entity. */
const KEEP = 8;

/** See the module documentation. */
export class Interpolator {
  readonly delayMs: number;
  private readonly maxExtrapolateMs: number;
  private readonly snapDistance: number;
  private readonly tracks = new Map<string, Sample[]>();

  constructor(options: InterpolationOptions = {}) {
    this.delayMs = options.delayMs ?? 100;
    this.maxExtrapolateMs = options.maxExtrapolateMs ?? 60;
    this.snapDistance = options.snapDistance ?? 60;
  }

  /**
   * Records where an entity was at a tick.
   *
   * @param key - the entity
   * @param t - the tick's time on the tick timeline, ms
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
    const s = this.tracks.get(key);
    if (!s || s.length === 0) return false;
    const t = now - this.delayMs;
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
    // Past the newest sample: continue its last motion for a while, then hold.
    const b = s[s.length - 1]!;
    const a = s.length > 1 ? s[s.length - 2]! : b;
    const ahead = Math.min(t - b.t, this.maxExtrapolateMs);
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
