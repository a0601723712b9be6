/**
 * The demo game's offline mode end to end, which also proves the SDK's browser
 * build: the built demo (`demo-game/dist`) served by a tiny static file server
 * (no Playmind server, no Colyseus), played in headless Chromium. The
 * simulation runs in the page; onnxruntime-web (WASM) runs npc-guard and
 * quest-recs, fetched over HTTP from the demo's own folder (`./ort/`,
 * `./offline-models/`).
 *
 * - `/?offline=1`: offline from the start.
 * - `/`: tries to join the arena room, cannot (the static server has no
 *   `/matchmake`), and falls back to offline mode with a visible notice.
 *
 * - A real server (`node dist/server/main.js`) killed with SIGKILL while the
 *   page plays online, then restarted on the same port: the page plays offline
 *   within a second, and rejoins the server without a reload.
 *
 * Needs `demo-game/dist` (`npm run build:demo`; `npm test` builds it) and
 * `/usr/bin/chromium` (skipped, saying so, without it). Screenshots go to
 * `test/artifacts/` (gitignored).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import {
  CHROMIUM,
  DEMO_DIR,
  hook,
  launchChromium,
  moveWithKeys,
  pressPlay,
  screenshot,
  waitForHook,
} from '../helpers/demo-page.js';
import { GUARD_ACTIONS } from '../../server/sim/index.js';

/** Bound of the offline start (fetch and compile the WASM, load the models), ms. */
const START_MS = Number(process.env.PLAYMIND_E2E_START_MS ?? 45_000);
const MODEL = 'npc-guard@1';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/** A static file server over a folder: GET and HEAD only, loopback, any free port; logs what it served. */
interface StaticServer {
  url: string;
  /** `METHOD path -> status content-type`, in order. */
  log: string[];
  close(): Promise<void>;
}

