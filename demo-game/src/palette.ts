/**
 * Colours of the arena. Guards are coloured by their current action.
 *
 * @module
 */

/** Fill colour per guard action (`server/sim/guard-actions.ts`). */
export const ACTION_COLORS: Readonly<Record<string, number>> = Object.freeze({
  idle: 0x9ca3af,
  patrol: 0x60a5fa,
  chase: 0xf59e0b,
  attack: 0xef4444,
  flee: 0xfacc15,
  flank: 0xc084fc,
});

/** Colour of an action that has none of its own (`initial`, or a new action). */
export const UNKNOWN_ACTION_COLOR = 0xe5e7eb;

export const COLORS = Object.freeze({
  background: 0x141b26,
  grid: 0x1e2836,
  wall: 0x2a3445,
  obstacle: 0x3b475b,
  obstacleEdge: 0x5b6b84,
  me: 0x34d399,
  meRing: 0xffffff,
  human: 0x2dd4bf,
  bot: 0xf472b6,
  collectible: 0xfbbf24,
  healthBack: 0x111827,
  healthGood: 0x22c55e,
  healthLow: 0xef4444,
  dead: 0x4b5563,
  /** The own `visit` quest's target ring, its label and the hint towards it. */
  questTarget: 0x38bdf8,
});

/** `#rrggbb` for a colour number (DOM use). */
export function css(color: number): string {
  return `#${color.toString(16).padStart(6, '0')}`;
}
