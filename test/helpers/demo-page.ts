/** Driving the built demo game in headless Chromium (shared by the e2e tests). */
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlaymindHook, RecordedFrame } from '../../demo-game/src/test-hook.js';
import { moveCircle } from '../../server/sim/geometry.js';
import { DEFAULT_ARENA_CONFIG } from '../../server/sim/index.js';
import { REPO_ROOT } from './compat.js';

/** The Chromium binary (Debian's package). */
export const CHROMIUM = process.env.PLAYMIND_CHROMIUM ?? '/usr/bin/chromium';
/** The built demo game. */
export const DEMO_DIR = join(REPO_ROOT, 'demo-game', 'dist');
/** Bound of every wait on the page, ms. */
export const WAIT_MS = Number(process.env.PLAYMIND_E2E_WAIT_MS ?? 15_000);

/** Launches headless Chromium with a fresh profile and no background networking. */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 720 },
  });
}

/**
 * Presses Play on the title screen (the game joins the arena then) and waits until the page
 * says it is playing.
 */
export async function pressPlay(page: Page): Promise<void> {
  await page.locator('#play').click();
  await waitForHook(page, 'the title screen to close', `h.screen === 'playing'`);
}

/** Reads the demo's test hook. */
export function hook(page: Page): Promise<PlaymindHook | null> {
  return page.evaluate(() => window.__playmind ?? null);
}

/** Polls the test hook in the page until `pred` holds (bounded). */
export async function waitForHook(page: Page, what: string, pred: string, timeout = WAIT_MS): Promise<PlaymindHook> {
  try {
    await page.waitForFunction(`(() => { const h = window.__playmind; return !!h && (${pred}); })()`, undefined, {
      timeout,
      polling: 50,
    });
  } catch (err) {
    const h = await hook(page);
    throw new Error(`timed out after ${timeout} ms waiting for ${what}; hook: ${JSON.stringify(h)?.slice(0, 800)}`, {
      cause: err,
    });
  }
  return (await hook(page))!;
}

/**
 * Presses arrow keys and WASD and reports whether the own player moved more than 20 units
 * on each axis, trying towards the middle first (away from walls), else the other way.
 */
export async function moveWithKeys(page: Page, aliveTimeout = WAIT_MS): Promise<{ x: boolean; y: boolean }> {
  const tryMove = async (key: string, axis: 'x' | 'y', sign: 1 | -1): Promise<boolean> => {
    const before = (await waitForHook(page, 'the own player to be alive', 'h.me && h.me.alive', aliveTimeout)).me!;
    await page.keyboard.down(key);
    try {
      await waitForHook(page, `${key} to move the player`, `h.me && (h.me.${axis} - ${before[axis]}) * ${sign} > 20`);
      return true;
    } catch {
      return false; // blocked by an obstacle or a wall, or downed: the caller tries the other way
    } finally {
      await page.keyboard.up(key);
      await waitForHook(page, `${key}'s release to reach the hook`, 'h.input.dx === 0 && h.input.dy === 0');
    }
  };
  const start = (await hook(page))!;
  const { width, height } = DEFAULT_ARENA_CONFIG;
  const horizontal: [string, 1 | -1][] =
    start.me!.x < width / 2
      ? [
          ['ArrowRight', 1],
          ['ArrowLeft', -1],
        ]
      : [
          ['ArrowLeft', -1],
          ['ArrowRight', 1],
        ];
  const vertical: [string, 1 | -1][] =
    start.me!.y < height / 2
      ? [
          ['s', 1],
          ['w', -1],
        ]
      : [
          ['w', -1],
          ['s', 1],
        ];
  const moved = { x: false, y: false };
  for (const [key, sign] of horizontal) if (!moved.x) moved.x = await tryMove(key, 'x', sign);
  for (const [key, sign] of vertical) if (!moved.y) moved.y = await tryMove(key, 'y', sign);
  return moved;
}

/** Where the e2e tests save screenshots (gitignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test', 'artifacts');

/** Saves a screenshot of the page as `test/artifacts/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** A recorded frame: page time and where each player was drawn (`window.__playmindFrames`). */
export type Frame = RecordedFrame;

/** Records where the page draws every player over the next `n` frames (bounded wait). */
export async function recordFrames(page: Page, n: number): Promise<Frame[]> {
  await page.evaluate((count) => {
    window.__playmindFrames = [];
    window.__playmindRecord = count;
  }, n);
  await page.waitForFunction(() => (window.__playmindRecord ?? 0) <= 0, undefined, { timeout: WAIT_MS, polling: 50 });
  return page.evaluate(() => window.__playmindFrames ?? []);
}

/** The keys for a direction (`dx`, `dy` in -1, 0, 1). */
export function keysFor(dx: number, dy: number): string[] {
  return [
    ...(dx > 0 ? ['ArrowRight'] : dx < 0 ? ['ArrowLeft'] : []),
    ...(dy > 0 ? ['ArrowDown'] : dy < 0 ? ['ArrowUp'] : []),
  ];
}

/**
 * The direction (of 8) in which a player at `from` walks furthest in a straight line through the
 * page's arena (`h.world`), with the simulation's own movement.
 *
 * @returns the direction and how far a straight walk of `steps` ticks gets
 */
export function freeDirection(
  world: { width: number; height: number; obstacles: { x: number; y: number; w: number; h: number }[] },
  from: { x: number; y: number },
  steps = 40,
): { dx: number; dy: number; straight: number } {
  const { speed, radius } = DEFAULT_ARENA_CONFIG.player;
  let best = { dx: 1, dy: 0, straight: -1 };
  for (const [dx, dy] of [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
    [1, 1],
    [1, -1],
    [-1, 1],
    [-1, -1],
  ] as const) {
    const p = { x: from.x, y: from.y };
    const len = Math.hypot(dx, dy);
    let straight = 0;
    for (let i = 0; i < steps; i++) {
      const before = { x: p.x, y: p.y };
      moveCircle(world, p, dx, dy, speed, radius, 1);
      // Straight on means the step went the asked way (not slid along a wall).
      const along = ((p.x - before.x) * dx + (p.y - before.y) * dy) / len;
      if (along < speed * 0.99) break;
      straight += along;
    }
    if (straight > best.straight) best = { dx, dy, straight };
  }
  return best;
}

/** Per-frame speeds (units per second) of one player across recorded frames. */
export function frameSpeeds(frames: Frame[], id: string): number[] {
  const out: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!.players[id];
    const b = frames[i]!.players[id];
    const dt = frames[i]!.t - frames[i - 1]!.t;
    if (a && b && dt > 0) out.push((Math.hypot(b[0] - a[0], b[1] - a[1]) * 1000) / dt);
  }
  return out;
}

/** Coefficient of variation (sd / mean). */
export function coefficientOfVariation(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length) / m;
}
