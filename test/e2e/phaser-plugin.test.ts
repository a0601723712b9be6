/**
 * The `playmind/phaser` scene plugin in a real Phaser 4 game in headless Chromium, its
 * brain a remote brain on a real server: the scene gets `this.playmind` when it starts,
 * decides through it, and its brain is closed when the scene stops (the server sees its
 * client leave; calls through the old brain fail `closed`); a restart gets a new brain;
 * a scene the plugin's `scenes` option leaves out gets none; with `create: 'first-use'`
 * the brain is made on the scene's first call only; destroying the game closes the brain too. The page bundles `playmind/phaser` as a game installs it (the built dist/).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir, waitFor } from '../helpers/compat.js';
import { WAIT_MS, launchChromium } from '../helpers/demo-page.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import type { PluginTestState } from './fixtures/phaser-plugin-page.js';

describe('playmind/phaser: a brain bound to the scene (Phaser 4 in headless Chromium)', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let browser: BrowserContext;
  let page: Page;

  const inferenceClients = async () =>
    metricValue(await (await fetch(`${t.server.url}/metrics`)).text(), 'playmind_clients', { room: 'inference' });
  const waitForClients = (n: number, what: string) =>
    waitFor(async () => (await inferenceClients()) === n, WAIT_MS, what);
  const pageState = () => page.evaluate(() => window.__pluginTest);
  const waitForPage = async (what: string, pred: (s: PluginTestState) => boolean) => {
    await waitFor(async () => pred(await pageState()), WAIT_MS, what);
    return pageState();
  };

  before(async () => {
    expect(existsSync(join(REPO_ROOT, 'dist', 'sdk', 'phaser', 'index.js')), 'dist/ is built by npm test').to.equal(
      true,
    );
    ({ dir, cleanup } = await tempDir('playmind-phaser-'));
    const site = join(dir, 'site');
    const result = await build({
      entryPoints: [join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'phaser-plugin-page.ts')],
      outfile: join(site, 'page.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['browser'],
      target: ['es2022'],
      logLevel: 'warning',
      metafile: true,
      // The page imports the plugin's source (so it type-checks); the bundle takes the
      // package a game developer installs, `playmind/phaser`, from the built dist/.
      plugins: [
        {
          name: 'playmind-as-installed',
          setup(b) {
            b.onResolve({ filter: /sdk\/phaser\/index\.js$/ }, () =>
              b.resolve('playmind/phaser', { kind: 'import-statement', resolveDir: REPO_ROOT }),
            );
          },
        },
      ],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).to.include('dist/sdk/phaser/playmind-plugin.js');
    expect(inputs.filter((f) => f.startsWith('sdk/'))).to.deep.equal([]);
    await writeFile(
      join(site, 'index.html'),
      '<!doctype html><html><body><script type="module" src="./page.js"></script></body></html>',
    );
    t = await startTestServer({ modelsDir: join(REPO_ROOT, 'models'), watch: false, demoDir: site });
    browser = await launchChromium(join(dir, 'profile'));
    page = await browser.newPage();
    page.on('pageerror', (e) => console.log(`    [page error] ${e.message}`));
    await page.goto(`${t.server.url}/`);
  });

  after(async () => {
    await browser?.close();
    await t?.server.close();
    await cleanup?.();
  });

  it('gives the started scene a brain that decides (served by the server)', async () => {
    const s = await waitForPage('the first decision', (x) => x.decisions.length >= 1 || x.errors.length > 0);
    expect(s.errors).to.deep.equal([]);
    expect(s.decisions).to.have.length(1);
    expect(s.decisions[0]).to.include({ run: 1, servedBy: 'remote' });
    expect(s.decisions[0]!.action).to.be.a('string');
    await waitForClients(1, "the scene brain's connection to the inference room");
  });

  it('closes the brain when the scene stops: the server sees it leave, calls through it fail closed', async () => {
    await page.evaluate(() => window.__game.scene.stop('play'));
    await waitForClients(0, 'the inference client to leave after scene.stop');
    await page.evaluate(() => window.__callStale());
    const s = await pageState();
    expect(s.afterStop).to.deep.equal({ handle: 'closed', brain: 'closed' });
    expect(
      await page.evaluate(
        () => (window.__game.scene.getScene('play') as unknown as { playmind: { brain: unknown } }).playmind.brain,
      ),
    ).to.equal(null);
  });

  it('gives a restarted scene a new brain', async () => {
    await page.evaluate(() => window.__game.scene.start('play'));
    const s = await waitForPage('the second decision', (x) => x.decisions.length >= 2 || x.errors.length > 0);
    expect(s.errors).to.deep.equal([]);
    expect(s.decisions[1]).to.include({ run: 2, servedBy: 'remote' });
    await waitForClients(1, 'the new brain to connect');
  });

  it("gives no brain to a scene the plugin's scenes option leaves out", async () => {
    await page.evaluate(() => window.__game.scene.run('menu'));
    const s = await waitForPage('the menu scene to start', (x) => x.menu !== undefined);
    expect(s.menu).to.equal('invalid_argument');
    expect(await inferenceClients()).to.equal(1);
  });

  it("with create: 'first-use', makes the brain only when the scene first asks, and closes it on stop", async () => {
    await page.evaluate(() => window.__game.scene.run('lazy'));
    await waitForPage('the lazy scene to start', (x) => x.lazy.started);
    // Started, not asked: no brain, no connection (the play scene's brain is the one client).
    await new Promise((r) => setTimeout(r, 300));
    expect((await pageState()).lazy.brainAtStart).to.equal(false);
    expect(await inferenceClients()).to.equal(1);
    await page.evaluate(() => window.__useLazy());
    const s = await pageState();
    expect(s.lazy.error).to.equal(undefined);
    expect(s.lazy.servedBy).to.equal('remote');
    expect(s.lazy.decision).to.be.a('string');
    await waitForClients(2, "the lazy scene's brain to connect on first use");
    await page.evaluate(() => window.__game.scene.stop('lazy'));
    await waitForClients(1, "the lazy scene's brain to leave when the scene stops");
  });

  it('closes the brain when the game is destroyed', async () => {
    await page.evaluate(() => window.__game.destroy(false));
    await waitForClients(0, 'the inference client to leave after game.destroy');
  });
});
