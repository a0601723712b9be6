/**
 * One conformance suite for every route, in the manner of hono's router cases
 * (`runTest({ newRouter })`): the same named cases run once per route — a local
 * brain, a remote brain (a real server and a real @colyseus/sdk client) and an auto
 * brain — through the public API, each against answers computed here without the
 * SDK (the linear policy's logits, the recommender's raw scores), so a failure names
 * the route and the case. The fallback route answers with the same types.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { createBrain, policyContract, type Brain, type Decision, type RouteName } from '../../sdk/index.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const F = 5;
const A = 4;
const SCALE = 1.5;

/** The linear policy's logits, computed as `linearPolicyBytes` defines them. */
function logits(row: ArrayLike<number>): number[] {
  return Array.from({ length: A }, (_, a) => {
    let s = (a - A / 2) * 0.01 * SCALE;
    for (let f = 0; f < F; f++) s += row[f]! * Math.sin((a * F + f) * 0.7 + SCALE) * SCALE;
    return s;
  });
}

/** The allowed action with the highest logit, and the softmax over allowed actions. */
function expectedDecision(row: ArrayLike<number>, mask: ArrayLike<number>): { index: number; probabilities: number[] } {
  const l = logits(row);
  let index = -1;
  for (let a = 0; a < A; a++) if (mask[a] && (index < 0 || l[a]! > l[index]!)) index = a;
  const max = l[index]!;
  const e = l.map((x, a) => (mask[a] ? Math.exp(x - max) : 0));
  const sum = e.reduce((s, x) => s + x, 0);
  return { index, probabilities: e.map((x) => x / sum) };
}

interface Context {
  dir: string;
  server: TestServer;
}

/** The named cases every route passes. */
function runTest(route: { name: RouteName | 'auto'; servedBy: RouteName; newBrain: (c: Context) => Promise<Brain> }) {
  describe(`route: ${route.name}`, function () {
    let brain: Brain;
    before(async function () {
      brain = await route.newBrain(ctx);
    });
    after(async () => {
      await brain?.close();
    });

    const rows = Array.from({ length: 17 }, (_, i) =>
      Float32Array.from({ length: F }, (_, j) => Math.sin(i * 1.7 + j)),
    );
    const masks = rows.map((_, i) => Float32Array.from({ length: A }, (_, a) => ((i * A + a) % 7 === 0 ? 0 : 1)));

    it('gives the manifest of a policy', async () => {
      const m = await brain.policy('guard').manifest();
      expect(m.name).to.equal('guard');
      expect(m.policy.observation.features.map((f) => f.name)).to.deep.equal(['f0', 'f1', 'f2', 'f3', 'f4']);
    });

    it('decides the actions the model computes, within the masks, with its probabilities, naming itself', async () => {
      const ds: Decision[] = await brain.policy('guard').decide(rows, { masks });
      expect(ds).to.have.length(rows.length);
      ds.forEach((d, i) => {
        const want = expectedDecision(rows[i]!, masks[i]!);
        expect(d.index, `row ${i}`).to.equal(want.index);
        expect(d.action).to.equal(`a${want.index}`);
        expect(d.model).to.equal('guard@1');
        expect(d.servedBy).to.equal(route.servedBy);
        Array.from(d.probabilities!).forEach((p, a) => expect(p).to.be.closeTo(want.probabilities[a]!, 1e-5));
      });
    });

    it('recommends the items with the highest raw scores, none excluded', async () => {
      const history = ['q-forest-1', 'q-coast-2'];
      const exclude = ['q-forest-2'];
      const r = await brain.recommender('quest-recs').recommend({ history, k: 6, exclude });
      // The reference: the model's raw scores on the multi-hot history, ranked here.
      const m = await brain.model('quest-recs').manifest();
      if (m.kind !== 'recommender') throw new Error('quest-recs is not a recommender');
      const ids = m.recommender.catalogue.map((c) => c.id);
      const row = Float32Array.from(ids, (id) => (history.includes(id) ? 1 : 0));
      const out = await brain
        .model('quest-recs')
        .run({ history: { type: 'float32', data: row, dims: [1, ids.length] } }, { fetches: ['scores'] });
      const scores = out.outputs.scores!.data as Float32Array;
      const want = ids
        .map((id, i) => ({ id, score: scores[i]!, i }))
        .filter((x) => !exclude.includes(x.id))
        .sort((a, b) => b.score - a.score || a.i - b.i)
        .slice(0, 6);
      expect(r.items.map((i) => i.id)).to.deep.equal(want.map((w) => w.id));
      r.items.forEach((it, i) => expect(it.score).to.be.closeTo(want[i]!.score, 1e-6));
      expect(r.servedBy).to.equal(route.servedBy);
      expect(r.coldStart).to.equal(false);
    });

    it('runs a tensor model to its outputs', async () => {
      const feeds = { x: { type: 'float32' as const, data: Float32Array.from([1, 2, 3, -4, 5.5, 0]), dims: [2, 3] } };
      const r = await brain.model('double').run(feeds);
      expect(Array.from(r.outputs.y!.data as Float32Array)).to.deep.equal([2, 4, 6, -8, 11, 0]);
      expect(r.outputs.y!.dims).to.deep.equal([2, 3]);
      expect(r.model).to.equal('double@1');
      expect(r.servedBy).to.equal(route.servedBy);
    });

    for (const [what, call, code] of [
      ['an unknown model', (b: Brain) => b.policy('no-such-model').decide([rows[0]!]), 'unknown_model'],
      ['a policy call on a recommender', (b: Brain) => b.policy('quest-recs').decide([rows[0]!]), 'wrong_kind'],
      ['a recommend call on a policy', (b: Brain) => b.recommender('guard').recommend({ history: [] }), 'wrong_kind'],
      [
        'an observation with a non-finite value',
        (b: Brain) => b.policy('guard').decide([Float32Array.of(0, 0, Number.NaN, 0, 0)]),
        'invalid_observation',
      ],
      [
        'feeds of the wrong dtype',
        (b: Brain) => b.model('double').run({ x: { type: 'int32', data: new Int32Array(3), dims: [1, 3] } }),
        'invalid_tensor',
      ],
    ] as const) {
      it(`refuses ${what} with the code ${code}`, async () => {
        await expect(call(brain)).to.be.rejected.and.eventually.have.property('code', code);
      });
    }
  });
}

