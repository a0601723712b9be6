/**
 * The one fallback rule, through the public API: `createBrain` on a shared engine and
 * repository, caller contracts adapted to whichever version serves, the heuristic only
 * when no model can answer, bad input never hidden, and a server that leaves the
 * fallback to the remote caller's own brain.
 */
import { expect } from '../helpers/chai.js';
import { InferenceEngine, ModelRepository, createBrain, policyContract, type Brain } from '../../sdk/index.js';
import { tempDir } from '../helpers/compat.js';
import {
  linearPolicyBytes,
  linearPolicyManifest,
  openSharedBrain,
  writeModel,
  type SharedBrain,
} from '../helpers/models.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const F = 5;
const A = 4;
const FEATURES = Array.from({ length: F }, (_, i) => `f${i}`);
const ACTIONS = Array.from({ length: A }, (_, i) => `a${i}`);
/** A heuristic that picks the last allowed action (so it is told apart from the first-action default). */
const lastAllowed = (_row: Float32Array, mask?: Float32Array) => {
  for (let i = A - 1; i > 0; i--) if (!mask || mask[i]) return i;
  return 0;
};

describe('the fallback rule (createBrain on a shared engine and repository)', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let repository: ModelRepository;
  let engine: InferenceEngine;
  let brain: Brain;
  let shared: SharedBrain | undefined;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeModel(dir, 'guard', 1, linearPolicyBytes(F, A, 1.5), linearPolicyManifest('guard', F, A));
    // The same weights, but the manifest lists features in reverse order with a normalisation,
    // and actions in reverse order: a contract caller must see the same decisions by name.
    const reversed = linearPolicyManifest('reordered', F, A) as unknown as {
      policy: { observation: unknown; actions: unknown };
    };
    reversed.policy.observation = {
      inputs: ['obs'],
      features: FEATURES.map((name, i) => ({ name, mean: i * 0.1, std: 2 })).reverse(),
    };
    reversed.policy.actions = {
      discrete: { branches: [[...ACTIONS].reverse()], output: 'logits', encoding: 'logits' },
    };
    await writeModel(dir, 'reordered', 1, linearPolicyBytes(F, A, 1.5), reversed);
    shared = await openSharedBrain(dir, { heuristics: { 'last-allowed': lastAllowed } });
    ({ repository, engine, brain } = shared);
  });

  after(async () => {
    await shared?.close();
    await cleanup?.();
  });

  const rows = (n: number) => Float32Array.from({ length: n * F }, (_, i) => Math.sin(i * 1.3) * 2);

  it('leaves a shared engine and repository open when the brain closes', async () => {
    const other = await createBrain({ engine, models: repository });
    await other.close();
    const [d] = await brain.policy('guard').decide(rows(1));
    expect(d!.servedBy).to.equal('local');
    expect(repository.get('guard')).to.not.equal(undefined);
  });

  it('refuses engine settings next to a shared engine', async () => {
    await expect(createBrain({ engine, models: repository, batching: { maxBatchSize: 4 } })).to.be.rejectedWith(
      TypeError,
      /'batching' and 'observer' configure the brain's own engine/,
    );
  });

  it('takes packed rows and packed masks, deciding like one row at a time', async () => {
    const packed = rows(6);
    const masks = Float32Array.from({ length: 6 * A }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const all = await brain.policy('guard').decide(packed, { masks });
    const one = await Promise.all(
      Array.from({ length: 6 }, (_, r) =>
        brain.policy('guard').decide([packed.slice(r * F, (r + 1) * F)], { masks: [masks.slice(r * A, (r + 1) * A)] }),
      ),
    );
    expect(all.map((d) => d.action)).to.deep.equal(one.map(([d]) => d!.action));
    all.forEach((d, r) => expect(masks[r * A + d.index!]).to.equal(1));
  });

  it('adapts a contract to a version with other feature order, normalisation and action order', async () => {
    const packed = rows(8);
    const viaContract = await brain
      .policy('reordered', { contract: policyContract({ ...contractInput(), name: 'reordered' }) })
      .decide(packed);
    // The same rows as objects keyed by feature name, through the version's own contract.
    const objects = Array.from({ length: 8 }, (_, r) =>
      Object.fromEntries(FEATURES.map((f, j) => [f, packed[r * F + j]!])),
    );
    const direct = await brain.policy('reordered').decide(objects);
    expect(viaContract.map((d) => d.action)).to.deep.equal(direct.map((d) => d.action));
    viaContract.forEach((d) => {
      expect(d.index).to.equal(ACTIONS.indexOf(d.action!)); // in the contract's action order
      expect(d.servedBy).to.equal('local');
    });
  });

  it("answers a contract caller with the contract's heuristic when the model is missing, counted by reason", async () => {
    const before = brain.stats().fallbacks.byReason.unknown_model ?? 0;
    const events: string[] = [];
    const off = brain.on('route', (e) => events.push(`${e.model}:${e.to}:${e.reason}`));
    const masks = Float32Array.from([1, 1, 0, 0, 1, 0, 1, 0]);
    const ds = await brain
      .policy('absent', { contract: policyContract({ ...contractInput(), name: 'absent' }) })
      .decide(rows(2), { masks });
    off();
    expect(ds.map((d) => d.action)).to.deep.equal(['a1', 'a2']);
    expect(ds.every((d) => d.servedBy === 'fallback' && d.reason === 'unknown_model')).to.equal(true);
    expect(ds[0]!.model).to.equal('absent@fallback:last-allowed');
    expect(brain.stats().fallbacks.byReason.unknown_model).to.equal(before + 1);
    expect(events).to.deep.equal(['absent:fallback:unknown_model']);
  });

  it('still refuses an unknown model without a contract: a typo is not hidden', async () => {
    await expect(brain.policy('gaurd').decide(rows(1))).to.be.rejected.and.eventually.have.property(
      'code',
      'unknown_model',
    );
  });

  it('never hides bad input behind a fallback, even for a missing model', async () => {
    const fallbacks = brain.stats().fallbacks.total;
    const bad = rows(2);
    bad[F + 3] = Number.NaN;
    const handle = brain.policy('absent', { contract: policyContract({ ...contractInput(), name: 'absent' }) });
    await expect(handle.decide(bad)).to.be.rejectedWith(/observation 1: feature "f3"/);
    await expect(handle.decide(rows(2), { masks: new Float32Array(3) })).to.be.rejected.and.eventually.have.property(
      'code',
      'invalid_argument',
    );
    await expect(brain.policy('guard').decide(bad)).to.be.rejected.and.eventually.have.property(
      'code',
      'invalid_observation',
    );
    expect(brain.stats().fallbacks.total).to.equal(fallbacks);
  });

  describe('on a server', () => {
    let server: TestServer;
    let remote: Brain;
    let sdir: { dir: string; cleanup: () => Promise<void> };

    before(async () => {
      sdir = await tempDir();
      // A queue that holds requests for a minute and takes 2 rows: the second call overflows it.
      await writeModel(
        sdir.dir,
        'guard',
        1,
        linearPolicyBytes(F, A),
        linearPolicyManifest('guard', F, A, { batching: { maxQueueSize: 2, maxQueueDelayMs: 60_000 } }),
      );
      server = await startTestServer({ modelsDir: sdir.dir });
      remote = await createBrain({ mode: 'remote', serverUrl: server.wsUrl, fallback: false });
    });

    after(async () => {
      await remote?.close();
      await server?.server.close();
      await sdir?.cleanup();
    });

    it('answers a remote call that cannot be served with the error, leaving the fallback to the caller', async () => {
      const guard = remote.policy('guard');
      const first = guard.decide(rows(2), { deadlineMs: 300 });
      await expect(guard.decide(rows(2), { deadlineMs: 300 })).to.be.rejected.and.eventually.have.property(
        'code',
        'overloaded',
      );
      await expect(first).to.be.rejected.and.eventually.have.property('code', 'deadline_exceeded');
      expect(server.server.services.brain.stats().fallbacks.total).to.equal(0);
    });
  });

  function contractInput() {
    return { name: 'guard', features: FEATURES, actions: ACTIONS, heuristic: 'last-allowed' };
  }
});
