/**
 * The errors a game developer meets first, through the public API: each a PlaymindError (or,
 * for a bad argument, the RangeError/TypeError the options give) whose code names the cause and
 * whose message names the path, URL, file or value that is wrong.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { matchMaker } from '@colyseus/core';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  createBrain,
  expertGuard,
  GUARD_ACTION_NAMES,
  GUARD_OBSERVATION_FEATURES,
  PlaymindError,
  policyContract,
  silentLogger,
  tensor,
  webBackend,
  type Brain,
  type Logger,
  type RouteEvent,
} from '../../sdk/index.js';
import { createBrain as createBrowserBrain, workerBackend as browserWorkerBackend } from '../../sdk/index.browser.js';

const F = 3;
const A = 2;
const row = () => Float32Array.from({ length: F }, (_, i) => i / F);

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A logger that keeps warnings. */
function recordingLogger(): Logger & { warnings: { obj: object; msg?: string }[] } {
  const warnings: { obj: object; msg?: string }[] = [];
  return { ...silentLogger, warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }), warnings };
}

describe('errors a game developer meets', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TestServer | undefined;
  const brains: Brain[] = [];
  const track = (b: Brain) => (brains.push(b), b);

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeModel(dir, 'guard', 1, linearPolicyBytes(F, A), linearPolicyManifest('guard', F, A));
  });
  afterEach(async () => {
    await Promise.all(brains.splice(0).map((b) => b.close()));
    await server?.server.close();
    server = undefined;
  });
  after(() => cleanup?.());

  describe('the models path', () => {
    it('a folder that does not exist is models_not_found naming the folder, not a raw ENOENT', async () => {
      const missing = join(dir, 'no-such-models');
      const err = await rejection(createBrain({ mode: 'local', models: missing, logger: silentLogger }));
      expect(err).to.be.instanceOf(PlaymindError);
      expect((err as PlaymindError).code).to.equal('models_not_found');
      expect(err.message).to.include(missing).and.include('no such folder');
      expect(err.message).not.to.match(/ENOENT/);
    });

    it("one model's folder instead of the repository is models_not_found pointing at its parent", async () => {
      const err = await rejection(createBrain({ mode: 'local', models: join(dir, 'guard'), logger: silentLogger }));
      expect((err as PlaymindError).code).to.equal('models_not_found');
      expect(err.message)
        .to.include("one model's folder")
        .and.include(`pass the folder that holds the model folders, ${dir}`);
    });

    it('a file is models_not_found saying it is a file', async () => {
      const file = join(dir, 'guard', 'manifest.json');
      const err = await rejection(createBrain({ mode: 'local', models: file, logger: silentLogger }));
      expect((err as PlaymindError).code).to.equal('models_not_found');
      expect(err.message).to.include(file).and.include('a file, not a folder');
    });

    it('a base URL without index.json (browser build) is models_not_found naming the URL and the HTTP status', async () => {
      const http: Server = createHttpServer((_req, res) => res.writeHead(404).end('not here'));
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/models`;
      try {
        const err = await rejection(createBrowserBrain({ mode: 'local', models: `${base}/`, logger: silentLogger }));
        expect((err as PlaymindError).code).to.equal('models_not_found');
        expect(err.message).to.include(`${base}/index.json answered HTTP 404`).and.include('playmind index');
      } finally {
        await new Promise<void>((r) => http.close(() => r()));
      }
    });
  });

  describe('the server URL', () => {
    for (const mode of ['remote', 'auto'] as const) {
      it(`${mode}: a serverUrl without ws:// or wss:// is invalid_server_url quoting it`, async () => {
        for (const url of ['localhost:2567', 'ftp://127.0.0.1:2567', 'not a url']) {
          const err = await rejection(createBrain({ mode, serverUrl: url, models: dir, logger: silentLogger }));
          expect((err as PlaymindError).code, url).to.equal('invalid_server_url');
          expect(err.message).to.include(JSON.stringify(url)).and.include('ws://');
        }
      });
    }

    it('a server that is not there: calls fail with unavailable, naming the URL', async () => {
      const url = `ws://127.0.0.1:${await closedPort()}`;
      const brain = track(await createBrain({ mode: 'remote', serverUrl: url }));
      const err = await rejection(brain.policy('guard').decide([row()]));
      expect((err as PlaymindError).code).to.equal('unavailable');
      expect(err.message).to.include(`server at ${url}`);
    });

    it("a server that is not there from the start: the shipped npc-guard's contract falls back to expert-guard (counted), without it the error says how", async () => {
      const url = `ws://127.0.0.1:${await closedPort()}`;
      const brain = track(await createBrain({ mode: 'remote', serverUrl: url }));
      const err = await rejection(
        brain.policy('npc-guard').decide([new Float32Array(GUARD_OBSERVATION_FEATURES.length)]),
      );
      expect((err as PlaymindError).code).to.equal('unavailable');
      expect(err.message).to.include('policyContract');
      const contract = policyContract({
        name: 'npc-guard',
        features: GUARD_OBSERVATION_FEATURES,
        actions: GUARD_ACTION_NAMES,
        heuristic: 'expert-guard',
      });
      // Observations where the scripted guard chooses differently (seeded, varied values).
      let seed = 7;
      const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
      const rows = Array.from({ length: 40 }, () => Float32Array.from(GUARD_OBSERVATION_FEATURES, () => rand()));
      const decided = await brain.policy('npc-guard', { contract }).decide(rows);
      expect(decided.every((d) => d.servedBy === 'fallback' && d.model === 'npc-guard@fallback:expert-guard')).to.equal(
        true,
      );
      const expected = rows.map((r) => GUARD_ACTION_NAMES[expertGuard(r)]);
      expect(decided.map((d) => d.action)).to.deep.equal(expected);
      expect(new Set(expected).size, 'the observations exercise several actions').to.be.at.least(2);
      expect(brain.stats().fallbacks.byModel['npc-guard'], 'fallbacks counted per call').to.equal(1);
    });

    it("a remote unknown_model names the model and the server's models, not its filesystem path", async () => {
      server = await startTestServer({ modelsDir: dir });
      const brain = track(await createBrain({ mode: 'remote', serverUrl: server.wsUrl }));
      const err = await rejection(brain.policy('nope').decide([row()]));
      expect((err as PlaymindError).code).to.equal('unknown_model');
      expect(err.message).to.include('no model named "nope"').and.include('guard');
      for (const path of [dir, REPO_ROOT, '/tmp']) expect(err.message).not.to.include(path);
      expect(JSON.stringify((err as PlaymindError).details)).not.to.include(dir);
    });
  });

  describe('models that do not load', () => {
    it('a manifest that fails to load reaches the caller with its reason', async () => {
      const { dir: broken, cleanup: done } = await tempDir();
      try {
        await writeModel(broken, 'guard', 1, linearPolicyBytes(F, A), {
          ...linearPolicyManifest('guard', F, A),
          kind: 'polcy',
        });
        const brain = track(await createBrain({ mode: 'local', models: broken, logger: silentLogger }));
        const err = await rejection(brain.policy('guard').decide([row()]));
        expect((err as PlaymindError).code).to.equal('model_unavailable');
        expect(err.message).to.include('its manifest did not load').and.include('manifest.json').and.include('kind');
        const err2 = await rejection(brain.model('guard').manifest());
        expect(err2.message).to.equal(err.message);
      } finally {
        await done();
      }
    });
  });

  describe('per-call options', () => {
    it('a negative or zero per-call deadlineMs is a RangeError, as the createBrain option is', async () => {
      const option = await rejection(createBrain({ mode: 'local', models: dir, deadlineMs: -5 }));
      expect(option).to.be.instanceOf(RangeError);
      expect(option.message).to.equal("'deadlineMs' must be a positive number, got -5");
      const brain = track(await createBrain({ mode: 'local', models: dir, logger: silentLogger }));
      const guard = brain.policy('guard');
      await guard.decide([row()]); // the manifest is cached: the hot path checks it too
      for (const bad of [-5, 0, Number.NaN]) {
        const err = await rejection(guard.decide([row()], { deadlineMs: bad }));
        expect(err, String(bad)).to.be.instanceOf(RangeError);
        expect(err.message).to.equal(`'deadlineMs' must be a positive number, got ${bad}`);
      }
      const run = await rejection(
        brain.model('guard').run({ obs: tensor('float32', row(), [1, F]) }, { deadlineMs: -1 }),
      );
      expect(run).to.be.instanceOf(RangeError);
      expect(run.message).to.equal("'deadlineMs' must be a positive number, got -1");
      const contract = brain.policy('guard', { contract: linearPolicyManifest('guard', F, A) as never });
      const c = await rejection(contract.decide([row()], { deadlineMs: -1 }));
      expect(c).to.be.instanceOf(RangeError);
      // A valid deadline still decides.
      expect((await guard.decide([row()], { deadlineMs: 5000 }))[0]!.servedBy).to.equal('local');
    });

    it('a negative deadlineMs in a recommend request is the same RangeError', async () => {
      const { dir: recs, cleanup: done } = await tempDir();
      try {
        await cp(join(REPO_ROOT, 'models', 'quest-recs'), join(recs, 'quest-recs'), { recursive: true });
        const brain = track(await createBrain({ mode: 'local', models: recs, logger: silentLogger }));
        const err = await rejection(
          brain.recommender('quest-recs').recommend({ history: ['q-forest-1'], k: 3, deadlineMs: -2 }),
        );
        expect(err).to.be.instanceOf(RangeError);
        expect(err.message).to.equal("'deadlineMs' must be a positive number, got -2");
      } finally {
        await done();
      }
    });
  });

  describe('what one build cannot do', () => {
    it("the Node build refuses the browser's wasmPaths, naming both builds and what to use", async () => {
      const err = await rejection(createBrain({ mode: 'local', models: dir, wasmPaths: '/ort/' }));
      expect(err).to.be.instanceOf(TypeError);
      expect(err.message).to.include('browser build').and.include('Node build').and.include('webBackend(wasmPaths)');
      // webBackend itself runs in Node.
      const brain = track(
        await createBrain({ mode: 'local', models: dir, backend: webBackend(), logger: silentLogger }),
      );
      expect((await brain.policy('guard').decide([row()]))[0]!.model).to.equal('guard@1');
    });

    it("the browser build's workerBackend throws, naming the build", () => {
      expect(() => browserWorkerBackend({ threads: 2 }))
        .to.throw(PlaymindError, /Node-only: this is the browser build of playmind\/sdk/)
        .with.property('code', 'invalid_argument');
    });
  });

  describe('auto mode', () => {
    it('connects while createBrain runs: the server has the brain before its first call, which the server answers', async () => {
      server = await startTestServer({ modelsDir: dir });
      const events: RouteEvent[] = [];
      const brain = track(
        await createBrain({ mode: 'auto', serverUrl: server.wsUrl, models: dir, logger: silentLogger }),
      );
      brain.on('route', (e) => events.push(e));
      const rooms = await matchMaker.query({ name: 'inference' });
      expect(
        rooms.reduce((n, r) => n + r.clients, 0),
        'clients in the inference room after createBrain',
      ).to.equal(1);
      // The default 30 ms budget is the round trip alone: no join on the first call's path.
      const [d] = await brain.policy('guard').decide([row()], { deadlineMs: 1000 });
      expect(d!.servedBy).to.equal('remote');
      expect(events).to.deep.equal([]);
    });

    it('starts on the local engine, with a warning naming the URL, when the server is not there', async () => {
      const url = `ws://127.0.0.1:${await closedPort()}`;
      const logger = recordingLogger();
      const brain = track(await createBrain({ mode: 'auto', serverUrl: url, models: dir, logger, retryMs: 60_000 }));
      const [d] = await brain.policy('guard').decide([row()]);
      expect(d!.servedBy).to.equal('local');
      const warned = logger.warnings.find((w) => /auto mode starts on the local engine/.test(w.msg ?? ''));
      expect(warned?.msg).to.include(url);
    });

    it('gives the first connection its own budget (connectTimeoutMs), then starts locally', async () => {
      // Accepts TCP connections and never answers: the join hangs.
      const sockets = new Set<import('node:net').Socket>();
      const silent = createNetServer((s) => void sockets.add(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      try {
        const url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`;
        const logger = recordingLogger();
        const t0 = Date.now();
        const brain = track(
          await createBrain({
            mode: 'auto',
            serverUrl: url,
            models: dir,
            logger,
            connectTimeoutMs: 300,
            retryMs: 60_000,
          }),
        );
        expect(Date.now() - t0).to.be.at.least(290);
        const [d] = await brain.policy('guard').decide([row()]);
        expect(d!.servedBy).to.equal('local');
        expect(logger.warnings.some((w) => /within 300 ms/.test(w.msg ?? ''))).to.equal(true);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    });
  });
});
