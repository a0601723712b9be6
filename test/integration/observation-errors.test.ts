/**
 * The errors a game developer meets when an observation or a mask is wrong: each a
 * PlaymindError with a code, and words that name the cause.
 */
import { expect } from '../helpers/chai.js';
import { createBrain, PlaymindError, silentLogger, type Brain } from '../../sdk/index.js';
import { tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';

describe('observation and mask errors', function () {
  this.timeout(30_000);
  let brain: Brain;
  let cleanup: () => Promise<void>;
  const features = ['health', 'ammo', 'target_distance', 'target_visible'];

  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const manifest = linearPolicyManifest('guard', 4, 3) as { policy: { observation: { features: string[] } } };
    manifest.policy.observation.features = features;
    await writeModel(t.dir, 'guard', 1, linearPolicyBytes(4, 3), manifest);
    brain = await createBrain({ mode: 'local', models: t.dir, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    await cleanup?.();
  });

  const good = { health: 1, ammo: 3, target_distance: 4.5, target_visible: 1 };

  it('reports a misspelled feature as the unknown name beside the missing one ("did you mean")', async () => {
    const { target_distance, ...rest } = good;
    void target_distance;
    const err = await brain
      .policy('guard')
      .decide([good, { ...rest, target_distnace: 4.5 }])
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PlaymindError);
    expect(err).to.have.property('code', 'invalid_observation');
    expect((err as Error).message).to.equal(
      'guard: observation 1: feature "target_distance" is missing and "target_distnace" is not a feature of this model (did you mean "target_distance"?)',
    );
    expect((err as PlaymindError).details).to.include({
      row: 1,
      feature: 'target_distance',
      unknown: 'target_distnace',
    });
  });

  it('names a non-number observation value by its type', async () => {
    const policy = brain.policy('guard');
    const asString = { ...good, ammo: '3' } as unknown as Record<string, number>;
    await expect(policy.decide([asString]))
      .to.be.rejectedWith('guard: observation 0: feature "ammo" is a string ("3"), not a number')
      .and.eventually.have.property('code', 'invalid_observation');
    const asNull = { ...good, health: null } as unknown as Record<string, number>;
    await expect(policy.decide([asNull])).to.be.rejectedWith('feature "health" is null, not a number');
    const inRow = [1, true, 3, 4] as unknown as number[];
    await expect(policy.decide([inRow])).to.be.rejectedWith(
      'observation 0: feature "ammo" (index 1) is a boolean (true), not a number',
    );
    await expect(policy.decide([{ ...good, target_visible: Infinity }])).to.be.rejectedWith(
      'feature "target_visible" is Infinity, not a finite number',
    );
  });

  it('refuses a mask that masks every action, naming the row and the actions', async () => {
    const policy = brain.policy('guard');
    await expect(
      policy.decide([good, good], {
        masks: [
          [1, 0, 0],
          [0, 0, 0],
        ],
      }),
    )
      .to.be.rejectedWith('guard: mask 1 masks every action (a0, a1, a2): at least one must be allowed')
      .and.eventually.have.property('code', 'invalid_argument');
    await expect(policy.decide([good], { masks: [{ a0: false, a1: false, a2: false }] })).to.be.rejectedWith(
      'mask 0 masks every action (a0, a1, a2)',
    );
    // One allowed action is enough, and it is the one chosen.
    const [d] = await policy.decide([good], { masks: [{ a0: false, a1: false }] });
    expect(d!.action).to.equal('a2');
  });
});
