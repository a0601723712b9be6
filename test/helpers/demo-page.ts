/** Driving the built demo game in headless Chromium (shared by the e2e tests). */
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { join } from 'node:path';
import type { PlaymindHook } from '../../demo-game/src/test-hook.js';
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
