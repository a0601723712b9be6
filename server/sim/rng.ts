/**
 * A small seeded pseudo-random number generator for the arena simulation.
 *
 * The simulation never calls `Math.random`: every random draw comes from an
 * {@link Rng} derived from the episode seed, so the same seed always replays the
 * same episode. Only `+ - * /`, `Math.imul` and `Math.sqrt` are used (all exactly
 * specified by ECMAScript), so a seed gives the same stream in Node and in every
 * browser engine.
 *
 * @module
 */

/**
 * Mixes a 32-bit value (the `splitmix32`/murmur3 finaliser).
 *
 * @param x - any integer; only its low 32 bits are used
 * @returns a well-mixed unsigned 32-bit integer
 */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Derives an independent sub-seed for a named stream of one seed, so that
 * drawing more numbers in one stream (say, bot noise) never shifts another
 * (say, the map layout).
 *
 * @param seed - the episode seed
 * @param stream - a small integer naming the stream
 * @returns an unsigned 32-bit seed
 * @example
 * const layout = new Rng(deriveSeed(42, 1));
 */
export function deriveSeed(seed: number, stream: number): number {
  return mix32(mix32(seed >>> 0) ^ Math.imul(stream + 1, 0x27d4eb2d));
}

/**
 * The `mulberry32` generator: 32 bits of state, period 2^32, fast and good
 * enough for game simulation (not for cryptography).
 *
 * @example
 * const rng = new Rng(7);
 * rng.float();        // in [0, 1)
 * rng.int(6);         // 0..5
 * rng.pick(['a','b']);
 */
export class Rng {
  private state: number;

  /**
   * @param seed - any finite number; its low 32 bits seed the generator
   * @throws TypeError when `seed` is not a finite number
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new TypeError(`'seed' must be a finite number, got ${String(seed)}`);
    }
    this.state = seed >>> 0;
  }

  /** @returns the next unsigned 32-bit integer of the stream */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** @returns a float uniformly drawn from [0, 1) */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /**
   * @param min - lower bound (inclusive)
   * @param max - upper bound (exclusive)
   * @returns a float uniformly drawn from [min, max)
   */
  range(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /**
   * @param n - the number of outcomes, a positive integer
   * @returns an integer uniformly drawn from 0..n-1
   */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /**
   * @param items - a non-empty array
   * @returns one element, uniformly chosen
   * @throws RangeError when `items` is empty
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError(`'items' must not be empty`);
    return items[this.int(items.length)] as T;
  }

  /**
   * An approximately normal draw (Irwin–Hall sum of four uniforms, rescaled to
   * unit variance; support is ±3.46·sd). Uses no transcendental functions, so
   * it is bit-identical across JavaScript engines.
   *
   * @param mean - @default 0
   * @param sd - standard deviation @default 1
   * @returns a draw with the given mean and standard deviation
   */
  gaussian(mean = 0, sd = 1): number {
    const s = this.float() + this.float() + this.float() + this.float() - 2;
    return mean + sd * s * 1.7320508075688772;
  }

  /** @returns true with probability `p` */
  chance(p: number): boolean {
    return this.float() < p;
  }
}