async function startStaticServer(dir: string): Promise<StaticServer> {
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const rel = normalize(path === '/' ? '/index.html' : path);
    const file = join(dir, rel);
    const send = (status: number, type: string, body?: Buffer) => {
      log.push(`${req.method} ${path} -> ${status} ${type}`);
      res.writeHead(status, {
        'Content-Type': type,
        'Cache-Control': 'no-store',
        ...(body ? { 'Content-Length': body.length } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(404, 'text/plain');
    if (!file.startsWith(dir + sep) || rel.split(sep).some((p) => p.startsWith('.'))) return send(404, 'text/plain');
    stat(file)
      .then(async (s) =>
        s.isFile()
          ? send(200, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file))
          : send(404, 'text/plain'),
      )
      .catch(() => send(404, 'text/plain'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A page with everything that may go wrong on it recorded. */
interface Watched {
  page: Page;
  pageErrors: string[];
  /** Console errors, with the URL they are about. */
  consoleErrors: { text: string; url: string }[];
  foreignRequests: string[];
  failedRequests: string[];
}

async function watchedPage(browser: BrowserContext, origin: string): Promise<Watched> {
  const page = await browser.newPage();
  const w: Watched = { page, pageErrors: [], consoleErrors: [], foreignRequests: [], failedRequests: [] };
  page.on('pageerror', (err) => w.pageErrors.push(String(err.stack ?? err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') w.consoleErrors.push({ text: msg.text(), url: msg.location().url });
  });
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:'))
      w.foreignRequests.push(url);
  });
  page.on('requestfailed', (req) => w.failedRequests.push(`${req.url()}: ${req.failure()?.errorText ?? '?'}`));
  return w;
}

/** Distinct colours on the game canvas (-1: not a 2d canvas). */
function canvasColours(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('#game canvas');
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return -1;
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return seen.size;
  });
}

const OFFLINE_READY = `h.mode === 'offline' && h.status === 'offline' && h.connected && h.tick > 0 && h.me !== null`;
const GUARDS_ON_MODEL = `h.guards.length > 0 && h.guards.every((g) => g.model === ${JSON.stringify(MODEL)}) && h.inference !== null && h.inference.guardsServedBy === 'local' && h.inference.decisions > 0`;

describe('demo game offline, from a static file server, in headless Chromium (e2e)', function () {
  this.timeout(120_000);
  let server: StaticServer;
  let browser: BrowserContext;
  let cleanupProfile: (() => Promise<void>) | undefined;

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
    server = await startStaticServer(DEMO_DIR);
    const profile = await tempDir('playmind-e2e-offline-chromium-');
    cleanupProfile = profile.cleanup;
    browser = await launchChromium(profile.dir);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await cleanupProfile?.();
  });

  describe('with ?offline=1', () => {
    let w: Watched;

    before(async () => {
      w = await watchedPage(browser, server.url);
      // Records every value the page's progress bars show while offline mode downloads.
      await w.page.addInitScript(() => {
        const seen: number[] = [];
        (window as unknown as { __progressSeen: number[] }).__progressSeen = seen;
        new MutationObserver(() => {
          document.querySelectorAll('.loading-overlay:not([hidden]) [role="progressbar"]').forEach((bar) => {
            const v = Number(bar.getAttribute('aria-valuenow'));
            if (seen[seen.length - 1] !== v) seen.push(v);
          });
        }).observe(document, { subtree: true, childList: true, attributes: true });
      });
      const res = await w.page.goto(`${server.url}/?offline=1`);
      expect(res?.status(), 'GET /?offline=1').to.equal(200);
      await pressPlay(w.page);
    });

    after(async () => {
      await w?.page.close();
    });

    it('runs the simulation in the page, with advancing ticks', async () => {
      const first = await waitForHook(w.page, 'offline mode to start', OFFLINE_READY, START_MS);
      expect(first.notice, 'no notice when offline mode was asked for').to.equal('');
      const later = await waitForHook(w.page, 'ticks to advance', `h.tick >= ${first.tick + 10}`);
      expect(later.updates).to.be.greaterThan(first.updates);
      expect(await w.page.locator('[data-hud="mode"]').textContent()).to.contain('offline');
      expect(await w.page.locator('[data-hud="status"]').textContent()).to.equal('offline');
      // Never tried the server.
      expect(
        server.log.filter((l) => l.includes('/matchmake')),
        'matchmaking requests',
      ).to.deep.equal([]);
    });

    it(`drives the guards with ${MODEL} run by onnxruntime-web in the page, one decision per tick`, async () => {
      const h = await waitForHook(w.page, `every guard to be driven by ${MODEL}, served locally`, GUARDS_ON_MODEL);
      for (const g of h.guards)
        expect(GUARD_ACTIONS as readonly string[], `guard ${g.id}'s action`).to.include(g.action);
      expect(h.guardModel).to.equal(MODEL);
      expect(h.inference!.backend).to.contain('onnxruntime-web');
      // The brain is the arena scene's this.playmind (playmind/phaser), made on first use.
      expect(h.sceneBrain, "the scene plugin's brain").to.equal('ready');
      // Decisions keep coming: at most one batched decision per tick, and most ticks get theirs in time.
      const later = await waitForHook(w.page, 'more decisions', `h.tick >= ${h.tick + 20}`);
      const ticks = later.tick - h.tick;
      const decided = later.inference!.decisions - h.inference!.decisions;
      const missed = later.inference!.deadlineMisses - h.inference!.deadlineMisses;
      expect(decided + missed, `decisions applied + missed over ${ticks} ticks`).to.be.at.most(ticks + 1);
      expect(decided, `decisions applied over ${ticks} ticks`).to.be.greaterThan(ticks / 2);
      expect(await w.page.locator('[data-hud="guards"]').textContent()).to.equal(MODEL);
      expect(h.route).to.equal('local-model');
      expect(await w.page.locator('[data-hud="route"]').textContent()).to.equal(
        `this page · model ${MODEL} (onnxruntime-web (wasm, in this page))`,
      );
      // The model files and the WASM came from the demo's own folder on this server, as WASM.
      expect(server.log).to.include(`GET /offline-models/index.json -> 200 application/json`);
      expect(server.log).to.include(`GET /offline-models/npc-guard/1/model.onnx -> 200 application/octet-stream`);
      expect(server.log).to.include(`GET /offline-models/quest-recs/1/model.onnx -> 200 application/octet-stream`);
      expect(
        server.log.filter((l) => /^GET \/ort\/[^ ]+\.wasm -> 200 application\/wasm$/.test(l)),
        'WASM fetched',
      ).to.have.length(1);
    });

    it('recommends quests with quest-recs in the page, and takes one when it is clicked', async () => {
      const h = await waitForHook(
        w.page,
        'quest recommendations',
        'h.recommendations.length > 0 && h.inference !== null && h.inference.recommendationsServedBy !== ""',
      );
      expect(h.recommendationsModel).to.match(/^quest-recs@(1|popularity)$/);
      expect(h.inference!.recommendationsServedBy).to.equal('local');
      expect(await w.page.locator('[data-hud="recs"]').textContent()).to.contain('quest-recs@');
      const pick = h.recommendations[0]!;
      await w.page.locator(`#recommendations button[data-quest-id="${pick.id}"]`).click();
      const after = await waitForHook(
        w.page,
        `quest ${pick.id} to become active`,
        `h.activeQuest && h.activeQuest.id === ${JSON.stringify(pick.id)}`,
      );
      expect(after.activeQuest!.title).to.equal(pick.title);
      // The history now holds the quest: the model recommends again, without it at the top.
      await waitForHook(
        w.page,
        'recommendations after taking a quest',
        `h.recommendations.length > 0 && h.recommendationsModel === 'quest-recs@1'`,
      );
    });

    it('moves the own player in the direction of the keys pressed', async () => {
      const moved = await moveWithKeys(w.page, START_MS);
      expect(moved, 'moved horizontally and vertically').to.deep.equal({ x: true, y: true });
    });

    it('draws the arena on a canvas that is not blank', async () => {
      expect(await w.page.locator('#game canvas').count()).to.equal(1);
      expect(await canvasColours(w.page), 'distinct colours on the canvas').to.be.greaterThan(8);
      await screenshot(w.page, 'demo-offline');
    });

    it('showed a progress bar over the arena while the offline runtime downloaded', async () => {
      await waitForHook(w.page, 'offline mode running', OFFLINE_READY);
      const seen = await w.page.evaluate(() => (window as unknown as { __progressSeen: number[] }).__progressSeen);
      expect(
        seen.some((v) => v > 0 && v < 100),
        `progress values shown: ${seen.join(', ')}`,
      ).to.equal(true);
      for (let i = 1; i < seen.length; i++) expect(seen[i], 'progress never goes back').to.be.at.least(seen[i - 1]!);
      const h = (await hook(w.page))!;
      expect(h.offline.state).to.equal('ready');
      expect(h.offline.loaded).to.equal(h.offline.total);
      expect(await w.page.locator('.loading-overlay').isHidden(), 'the overlay is gone once it runs').to.equal(true);
    });

    it("shows a clicked guard's probabilities from the page's own model, summing to 1", async () => {
      const canvas = (await w.page.locator('#game canvas').boundingBox())!;
      const h = await waitForHook(
        w.page,
        'a living guard on the model',
        `${GUARDS_ON_MODEL} && h.guards.some((g) => g.alive)`,
      );
      const g = h.guards.find((x) => x.alive)!;
      await w.page.mouse.click(
        canvas.x + (g.x * canvas.width) / h.world!.width,
        canvas.y + (g.y * canvas.height) / h.world!.height,
      );
      const seen = await waitForHook(
        w.page,
        'the inspector',
        'h.inspector !== null && h.inspector.probabilities !== null',
      );
      const sum = Object.values(seen.inspector!.probabilities!).reduce((a, b) => a + b, 0);
      expect(sum).to.be.closeTo(1, 1e-4);
      expect(seen.inspector!.model).to.equal(MODEL);
      await w.page.locator('#inspector-close').click();
    });

    it('raises no page or console errors, and fetches nothing from any other origin', async () => {
      const h = (await hook(w.page))!;
      expect(h.errors, 'errors the game reported').to.deep.equal([]);
      expect(w.pageErrors, 'page errors').to.deep.equal([]);
      expect(w.consoleErrors, 'console errors').to.deep.equal([]);
      expect(w.foreignRequests, 'requests to other origins').to.deep.equal([]);
      expect(w.failedRequests, 'failed requests').to.deep.equal([]);
      expect(
        server.log.filter((l) => !/ -> 200 /.test(l)),
        'requests the static server could not answer',
      ).to.deep.equal([]);
    });
  });

  describe('without ?offline=1 and without an arena server', () => {
    let w: Watched;
    let logFrom: number;

    before(async () => {
      logFrom = server.log.length;
      w = await watchedPage(browser, server.url);
      const res = await w.page.goto(`${server.url}/`);
      expect(res?.status(), 'GET /').to.equal(200);
      await pressPlay(w.page);
    });

    after(async () => {
      await w?.page.close();
    });

    it('falls back to offline mode and says so on the page', async () => {
      const h = await waitForHook(
        w.page,
        'the fallback to offline mode',
        `${OFFLINE_READY} && h.notice !== ''`,
        START_MS,
      );
      // A sentence for players: why, and what the game does about it; no codes.
      expect(h.notice).to.match(/^The server .+\. Playing offline: the arena and the AI run in this page\./);
      expect(h.notice).to.not.match(/ws_|\b\d{3}\b|undefined/);
      const notice = w.page.locator('#notice');
      expect(await notice.isVisible(), '#notice visible').to.equal(true);
      expect(await notice.textContent()).to.equal(h.notice);
      expect(await w.page.locator('[data-hud="mode"]').textContent()).to.contain('offline');
      // It did try the server first.
      expect(
        server.log.slice(logFrom).some((l) => l.includes('/matchmake/')),
        'a matchmaking request',
      ).to.equal(true);
    });

    it(`then plays offline: guards on ${MODEL} served locally, recommendations, the canvas drawn`, async () => {
      const h = await waitForHook(w.page, `every guard to be driven by ${MODEL}, served locally`, GUARDS_ON_MODEL);
      expect(h.guardModel).to.equal(MODEL);
      await waitForHook(
        w.page,
        'quest recommendations',
        `h.recommendations.length > 0 && h.inference.recommendationsServedBy === 'local'`,
      );
      expect(await canvasColours(w.page), 'distinct colours on the canvas').to.be.greaterThan(8);
      await screenshot(w.page, 'demo-offline-fallback');
    });

    it('raises no page errors, no console errors but the refused join, and fetches nothing from any other origin', async () => {
      const h = (await hook(w.page))!;
      expect(h.errors, 'errors the game reported').to.deep.equal([]);
      expect(w.pageErrors, 'page errors').to.deep.equal([]);
      // The browser logs the 404 of the matchmaking request itself; nothing else may fail.
      expect(
        w.consoleErrors.filter((e) => !e.url.includes('/matchmake/')),
        'console errors',
      ).to.deep.equal([]);
      expect(w.foreignRequests, 'requests to other origins').to.deep.equal([]);
      expect(w.failedRequests, 'failed requests').to.deep.equal([]);
      expect(
        server.log.slice(logFrom).filter((l) => !/ -> 200 /.test(l) && !l.includes('/matchmake/')),
        'other requests the static server could not answer',
      ).to.deep.equal([]);
    });
  });
});

/** A free TCP port on 127.0.0.1 (the restarted server must come back on the same one). */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** `node dist/server/main.js` on a port, resolved once it listens. */
async function startServerProcess(port: number, telemetry: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist', 'server', 'main.js'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--models',
      join(REPO_ROOT, 'models'),
      '--demo',
      DEMO_DIR,
      '--telemetry',
      telemetry,
      '--no-watch',
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not listen within ${START_MS} ms: ${out.slice(-2000)}`)),
      START_MS,
    );
    const onData = (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes('"playmind server listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${out.slice(-2000)}`));
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

