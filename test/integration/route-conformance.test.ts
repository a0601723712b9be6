/**
 * One conformance suite for every route (in the manner of hono's router cases):
 * the same calls through the local route and the remote route (a real server and
 * a real @colyseus/sdk client) give the same answers and the same error codes; the
 * fallback route answers with the same types.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { encodeObservations } from '../../sdk/contract/observation.js';
import { parseManifest, type PolicyManifest } from '../../sdk/contract/manifest.js';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { InferenceEngine } from '../../sdk/engine/inference-engine.js';
import { FsModelSource } from '../../sdk/repository/fs-source.js';
import { ModelRepository, silentLogger } from '../../sdk/repository/model-repository.js';
import { FallbackRoute, BUILTIN_HEURISTICS } from '../../sdk/routes/fallback.js';
import { LocalRoute } from '../../sdk/routes/local.js';
import { RemoteRoute } from '../../sdk/routes/remote.js';
import type { Route } from '../../sdk/routes/route.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const F = 5;
const A = 4;

describe('route conformance (local, remote, fallback)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TestServer;
  let local: LocalRoute;
  let remote: RemoteRoute;
  let fallback: FallbackRoute;
  let manifest: PolicyManifest;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeModel(dir, 'guard', 1, linearPolicyBytes(F, A, 1.5), linearPolicyManifest('guard', F, A));
    const g = new GraphBuilder('double');
    g.input('x', 'float32', ['n', 3]);
    g.node('Add', ['x', 'x'], ['y']);
    g.output('y', 'float32', ['n', 3]);
    await writeModel(dir, 'double', 1, g.toBytes(), {
      name: 'double',
      kind: 'tensor',
      inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 3] }],
    });
    await cp(join(REPO_ROOT, 'models', 'quest-recs'), join(dir, 'quest-recs'), { recursive: true });
    server = await startTestServer({ modelsDir: dir });
    const repo = new ModelRepository({ source: new FsModelSource(dir), backend: nodeBackend(), logger: silentLogger });
    await repo.loadAll();
    local = new LocalRoute(repo, new InferenceEngine());
    remote = new RemoteRoute({ url: server.wsUrl });
    manifest = parseManifest(linearPolicyManifest('guard', F, A)) as PolicyManifest;
    fallback = new FallbackRoute(BUILTIN_HEURISTICS, (m) => (m === 'guard' ? manifest : undefined));
  });

  after(async () => {
    await remote?.close();
    await local?.close();
    await server?.server.close();
    await cleanup?.();
  });

  const routes = (): [string, Route][] => [
    ['local', local],
    ['remote', remote],
  ];
  const batch = (n: number) => {
    const obs = Array.from({ length: n }, (_, i) => Float32Array.from({ length: F }, (_, j) => Math.sin(i * 1.7 + j)));
    return { rows: encodeObservations('guard', manifest.policy, obs), n };
  };

  it('every route gives the manifest of a model', async () => {
    for (const [name, route] of [...routes(), ['fallback', fallback] as [string, Route]]) {
      const m = await route.manifest('guard');
      expect(m.name, name).to.equal('guard');
      expect(m.kind, name).to.equal('policy');
    }
  });

  it('local and remote decide the same actions with the same probabilities, each naming itself', async () => {
    const b = { ...batch(17), masks: Float32Array.from({ length: 17 * A }, (_, i) => (i % 7 === 0 ? 0 : 1)) };
    const [l, r] = await Promise.all([local.decide('guard', b), remote.decide('guard', b)]);
    expect(r.map((d) => d.action)).to.deep.equal(l.map((d) => d.action));
    expect(r.map((d) => d.index)).to.deep.equal(l.map((d) => d.index));
    r.forEach((d, i) => {
      expect(d.model).to.equal('guard@1');
      expect(d.servedBy).to.equal('remote');
      expect(l[i]!.servedBy).to.equal('local');
      expect(Array.from(d.probabilities!)).to.deep.equal(Array.from(l[i]!.probabilities!));
      expect(b.masks[i * A + d.index!]).to.equal(1);
    });
  });

  it('the fallback route decides with the same types, within the mask', async () => {
    const b = { ...batch(3), masks: Float32Array.from([0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1]) };
    const d = await fallback.decide('guard', b);
    expect(d.map((x) => x.action)).to.deep.equal(['a1', 'a0', 'a3']);
    expect(d.every((x) => x.servedBy === 'fallback' && x.model === 'guard@fallback:first-action')).to.equal(true);
  });

  it('local and remote recommend the same items', async () => {
    const req = { history: ['q-forest-1', 'q-coast-2'], k: 6, exclude: ['q-forest-2'] };
    const [l, r, f] = await Promise.all([
      local.recommend('quest-recs', req),
      remote.recommend('quest-recs', req),
      local.manifest('quest-recs'),
    ]);
    expect(r.items.map((i) => i.id)).to.deep.equal(l.items.map((i) => i.id));
    r.items.forEach((it, i) => expect(it.score).to.be.closeTo(l.items[i]!.score, 1e-6));
    expect(r.servedBy).to.equal('remote');
    expect(f.kind).to.equal('recommender');
  });

  it('local and remote run a tensor model to the same outputs', async () => {
    const feeds = { x: { type: 'float32' as const, data: Float32Array.from([1, 2, 3, -4, 5.5, 0]), dims: [2, 3] } };
    const [l, r] = await Promise.all([local.run('double', feeds), remote.run('double', feeds)]);
    expect(Array.from(r.outputs.y!.data as Float32Array)).to.deep.equal([2, 4, 6, -8, 11, 0]);
    expect(Array.from(l.outputs.y!.data as Float32Array)).to.deep.equal([2, 4, 6, -8, 11, 0]);
    expect(r.outputs.y!.dims).to.deep.equal([2, 3]);
    expect(r.model).to.equal('double@1');
  });

  for (const [what, call, code] of [
    ['an unknown model', (r: Route) => r.decide('no-such-model', batch(1)), 'unknown_model'],
    ['a policy call on a recommender', (r: Route) => r.decide('quest-recs', batch(1)), 'wrong_kind'],
    ['a recommend call on a policy', (r: Route) => r.recommend('guard', { history: [] }), 'wrong_kind'],
  ] as const) {
    it(`local and remote refuse ${what} with the code ${code}`, async () => {
      for (const [name, route] of routes()) {
        const err = await call(route).then(
          () => null,
          (e: { code?: string }) => e,
        );
        expect(err, name).to.not.equal(null);
        expect(err!.code, name).to.equal(code);
      }
    });
  }
});
