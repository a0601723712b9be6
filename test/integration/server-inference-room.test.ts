/**
 * The `inference` room through the remote route, against a real server on
 * 127.0.0.1 with real @colyseus/sdk clients: the same outputs as the engine
 * called directly, typed errors, rate limits, and `unavailable` on disconnect.
 */
import { cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@colyseus/sdk';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { InferenceEngine } from '../../sdk/engine/inference-engine.js';
import { runPolicy, type PolicyVersion } from '../../sdk/engine/policy.js';
import { runRecommender, type RecommenderVersion } from '../../sdk/engine/recommender.js';
import { importModel } from '../../sdk/cli/import.js';
import { ErrorCode, InferenceMessage, PlaymindError } from '../../sdk/protocol.js';
import { FsModelSource } from '../../sdk/repository/fs-source.js';
import { ModelRepository, silentLogger } from '../../sdk/repository/model-repository.js';
import { RemoteRoute } from '../../sdk/routes/remote.js';
import type { Tensor } from '../../sdk/engine/backend.js';
import { expect } from '../helpers/chai.js';
import { COMPAT_DIR, REPO_ROOT, tempDir, waitFor } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { prng, startTestServer, type TestServer } from '../helpers/server.js';

const FEATURES = 6;
const ACTIONS = 4;
const MNIST = COMPAT_DIR ? join(COMPAT_DIR, 'classic', 'mnist-8.onnx') : null;
const RECS = join(REPO_ROOT, 'models', 'quest-recs');

describe('server: the inference room (remote route)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let repo: ModelRepository;
  let engine: InferenceEngine;
  let route: RemoteRoute;
  let mnist: string | null = null;
  let recs = false;

  before(async () => {
    ({ dir, cleanup } = await tempDir('playmind-room-'));
    await writeModel(
      dir,
      'guard',
      1,
      linearPolicyBytes(FEATURES, ACTIONS, 1.3),
      linearPolicyManifest('guard', FEATURES, ACTIONS),
    );
    if (MNIST && existsSync(MNIST)) mnist = (await importModel(MNIST, { into: dir, name: 'mnist' })).name;
    if (existsSync(join(RECS, 'manifest.json'))) {
      await cp(RECS, join(dir, 'quest-recs'), {
        recursive: true,
        filter: (src) => !src.includes(`${join('quest-recs', 'report')}`),
      });
      recs = true;
    }
    t = await startTestServer({
      modelsDir: dir,
      watch: false,
      inference: { ratePerSec: 200, burst: 300, floodRejectsPerSec: 300 },
    });
    // The engine called directly, on the same files.
    repo = new ModelRepository({ source: new FsModelSource(dir), backend: nodeBackend(), logger: silentLogger });
    await repo.loadAll();
    engine = new InferenceEngine();
    route = new RemoteRoute({ url: t.wsUrl });
  });

  after(async () => {
    await route?.close();
    await t?.server.close();
    engine?.close();
    await repo?.close();
    await cleanup?.();
  });

  it('decides exactly as the engine called directly', async () => {
    const rand = prng(7);
    const n = 5;
    const rows = Float32Array.from({ length: n * FEATURES }, () => rand() * 2 - 1);
    const remote = await route.decide('guard', { rows, n });
    const local = await runPolicy(engine, repo.get('guard') as PolicyVersion, { rows, n });
    expect(remote).to.have.length(n);
    remote.forEach((d, i) => {
      expect(d.servedBy).to.equal('remote');
      expect(d.model).to.equal('guard@1');
      expect(d.action).to.equal(local[i]!.action);
      expect(d.index).to.equal(local[i]!.index);
      expect([...d.probabilities!]).to.deep.equal([...local[i]!.probabilities!]);
    });
  });

  it('applies action masks sent as bytes', async () => {
    const n = 3;
    const rows = Float32Array.from({ length: n * FEATURES }, (_, i) => Math.cos(i));
    const masks = new Float32Array(n * ACTIONS).fill(0);
    for (let r = 0; r < n; r++) masks[r * ACTIONS + 2] = 1;
    const remote = await route.decide('guard', { rows, n, masks });
    expect(remote.map((d) => d.action)).to.deep.equal(['a2', 'a2', 'a2']);
  });

  it('describes a model with its manifest', async () => {
    const m = await route.manifest('guard');
    expect(m).to.deep.equal(repo.get('guard')!.manifest);
  });

  it('runs an MNIST model exactly as the engine called directly', async function () {
    if (!mnist) {
      console.log(
        '    (skipped: third-party compat folder not found; set PLAYMIND_COMPAT_DIR or place it at ../shared/compat)',
      );
      this.skip();
    }
    const m = repo.get('mnist')!.manifest;
    const spec = m.inputs[0]!;
    const dims = spec.shape.map((d) => (d < 0 ? 1 : d));
    const size = dims.reduce((a, b) => a * b, 1);
    const rand = prng(3);
    const feeds: Record<string, Tensor> = {
      [spec.name]: { type: 'float32', data: Float32Array.from({ length: size }, () => rand()), dims },
    };
    const remote = await route.run('mnist', feeds);
    const local = await engine.run(repo.get('mnist')!, feeds);
    expect(remote.servedBy).to.equal('remote');
    expect(Object.keys(remote.outputs)).to.deep.equal(Object.keys(local.outputs));
    for (const [name, out] of Object.entries(local.outputs)) {
      expect(remote.outputs[name]!.dims).to.deep.equal([...out.dims]);
      expect([...(remote.outputs[name]!.data as Float32Array)]).to.deep.equal([...(out.data as Float32Array)]);
    }
  });

  it('recommends exactly as the engine called directly', async function () {
    if (!recs) this.skip();
    const v = repo.get('quest-recs') as RecommenderVersion;
    const history = v.manifest.recommender.catalogue.slice(0, 3).map((c) => c.id);
    const request = { history, k: 5, exclude: [history[0]!] };
    const remote = await route.recommend('quest-recs', request);
    const local = await runRecommender(engine, v, request);
    expect(remote.servedBy).to.equal('remote');
    expect(remote.items).to.deep.equal(local.items);
    expect(remote.model).to.equal(local.model);
  });

  it('answers bad requests with typed errors and keeps serving', async () => {
    await expect(route.decide('nope', { rows: new Float32Array(FEATURES), n: 1 }))
      .to.be.rejectedWith(PlaymindError)
      .and.eventually.have.property('code', ErrorCode.UNKNOWN_MODEL);
    await expect(route.decide('guard', { rows: new Float32Array(FEATURES + 1), n: 1 }))
      .to.be.rejectedWith(PlaymindError)
      .and.eventually.have.property('code', ErrorCode.INVALID_OBSERVATION);
    await expect(
      route.decide('guard', { rows: Float32Array.of(...new Array<number>(FEATURES - 1).fill(0), NaN), n: 1 }),
    ).to.be.rejectedWith(/not a finite number/);
    await expect(route.run('guard', { obs: { type: 'int32', data: new Int32Array(FEATURES), dims: [1, FEATURES] } }))
      .to.be.rejectedWith(PlaymindError)
      .and.eventually.have.property('code', ErrorCode.INVALID_TENSOR);
    if (recs)
      await expect(route.recommend('guard', { history: [] }))
        .to.be.rejectedWith(PlaymindError)
        .and.eventually.have.property('code', ErrorCode.WRONG_KIND);
    const [d] = await route.decide('guard', { rows: new Float32Array(FEATURES), n: 1 });
    expect(d!.model).to.equal('guard@1');
  });

  it('refuses malformed messages with typed errors naming the field, and the client stays connected', async () => {
    const room = await new Client(t.wsUrl).joinOrCreate('inference');
    room.reconnection.enabled = false;
    let left = false;
    room.onLeave(() => {
      left = true;
    });
    const notices: { code: string; message: string }[] = [];
    room.onMessage(InferenceMessage.ERROR, (e: { code: string; message: string }) => notices.push(e));
    const reason = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: { name?: string; reason?: { code: string; message: string; details?: { field?: string } } }) => {
          expect(e.name).to.equal('rejected');
          return e.reason!;
        },
      );
    const rows = await reason(room.request('decide', { model: 'guard', rows: [0.1, 0.2], n: 1 }));
    expect(rows).to.include({ code: ErrorCode.MALFORMED_MESSAGE });
    expect(rows!.details?.field).to.equal('rows');
    expect(rows!.message).to.match(/'rows' must be raw bytes/);
    const notObject = await reason(room.request('decide', 'not an object'));
    expect(notObject).to.include({ code: ErrorCode.MALFORMED_MESSAGE });
    const badN = await reason(room.request('decide', { model: 'guard', rows: new Uint8Array(4 * FEATURES), n: 0 }));
    expect(badN!.message).to.match(/'n' must be an integer from 1 to 65536/);
    const badTensor = await reason(
      room.request('run', { model: 'guard', feeds: { obs: { type: 'nope', dims: [1], data: [] } } }),
    );
    expect(badTensor!.details?.field).to.equal('feeds.obs.type');
    // messages that are not requests, or of an unknown type, get a typed notice
    room.send('decide', { model: 'guard', rows: new Uint8Array(4 * FEATURES), n: 1 });
    room.send('explode', { id: 3 });
    await waitFor(() => notices.length >= 2, 5000, 'two error notices');
    expect(notices.map((e) => e.code)).to.deep.equal([ErrorCode.MALFORMED_MESSAGE, ErrorCode.MALFORMED_MESSAGE]);
    expect(notices[0]!.message).to.match(/room\.request\('decide'/);
    expect(notices[1]!.message).to.match(/unknown message type "explode"/);
    // ...and the same connection still gets good answers
    const ok = (await room.request('decide', {
      model: 'guard',
      rows: new Uint8Array(new Float32Array(FEATURES).buffer),
      n: 1,
    })) as { decisions: { model: string }[] };
    expect(ok.decisions[0]!.model).to.equal('guard@1');
    expect(left).to.equal(false);
    await room.leave();
  });

  it('rate-limits a client past its burst, then disconnects a sustained flood', async () => {
    const room = await new Client(t.wsUrl).joinOrCreate('inference');
    const codes: string[] = [];
    let left: number | undefined;
    room.onMessage(InferenceMessage.ERROR, (e: { code: string }) => codes.push(`notice:${e.code}`));
    room.onLeave((code: number) => {
      left = code;
    });
    room.reconnection.enabled = false;
    const ask = () =>
      room.request('describe', { model: 'guard' }, { timeout: 10_000 }).then(
        () => void codes.push('ok'),
        (e: { reason?: { code?: string } }) => void codes.push(e.reason?.code ?? 'closed'),
      );
    // Within its budget a client is answered...
    await ask();
    // ...past it, it is told so, and a sustained flood is disconnected.
    const flood = Array.from({ length: 900 }, ask);
    await waitFor(() => left !== undefined, 10_000, 'the flooding client to be disconnected');
    await Promise.all(flood);
    expect(codes).to.include('ok');
    expect(codes).to.include(ErrorCode.RATE_LIMITED);
    expect(codes).to.include(`notice:${ErrorCode.RATE_LIMITED}`);
    expect(left).to.equal(4029);
    // others are not affected
    const [d] = await route.decide('guard', { rows: new Float32Array(FEATURES), n: 1 });
    expect(d!.servedBy).to.equal('remote');
  });

  it('fails pending calls with unavailable when the server goes away', async () => {
    const other = new RemoteRoute({ url: t.wsUrl });
    await other.connect();
    await t.server.close();
    await waitFor(() => !other.connected, 5000, 'the route to notice the disconnect');
    await expect(other.decide('guard', { rows: new Float32Array(FEATURES), n: 1 }))
      .to.be.rejectedWith(PlaymindError)
      .and.eventually.have.property('code', ErrorCode.UNAVAILABLE);
    await other.close();
  });
});
