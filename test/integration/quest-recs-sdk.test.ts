/**
 * The shipped quest-recs model through the public recommender API: history in,
 * top-k out, exclusions honoured, unknown items reported, cold start by popularity.
 */
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { createBrain, silentLogger, type Brain } from '../../sdk/index.js';
import { REPO_ROOT } from '../helpers/compat.js';

describe('quest-recs through brain.recommender()', function () {
  this.timeout(60_000);
  let brain: Brain;

  before(async () => {
    brain = await createBrain({ mode: 'local', models: join(REPO_ROOT, 'models'), logger: silentLogger });
  });
  after(() => brain.close());

  it('recommends k quests, none of them excluded, served by the model', async () => {
    const r = await brain
      .recommender('quest-recs')
      .recommend({ history: ['q-forest-1'], k: 5, exclude: ['q-forest-1', 'q-forest-2'] });
    expect(r.items).to.have.length(5);
    expect(r.items.map((i) => i.id)).to.not.include.members(['q-forest-1', 'q-forest-2']);
    expect(r.model).to.equal('quest-recs@1');
    expect(r.servedBy).to.equal('local');
    expect(r.coldStart).to.equal(false);
    const scores = r.items.map((i) => i.score);
    expect([...scores].sort((a, b) => b - a)).to.deep.equal(scores);
    expect(r.items[0]!.title).to.be.a('string');
  });

  it('answers a player with no history from popularity (cold start)', async () => {
    const r = await brain.recommender('quest-recs').recommend({ history: [], k: 3 });
    expect(r.coldStart).to.equal(true);
    expect(r.items).to.have.length(3);
    const m = brain.repository!.get('quest-recs')!.manifest;
    if (m.kind !== 'recommender') throw new Error('kind');
    const byPopularity = [...m.recommender.catalogue]
      .sort((a, b) => (b.popularity ?? 0) - (a.popularity ?? 0))
      .slice(0, 3)
      .map((c) => c.id);
    expect(r.items.map((i) => i.id)).to.deep.equal(byPopularity);
  });

  it('ignores and reports quests the catalogue does not know; only unknown ones is a cold start', async () => {
    const mixed = await brain.recommender('quest-recs').recommend({ history: ['q-forest-1', 'q-from-a-mod'], k: 4 });
    expect(mixed.unknownItems).to.deep.equal(['q-from-a-mod']);
    expect(mixed.coldStart).to.equal(false);
    const onlyUnknown = await brain.recommender('quest-recs').recommend({ history: ['nope-1', 'nope-2'], k: 4 });
    expect(onlyUnknown.coldStart).to.equal(true);
    expect(onlyUnknown.unknownItems).to.deep.equal(['nope-1', 'nope-2']);
  });

  it('personalises: different histories give different rankings', async () => {
    const a = await brain.recommender('quest-recs').recommend({ history: ['q-forest-1'], k: 10 });
    const b = await brain.recommender('quest-recs').recommend({ history: ['q-coast-2'], k: 10 });
    expect(a.items.map((i) => i.id)).to.not.deep.equal(b.items.map((i) => i.id));
  });

  it('names a bad argument', async () => {
    const recs = brain.recommender('quest-recs');
    await expect(recs.recommend({ history: 'q-forest-1' as unknown as string[] })).to.be.rejectedWith(
      /'history' must be an array of item ids/,
    );
    await expect(recs.recommend({ history: [], k: 0 })).to.be.rejectedWith(/'k' must be a positive integer/);
  });
});
