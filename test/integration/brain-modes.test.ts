/**
 * createBrain's three modes through the public API: remote answers like local;
 * auto prefers the server, answers locally when the server is gone or slower than
 * the deadline, and goes back to the server when it answers again.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { createBrain, silentLogger, type Brain, type RouteEvent } from '../../sdk/index.js';
import { REPO_ROOT, tempDir, waitFor } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const F = 5;
const A = 4;
const rows = (n: number, seed = 0) =>
  Array.from({ length: n }, (_, i) => Float32Array.from({ length: F }, (_, j) => Math.cos(seed + i * 2.3 + j)));

describe('createBrain modes: local, remote, auto', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TestServer | undefined;
  const brains: Brain[] = [];
  const track = (b: Brain) => (brains.push(b), b);

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeModel(dir, 'guard', 1, linearPolicyBytes(F, A, 0.7), linearPolicyManifest('guard', F, A));
    await cp(join(REPO_ROOT, 'models', 'quest-recs'), join(dir, 'quest-recs'), { recursive: true });
  });

  afterEach(async () => {
    await Promise.all(brains.splice(0).map((b) => b.close()));
    await server?.server.close();
    server = undefined;
  });

  after(() => cleanup?.());

  it('remote mode answers like local mode: decisions, recommendations and error codes', async () => {
    server = await startTestServer({ modelsDir: dir });
    const local = track(await createBrain({ mode: 'local', models: dir, logger: silentLogger }));
    const remote = track(await createBrain({ mode: 'remote', serverUrl: server.wsUrl }));
    const obs = rows(9);
    const masks = obs.map((_, i) => ({ a0: i % 2 === 0 }));
    const [l, r] = await Promise.all([
      local.policy('guard').decide(obs, { masks }),
      remote.policy('guard').decide(obs, { masks }),
    ]);
    expect(r.map((d) => d.action)).to.deep.equal(l.map((d) => d.action));
    expect(r.every((d) => d.servedBy === 'remote' && d.model === 'guard@1')).to.equal(true);
    const req = { history: ['q-forest-1'], k: 4, exclude: ['q-forest-2'] };
    const [lr, rr] = await Promise.all([
      local.recommender('quest-recs').recommend(req),
      remote.recommender('quest-recs').recommend(req),
    ]);
    expect(rr.items.map((i) => i.id)).to.deep.equal(lr.items.map((i) => i.id));
    expect(rr.servedBy).to.equal('remote');
    await expect(remote.policy('nope').decide(obs))
      .to.be.rejectedWith(/no model named "nope"/)
      .and.eventually.have.property('code', 'unknown_model');
    await expect(remote.policy('guard').decide([new Float32Array(F + 1)]))
      .to.be.rejectedWith(/has 6 values/)
      .and.eventually.have.property('code', 'invalid_observation');
    expect(remote.stats().servedBy.remote).to.equal(2);
  });

  it('auto mode prefers the server, answers locally when it goes away, and returns to it when it is back', async () => {
    server = await startTestServer({ modelsDir: dir });
    const port = server.server.port;
    const events: RouteEvent[] = [];
    const brain = track(
      await createBrain({
        mode: 'auto',
        serverUrl: server.wsUrl,
        models: dir,
        logger: silentLogger,
        deadlineMs: 2000,
        retryMs: 100,
      }),
    );
    brain.on('route', (e) => events.push(e));
    const policy = brain.policy('guard');
    const first = await policy.decide(rows(3));
    expect(first.map((d) => d.servedBy)).to.deep.equal(['remote', 'remote', 'remote']);

    await server.server.close();
    server = undefined;
    const meanwhile = await policy.decide(rows(3, 1));
    expect(meanwhile.map((d) => d.servedBy)).to.deep.equal(['local', 'local', 'local']);
    expect(meanwhile[0]!.model).to.equal('guard@1');
    expect(events.map((e) => `${e.from}->${e.to}`)).to.deep.equal(['remote->local']);
    expect(['unavailable', 'deadline_exceeded']).to.include(events[0]!.reason);
    // Same decisions whichever route served them.
    const again = await policy.decide(rows(3));
    expect(again.map((d) => d.action)).to.deep.equal(first.map((d) => d.action));

    server = await startTestServer({ modelsDir: dir, port });
    await waitFor(
      async () => (await policy.decide(rows(1)))[0]!.servedBy === 'remote',
      15_000,
      'calls to go back to the server',
    );
    expect(events.map((e) => `${e.from}->${e.to}:${e.reason}`).slice(-1)).to.deep.equal(['local->remote:recovered']);
    const s = brain.stats();
    expect(s.servedBy.local).to.be.greaterThan(0);
    expect(s.servedBy.remote).to.be.greaterThan(1);
    expect(s.fallbacks.total).to.equal(0);
  });

  it('auto mode answers locally when the server is slower than the deadline', async () => {
    // The server holds every request 400 ms for company: slower than the 60 ms budget.
    server = await startTestServer({ modelsDir: dir, batching: { maxQueueDelayMs: 400, maxBatchSize: 10_000 } });
    const events: RouteEvent[] = [];
    const brain = track(
      await createBrain({
        mode: 'auto',
        serverUrl: server.wsUrl,
        models: dir,
        logger: silentLogger,
        deadlineMs: 60,
        retryMs: 60_000,
      }),
    );
    brain.on('route', (e) => events.push(e));
    const d = await brain.policy('guard').decide(rows(2));
    expect(d.map((x) => x.servedBy)).to.deep.equal(['local', 'local']);
    expect(events.map((e) => `${e.from}->${e.to}:${e.reason}`)).to.deep.equal(['remote->local:deadline_exceeded']);
  });

  it('refuses a remote or auto brain without a server URL, and an auto brain without local models', async () => {
    await expect(createBrain({ mode: 'remote' })).to.be.rejectedWith(
      TypeError,
      /'serverUrl' is required in remote mode/,
    );
    await expect(createBrain({ mode: 'auto', models: dir })).to.be.rejectedWith(
      TypeError,
      /'serverUrl' is required in auto mode/,
    );
    await expect(createBrain({ mode: 'auto', serverUrl: 'ws://127.0.0.1:9' })).to.be.rejectedWith(
      TypeError,
      /'models' is required in auto mode/,
    );
    await expect(createBrain({ mode: 'cloud' as 'local' })).to.be.rejectedWith(
      RangeError,
      /'mode' must be 'local', 'remote' or 'auto'/,
    );
  });
});
