/**
 * The demo game end to end: a real Playmind server (shipped models) serving the
 * built demo at `/`, played in a real headless Chromium driven by
 * playwright-core. Reads the game through `window.__playmind` (the demo's test
 * hook), presses keys, clicks a recommendation, and checks that nothing on the
 * page fails and nothing is fetched from anywhere but the server.
 *
 * Needs `demo-game/dist` (`npm run build:demo`; `npm test` builds it) and
 * `/usr/bin/chromium` (`apt-get install chromium`; skipped, saying so, without it).
 * `PLAYMIND_E2E_SCREENSHOT=<file.png>` saves a screenshot of the page.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { matchMaker } from '@colyseus/core';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  CHROMIUM,
  DEMO_DIR,
  WAIT_MS,
  hook,
  launchChromium,
  moveWithKeys,
  pressPlay,
  waitForHook,
} from '../helpers/demo-page.js';
import { DEFAULT_ARENA_CONFIG, GUARD_ACTIONS } from '../../server/sim/index.js';
import { RoomName } from '../../sdk/protocol.js';
import type { ArenaRoom } from '../../server/rooms/arena-room.js';

describe('demo game in headless Chromium (e2e)', function () {
  this.timeout(90_000);
  let ts: TestServer;
  let browser: BrowserContext;
  let page: Page;
  let cleanupProfile: (() => Promise<void>) | undefined;
  let cleanupData: (() => Promise<void>) | undefined;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  const failedRequests: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(
        `    (skipped: no Chromium at ${CHROMIUM}; install it with apt-get install chromium, or set PLAYMIND_CHROMIUM)`,
      );
      this.skip();
    }
    if (!existsSync(join(DEMO_DIR, 'index.html'))) {
      throw new Error(
        `the demo game is not built: ${join(DEMO_DIR, 'index.html')} is missing; run npm run build:demo (npm test builds it)`,
      );
    }
    const data = await tempDir('playmind-e2e-data-');
    cleanupData = data.cleanup;
    ts = await startTestServer({
      demoDir: DEMO_DIR,
      modelsDir: join(REPO_ROOT, 'models'),
      telemetryFile: join(data.dir, 'telemetry.jsonl'),
      watch: false,
    });
    const profile = await tempDir('playmind-e2e-chromium-');
    cleanupProfile = profile.cleanup;
    // A fresh profile (playwright passes it as --user-data-dir).
    browser = await launchChromium(profile.dir);
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (err) => pageErrors.push(String(err.stack ?? err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('request', (req) => {
      const url = req.url();
      if (
        !url.startsWith(ts.server.url) &&
        !url.startsWith(ts.wsUrl) &&
        !url.startsWith('data:') &&
        !url.startsWith('blob:')
      )
        foreignRequests.push(url);
    });
    page.on('requestfailed', (req) => failedRequests.push(`${req.url()}: ${req.failure()?.errorText ?? '?'}`));
    const res = await page.goto(`${ts.server.url}/`);
    expect(res?.status(), 'GET /').to.equal(200);
    await pressPlay(page);
  });

  after(async () => {
    await browser?.close();
    await ts?.server.close();
    await cleanupProfile?.();
    await cleanupData?.();
  });

  it('joins the arena and receives advancing ticks', async () => {
    const first = await waitForHook(page, 'the arena to be joined', 'h.connected && h.tick > 0 && h.me !== null');
    expect(first.mode).to.equal('online');
    expect(first.status).to.equal('connected');
    const later = await waitForHook(page, 'ticks to advance', `h.tick >= ${first.tick + 10}`);
    expect(later.tick).to.be.greaterThan(first.tick);
    expect(later.updates).to.be.greaterThan(first.updates);
    expect(await page.locator('[data-hud="status"]').textContent()).to.contain('connected');
  });

  it('draws the arena on a canvas that is not blank', async () => {
    const canvas = page.locator('#game canvas');
    expect(await canvas.count()).to.equal(1);
    const box = await canvas.boundingBox();
    expect(box?.width, 'canvas width').to.be.greaterThan(100);
    expect(box?.height, 'canvas height').to.be.greaterThan(100);
    // The canvas renderer: read the pixels back and count distinct colours.
    const colours = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#game canvas')!;
      const ctx = c.getContext('2d');
      if (!ctx) return -1;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
    expect(colours, 'distinct colours on the canvas (-1: not a 2d canvas)').to.be.greaterThan(8);
    const shot = process.env.PLAYMIND_E2E_SCREENSHOT;
    if (shot) await page.screenshot({ path: shot });
  });

  it('shows guards acting on the npc-guard model the server serves', async () => {
    const served = ts.server.services.repository.state('npc-guard')?.served;
    expect(served, 'served npc-guard version').to.be.a('number');
    const model = `npc-guard@${served}`;
    const h = await waitForHook(
      page,
      `every guard to be driven by ${model}`,
      `h.guards.length > 0 && h.guards.every((g) => g.model === ${JSON.stringify(model)})`,
    );
    expect(model).to.equal('npc-guard@1');
    for (const g of h.guards) expect(GUARD_ACTIONS as readonly string[], `guard ${g.id}'s action`).to.include(g.action);
    expect(h.guardModel).to.equal(model);
    expect(await page.locator('[data-hud="guards"]').textContent()).to.equal(model);
    expect(h.route).to.equal('server-model');
    expect(await page.locator('[data-hud="route"]').textContent()).to.equal(`server · model ${model}`);
  });

  it('moves the own player in the direction of the keys pressed (arrows and WASD)', async () => {
    const moved = await moveWithKeys(page);
    expect(moved, 'moved horizontally and vertically').to.deep.equal({ x: true, y: true });
  });

  it('takes a recommended quest when it is clicked', async () => {
    const h = await waitForHook(page, 'quest recommendations', 'h.recommendations.length > 0');
    expect(h.recommendationsModel).to.match(/^quest-recs@/);
    const pick = h.recommendations.find((r) => r.id !== h.activeQuest?.id)!;
    const button = page.locator(`#recommendations button[data-quest-id="${pick.id}"]`);
    await button.click();
    const after = await waitForHook(
      page,
      `quest ${pick.id} to become active`,
      `h.activeQuest && h.activeQuest.id === ${JSON.stringify(pick.id)}`,
    );
    expect(after.activeQuest!.title).to.equal(pick.title);
    expect(after.activeQuest!.goal).to.be.greaterThan(0);
    await page.waitForFunction(
      (id) => document.querySelector<HTMLElement>('#active-quest')?.dataset.questId === id,
      pick.id,
      { timeout: WAIT_MS },
    );
    expect(await page.locator('#active-quest').textContent()).to.contain(pick.title);
  });

  it('marks the target of a visit quest on the map, and clears it when the quest ends', async () => {
    // The list holds still under the pointer; move it away so new suggestions show.
    await page.mouse.move(2, 2);
    const h = await waitForHook(
      page,
      'a visit quest among the recommendations',
      `h.recommendations.some((r) => r.kind === 'visit' && r.id !== h.activeQuest?.id)`,
    );
    const pick = h.recommendations.find((r) => r.kind === 'visit' && r.id !== h.activeQuest?.id)!;
    await page.locator(`#recommendations button[data-quest-id="${pick.id}"]`).click();
    const taken = await waitForHook(
      page,
      `visit quest ${pick.id} to become active with a target`,
      `h.activeQuest && h.activeQuest.id === ${JSON.stringify(pick.id)} && h.activeQuestTarget !== null`,
    );
    expect(taken.activeQuest!.kind).to.equal('visit');
    const target = taken.activeQuestTarget!;

    // The hook shows the simulation's own target for this player's quest.
    const listings = await matchMaker.query({ name: RoomName.ARENA });
    const rooms = listings
      .map((l) => matchMaker.getLocalRoomById(l.roomId) as ArenaRoom | undefined)
      .filter((r): r is ArenaRoom => r !== undefined && r.session.arena.player(taken.me!.id) !== undefined);
    expect(rooms, 'the arena room the page plays in').to.have.length(1);
    const room = rooms[0]!;
    const simQuest = room.session.arena.player(taken.me!.id)!.activeQuest;
    expect(simQuest?.questId).to.equal(pick.id);
    expect(simQuest!.target, 'the sim quest target').to.not.equal(null);
    expect(target.x).to.be.closeTo(simQuest!.target!.x, 1e-3);
    expect(target.y).to.be.closeTo(simQuest!.target!.y, 1e-3);
    const { width, height } = DEFAULT_ARENA_CONFIG;
    expect(target.x).to.be.within(0, width);
    expect(target.y).to.be.within(0, height);

    // The marker is drawn: pixels of its colour around the target on the canvas.
    await page.waitForFunction(
      ({ tx, ty, w, hgt }) => {
        const c = document.querySelector<HTMLCanvasElement>('#game canvas');
        const ctx = c?.getContext('2d');
        if (!c || !ctx) return false;
        const cx = Math.round((tx * c.width) / w);
        const cy = Math.round((ty * c.height) / hgt);
        const half = 40;
        const x0 = Math.max(0, cx - half);
        const y0 = Math.max(0, cy - half);
        const { data } = ctx.getImageData(x0, y0, Math.min(c.width - x0, 2 * half), Math.min(c.height - y0, 2 * half));
        let n = 0;
        // COLORS.questTarget (demo-game/src/palette.ts) 0x38bdf8, drawn opaque at the centre cross.
        for (let i = 0; i < data.length; i += 4)
          if (
            Math.abs(data[i]! - 0x38) <= 10 &&
            Math.abs(data[i + 1]! - 0xbd) <= 10 &&
            Math.abs(data[i + 2]! - 0xf8) <= 10
          )
            n++;
        return n >= 5;
      },
      { tx: target.x, ty: target.y, w: width, hgt: height },
      { timeout: WAIT_MS, polling: 100 },
    );
    expect(await page.locator('#active-quest').textContent()).to.contain(pick.title);
    const shot = process.env.PLAYMIND_E2E_SCREENSHOT;
    if (shot) await page.screenshot({ path: shot.replace(/(\.png)?$/, '-quest.png') });

    // Ending the quest (turned in as the `finish-quest` message would) clears the target.
    room.session.finishQuest(taken.me!.id);
    const ended = await waitForHook(page, 'the visit quest to end', 'h.activeQuest === null');
    expect(ended.activeQuestTarget).to.equal(null);
  });

  it('raises no page errors, console errors or server errors, and fetches nothing from elsewhere', async () => {
    const h = (await hook(page))!;
    expect(h.errors, 'errors the game received').to.deep.equal([]);
    expect(pageErrors, 'page errors').to.deep.equal([]);
    expect(consoleErrors, 'console errors').to.deep.equal([]);
    expect(foreignRequests, 'requests to other hosts').to.deep.equal([]);
    expect(failedRequests, 'failed requests').to.deep.equal([]);
    expect(ts.errors(), 'server errors').to.deep.equal([]);
  });
});