let ctx: Context;
let cleanup: () => Promise<void>;

describe('route conformance', function () {
  this.timeout(60_000);

  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await writeModel(t.dir, 'guard', 1, linearPolicyBytes(F, A, SCALE), linearPolicyManifest('guard', F, A));
    const g = new GraphBuilder('double');
    g.input('x', 'float32', ['n', 3]);
    g.node('Add', ['x', 'x'], ['y']);
    g.output('y', 'float32', ['n', 3]);
    await writeModel(t.dir, 'double', 1, g.toBytes(), {
      name: 'double',
      kind: 'tensor',
      inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 3] }],
    });
    await cp(join(REPO_ROOT, 'models', 'quest-recs'), join(t.dir, 'quest-recs'), { recursive: true });
    ctx = { dir: t.dir, server: await startTestServer({ modelsDir: t.dir }) };
  });

  after(async () => {
    await ctx?.server.server.close();
    await cleanup?.();
  });

  runTest({ name: 'local', servedBy: 'local', newBrain: (c) => createBrain({ mode: 'local', models: c.dir }) });
  runTest({
    name: 'remote',
    servedBy: 'remote',
    newBrain: (c) => createBrain({ mode: 'remote', serverUrl: c.server.wsUrl }),
  });
  runTest({
    name: 'auto',
    servedBy: 'remote',
    newBrain: (c) => createBrain({ mode: 'auto', serverUrl: c.server.wsUrl, models: c.dir, deadlineMs: 5000 }),
  });

  describe('route: fallback', () => {
    let brain: Brain;
    before(async () => {
      brain = await createBrain({ mode: 'local', models: ctx.dir });
    });
    after(async () => {
      await brain?.close();
    });

    it('decides with the same types, within the mask, when the model is missing', async () => {
      const contract = policyContract({
        name: 'absent',
        features: ['f0', 'f1', 'f2', 'f3', 'f4'],
        actions: ['a0', 'a1', 'a2', 'a3'],
        heuristic: 'first-action',
      });
      const rows = new Float32Array(3 * F);
      const masks = Float32Array.from([0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1]);
      const d = await brain.policy('absent', { contract }).decide(rows, { masks });
      expect(d.map((x) => x.action)).to.deep.equal(['a1', 'a0', 'a3']);
      expect(d.map((x) => x.index)).to.deep.equal([1, 0, 3]);
      expect(d.every((x) => x.servedBy === 'fallback' && x.model === 'absent@fallback:first-action')).to.equal(true);
    });
  });
});
