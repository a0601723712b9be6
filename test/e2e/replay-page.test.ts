/**
 * The replay page (`GET /replay`) in headless Chromium against a real server: a match
 * played by a real @colyseus/sdk client is recorded to the decision log; the page lists
 * it (with the admin token), loads it, seeks to a tick, and the inspector of the guard
 * clicked shows that guard's decision at that tick — the action, the version the decision
 * log names for it, and probabilities that sum to 1.
 */
import { join } from 'node:path';
import { Client } from '@colyseus/sdk';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from '../helpers/chai.js';
import { tempDir, waitFor } from '../helpers/compat.js';
import { WAIT_MS, launchChromium, screenshot } from '../helpers/demo-page.js';
import { guardRepository } from '../helpers/guard-variants.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ArenaMessage, RoomName } from '../../sdk/protocol.js';
import { listMatchLogs, readMatchLog, type MatchRecord } from '../../server/recording/decision-log-reader.js';
import type { MatchFrames } from '../../server/recording/match-replay.js';
import { ArenaSettings } from '../../server/rooms/arena-room.js';

const TOKEN = 'replay-page-token';

describe('replay page (headless Chromium, real server)', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let browser: BrowserContext;
  let page: Page;
  let record: MatchRecord;

  before(async () => {
    ({ dir, cleanup } = await tempDir('playmind-replay-page-'));
    await guardRepository(join(dir, 'models'), {});
    t = await startTestServer(
      {
        modelsDir: join(dir, 'models'),
        adminToken: TOKEN,
        decisionLogDir: join(dir, 'log'),
        telemetryFile: join(dir, 'telemetry.jsonl'),
        watch: false,
      },
      { arena: new ArenaSettings({ seed: 5, guardCount: 6, minPlayers: 3 }) },
    );
    // A match played by a real client: it joins, moves and attacks for 60 ticks, and leaves.
    const room = await new Client(t.server.url).joinOrCreate(RoomName.ARENA, { name: 'Ada' });
    let ticks = 0;
    room.onStateChange(() => ticks++);
    await waitFor(() => ticks >= 5, WAIT_MS, 'the first ticks');
    room.send(ArenaMessage.INPUT, { dx: 1, dy: 0.4, attack: true });
    await waitFor(() => ticks >= 60, WAIT_MS, '60 ticks');
    await room.leave();
    await waitFor(
      async () => {
        const [m] = await listMatchLogs(join(dir, 'log'));
        if (!m) return false;
        record = await readMatchLog(m.files[0]!);
        return record.end !== null;
      },
      WAIT_MS,
      'the match end in the decision log',
    );
    browser = await launchChromium(join(dir, 'profile'));
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await t?.server.close();
    await cleanup?.();
  });

  it('keeps the recorded matches behind the admin token', async () => {
    expect((await fetch(`${t.server.url}/v2/replays`)).status).to.equal(401);
    const page = await fetch(`${t.server.url}/replay`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.contain('Match replay');
  });

  it('plays a recorded match back, and the inspector shows the decision of the guard clicked at that tick', async () => {
    await page.goto(`${t.server.url}/replay`);
    await page.fill('#token', TOKEN);
    await page.click('#list');
    await page.waitForFunction(
      (id) =>
        Array.from(document.querySelectorAll('#matches option')).some((o) => (o as HTMLOptionElement).value === id),
      record.matchId,
      { timeout: WAIT_MS },
    );
    await page.selectOption('#matches', record.matchId);
    await page.click('#load');
    await page.waitForFunction((id) => document.body.dataset.loaded === id, record.matchId, { timeout: WAIT_MS });
    expect(await page.textContent('#summary')).to.match(
      new RegExp(`${record.ticks.length} ticks, ${record.ticks.length} identical to the log · served npc-guard@1`),
    );

    // Seek to a tick where the model decided, and click the first guard alive there.
    const frames = (await (
      await fetch(`${t.server.url}/v2/replays/${record.matchId}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as MatchFrames;
    const index = frames.frames.findIndex((f, i) => i >= 30 && f.guards.some((g) => g.alive && g.probabilities));
    expect(index).to.be.greaterThan(0);
    const frame = frames.frames[index]!;
    const guard = frame.guards.find((g) => g.alive && g.probabilities)!;
    await page.evaluate((i) => {
      const el = document.getElementById('timeline') as HTMLInputElement;
      el.value = String(i);
      el.dispatchEvent(new Event('input'));
    }, index);
    await page.waitForFunction((tick) => document.body.dataset.tick === String(tick), frame.tick, {
      timeout: WAIT_MS,
    });
    const box = (await page.locator('#arena').boundingBox())!;
    await page.mouse.click(
      box.x + (guard.x * box.width) / frames.width,
      box.y + (guard.y * box.height) / frames.height,
    );
    await page.waitForSelector('#inspector:not([hidden])', { timeout: WAIT_MS });
    expect(await page.textContent('#insp-guard')).to.equal(guard.id);
    expect(await page.textContent('#insp-tick')).to.equal(String(frame.tick));
    expect(await page.textContent('#insp-action')).to.equal(guard.action);
    // The version the inspector names is the one the decision log has for that decision.
    const logged = record.decisions.find((d) => d.observedTick === guard.decisionTick)!;
    expect(logged, `a logged decision observed at tick ${guard.decisionTick}`).to.not.equal(undefined);
    expect(await page.textContent('#insp-model')).to.equal(logged.model);
    expect(logged.model).to.equal('npc-guard@1');
    expect(await page.textContent('#insp-observed')).to.equal(String(guard.decisionTick));
    const bars = await page.$$eval('#insp-probs .bar', (rows) =>
      rows.map((r) => ({ action: (r as HTMLElement).dataset.action, p: Number((r as HTMLElement).dataset.p) })),
    );
    expect(bars.map((b) => b.action)).to.deep.equal(frames.actions);
    expect(bars.reduce((s, b) => s + b.p, 0)).to.be.closeTo(1, 1e-3);
    expect(await page.textContent('#insp-probs .bar.chosen span')).to.equal(guard.action);
    await screenshot(page, 'replay-page');
  });
});