describe('demo game when its server is killed (kill -9) and restarted, in headless Chromium (e2e)', function () {
  this.timeout(150_000);
  let browser: BrowserContext;
  let cleanup: (() => Promise<void>) | undefined;
  let child: ChildProcess | undefined;
  let port: number;
  let origin: string;
  let telemetry: string;
  let w: Watched;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(
        `    (skipped: no Chromium at ${CHROMIUM}; install it with apt-get install chromium, or set PLAYMIND_CHROMIUM)`,
      );
      this.skip();
    }
    if (!existsSync(join(REPO_ROOT, 'dist', 'server', 'main.js')) || !existsSync(join(DEMO_DIR, 'index.html')))
      throw new Error('dist/server/main.js or the demo is not built; run npm run build (npm test builds them)');
    const d = await tempDir('playmind-e2e-restart-');
    cleanup = d.cleanup;
    telemetry = join(d.dir, 'telemetry.jsonl');
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    child = await startServerProcess(port, telemetry);
    browser = await launchChromium(join(d.dir, 'profile'));
    w = await watchedPage(browser, origin);
    await w.page.goto(`${origin}/`);
    await pressPlay(w.page);
    await waitForHook(
      w.page,
      'online play with offline mode loaded',
      `h.mode === 'online' && h.status === 'connected' && h.tick > 0 && h.offline.state === 'ready'`,
      START_MS,
    );
    await w.page.evaluate(() => ((window as unknown as { __sameLoad: boolean }).__sameLoad = true));
  });

  after(async () => {
    if (child) await kill9(child);
    await browser?.close();
    await cleanup?.();
  });

  it('keeps the game running in offline mode within a second of the kill, and says so', async () => {
    const killedAt = Date.now();
    await kill9(child!);
    const h = await waitForHook(
      w.page,
      'offline mode after the kill',
      `h.mode === 'offline' && h.status === 'offline' && h.offlineAt !== null`,
    );
    const offlineAt = await w.page.evaluate(() => performance.timeOrigin + window.__playmind!.offlineAt!);
    expect(offlineAt - killedAt, 'ms from kill -9 to the offline arena running').to.be.at.most(1000);
    const later = await waitForHook(w.page, 'offline ticks', `h.mode === 'offline' && h.tick >= ${h.tick + 10}`);
    expect(later.me, 'the own player in the offline arena').to.not.equal(null);
    expect(later.switches.offline).to.equal(1);
    expect(later.notice).to.match(/^Lost the connection to the server: playing offline/);
    expect(await w.page.locator('#notice').textContent()).to.equal(later.notice);
    expect(later.route).to.equal('local-model');
    await screenshot(w.page, 'demo-offline-after-kill');
  });

  it('rejoins the server when it is back, without a reload', async () => {
    child = await startServerProcess(port, telemetry);
    const h = await waitForHook(
      w.page,
      'online again after the restart',
      `h.mode === 'online' && h.status === 'connected' && h.switches.online >= 1`,
      START_MS,
    );
    const later = await waitForHook(w.page, 'online ticks', `h.mode === 'online' && h.tick >= ${h.tick + 10}`);
    expect(later.route).to.equal('server-model');
    expect(later.notice).to.equal('Back online: rejoined the server.');
    expect(await w.page.evaluate(() => (window as unknown as { __sameLoad?: boolean }).__sameLoad)).to.equal(true);
  });

  it('raises no page errors, and no console errors but the refused connections while the server was down', async () => {
    expect(w.pageErrors, 'page errors').to.deep.equal([]);
    expect(
      w.consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/.test(e.text)),
      'console errors',
    ).to.deep.equal([]);
    expect(w.foreignRequests, 'requests to other origins').to.deep.equal([]);
  });
});
