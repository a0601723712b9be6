import { expect } from '../helpers/chai.js';
import { parseManifest } from '../../sdk/contract/manifest.js';
import { PlaymindError } from '../../sdk/protocol.js';
import { linearPolicyManifest } from '../helpers/models.js';

describe('manifest schema', () => {
  it('accepts a policy manifest and applies defaults', () => {
    const m = parseManifest(linearPolicyManifest('guard', 4, 3));
    expect(m.kind).to.equal('policy');
    expect(m.format).to.equal('playmind');
    if (m.kind !== 'policy') throw new Error('kind');
    expect(m.policy.observation.features.map((f) => f.name)).to.deep.equal(['f0', 'f1', 'f2', 'f3']);
  });

  it('takes features as strings or objects with normalisation', () => {
    const raw = linearPolicyManifest('guard', 2, 2) as { policy: { observation: { features: unknown[] } } };
    raw.policy.observation.features = ['hp', { name: 'dist', mean: 100, std: 50 }];
    const m = parseManifest(raw);
    if (m.kind !== 'policy') throw new Error('kind');
    expect(m.policy.observation.features[1]).to.deep.equal({ name: 'dist', mean: 100, std: 50 });
  });

  it('lists every schema problem with its path', () => {
    const raw = {
      name: 'bad name!',
      kind: 'policy',
      inputs: [],
      outputs: [{ name: 'y', dtype: 'float99', shape: [1] }],
    };
    const err = (() => {
      try {
        parseManifest(raw, 'x/manifest.json');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).to.be.instanceOf(PlaymindError);
    const e = err as PlaymindError;
    expect(e.code).to.equal('manifest_invalid');
    expect(e.message).to.contain('x/manifest.json');
    const problems = e.details.problems as string[];
    expect(problems.some((p) => p.startsWith('name:'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('inputs:'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('outputs.0.dtype'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('policy'))).to.equal(true);
  });

  it('refuses a feature count that does not match the observation inputs', () => {
    const raw = linearPolicyManifest('guard', 4, 3) as { policy: { observation: { features: string[] } } };
    raw.policy.observation.features = ['a', 'b'];
    expect(() => parseManifest(raw)).to.throw(PlaymindError, /2 features but the observation inputs take 4 values/);
  });

  it('refuses an action output that is not a declared output', () => {
    const raw = linearPolicyManifest('guard', 4, 3) as { policy: { actions: { discrete: { output: string } } } };
    raw.policy.actions.discrete.output = 'nope';
    expect(() => parseManifest(raw)).to.throw(PlaymindError, /"nope" is not a declared output/);
  });

  it('refuses a model input that nothing feeds', () => {
    const raw = linearPolicyManifest('guard', 4, 3) as { inputs: unknown[] };
    raw.inputs.push({ name: 'extra', dtype: 'float32', shape: [-1, 2] });
    expect(() => parseManifest(raw)).to.throw(
      PlaymindError,
      /"extra" is neither an observation, mask, recurrent nor constant input/,
    );
  });

  it('says when the text is not JSON', () => {
    expect(() => parseManifest('{ nope', 'm/manifest.json')).to.throw(
      PlaymindError,
      /m\/manifest.json: not valid JSON/,
    );
  });

  it('refuses duplicate catalogue ids in a recommender', () => {
    const raw = {
      name: 'recs',
      kind: 'recommender',
      inputs: [{ name: 'history', dtype: 'float32', shape: [-1, 2] }],
      outputs: [{ name: 'scores', dtype: 'float32', shape: [-1, 2] }],
      recommender: { catalogue: [{ id: 'q1' }, { id: 'q1' }], input: 'history', output: 'scores' },
    };
    expect(() => parseManifest(raw)).to.throw(PlaymindError, /duplicate id "q1"/);
  });
});
