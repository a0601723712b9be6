import { expect } from 'chai';
import { buildDataset, leaveOneOut } from '../../sdk/recs/dataset.js';
import { easeFromGram, gramMatrix, invertSpd, selectItems } from '../../sdk/recs/ease.js';
import { rankScore } from '../../sdk/recs/metrics.js';
import { Rng } from '../../sdk/recs/prng.js';
import { QUESTS, QUEST_TAGS, questCatalogue } from '../../models/train/recs/quests.js';
import { simulateTelemetry, toJsonl } from '../../models/train/recs/telemetry.js';

describe('recs: quests and telemetry', () => {
  it('has at least 40 quests with unique ids, titles and known tags', () => {
    expect(QUESTS.length).to.be.at.least(40);
    expect(new Set(QUESTS.map((q) => q.id)).size).to.equal(QUESTS.length);
    for (const q of QUESTS) {
      expect(q.id).to.match(/^q-[a-z]+-\d$/);
      expect(q.title).to.not.equal('');
      expect(q.tags.length).to.be.greaterThan(0);
      for (const t of q.tags) expect(QUEST_TAGS).to.include(t);
    }
    expect(questCatalogue()[0]).to.deep.equal({
      id: 'q-forest-1',
      title: 'Wolves at the Mill',
      tags: ['combat', 'forest'],
    });
  });

  it('generates the same telemetry for the same seed and different telemetry for another', () => {
    const a = toJsonl(simulateTelemetry({ players: 200, seed: 5 }));
    const b = toJsonl(simulateTelemetry({ players: 200, seed: 5 }));
    const c = toJsonl(simulateTelemetry({ players: 200, seed: 6 }));
    expect(a).to.equal(b);
    expect(a).to.not.equal(c);
  });

  it('writes server-format events, in time order, that respect quest prerequisites', () => {
    const events = simulateTelemetry({ players: 300, seed: 3 });
    const finished = new Map<string, Set<string>>();
    let last = '';
    for (const e of events) {
      expect(Object.keys(e)).to.deep.equal(['player', 'quest', 'outcome', 'time']);
      expect(e.player).to.match(/^p-\d+$/);
      expect(['taken', 'finished', 'abandoned']).to.include(e.outcome);
      expect(new Date(e.time).toISOString()).to.equal(e.time);
      expect(e.time >= last).to.equal(true);
      last = e.time;
      const done = finished.get(e.player) ?? new Set<string>();
      finished.set(e.player, done);
      const quest = QUESTS.find((q) => q.id === e.quest)!;
      if (e.outcome === 'taken' && quest.requires)
        expect(done.has(quest.requires), `${e.player} took ${e.quest}`).to.equal(true);
      if (e.outcome === 'finished') done.add(e.quest);
    }
  });
});

describe('recs: EASE and metrics', () => {
  it('inverts a symmetric positive-definite matrix', () => {
    const n = 37;
    const rng = new Rng(1);
    const X = Array.from({ length: n * 12 }, () => rng.normal());
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? 0.5 : 0;
        for (let k = 0; k < 12; k++) s += X[i * 12 + k]! * X[j * 12 + k]!;
        A[i * n + j] = s;
      }
    const inv = invertSpd(Float64Array.from(A), n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += A[i * n + k]! * inv[k * n + j]!;
        expect(s).to.be.closeTo(i === j ? 1 : 0, 1e-9);
      }
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => invertSpd(Float64Array.from([1, 2, 2, 1]), 2)).to.throw(/not positive definite/);
  });

  it('learns co-occurrence: an item bought with another scores above an unrelated one, with a zero diagonal', () => {
    const rows = [];
    for (let u = 0; u < 30; u++) {
      rows.push(
        { user: `u${u}`, item: u % 2 ? 'a' : 'c', weight: 1 },
        { user: `u${u}`, item: u % 2 ? 'b' : 'd', weight: 1 },
      );
    }
    const ds = buildDataset(rows);
    const kept = selectItems(new Int32Array([15, 15, 15, 15]), 1, 10);
    const B = easeFromGram(gramMatrix(ds, kept, 'none'), 4, 1);
    for (let i = 0; i < 4; i++) expect(B[i * 4 + i]).to.equal(0);
    // history {a}: b (row a, column b) beats d.
    expect(B[0 * 4 + 1]!).to.be.greaterThan(0.5);
    expect(B[0 * 4 + 3]!).to.be.closeTo(0, 1e-9);
  });

  it('keeps the most popular items up to the cap, in catalogue order', () => {
    expect([...selectItems(new Int32Array([5, 1, 9, 3, 9]), 2, 3)]).to.deep.equal([0, 2, 4]);
  });

  it('scores ranks with ties in expectation and ignores excluded items', () => {
    const none = new Uint8Array(4);
    expect(rankScore([0.9, 0.5, 0.1, 0.2], 1, none, 1)).to.deep.equal({ recall: 0, ndcg: 0 });
    expect(rankScore([0.9, 0.5, 0.1, 0.2], 1, Uint8Array.from([1, 0, 0, 0]), 1)).to.deep.equal({ recall: 1, ndcg: 1 });
    const tied = rankScore([1, 1, 1, 1], 2, none, 2);
    expect(tied.recall).to.equal(0.5);
    expect(tied.ndcg).to.be.closeTo((1 + 1 / Math.log2(3)) / 4, 1e-12);
  });

  it('holds out one item per user with two or more, the same way for the same seed', () => {
    const rows = ['a', 'b', 'c']
      .flatMap((i) => [{ user: 'u1', item: i, weight: 1 }])
      .concat([{ user: 'u2', item: 'a', weight: 1 }]);
    const ds = buildDataset(rows);
    const s1 = leaveOneOut(ds, 9);
    const s2 = leaveOneOut(ds, 9);
    expect(s1.heldOut).to.deep.equal(s2.heldOut);
    expect(s1.heldOut).to.have.length(1);
    expect(s1.heldOut[0]!.user).to.equal(0);
    expect(s1.train.indptr[1]! - s1.train.indptr[0]!).to.equal(2);
    expect(s1.train.indptr[2]! - s1.train.indptr[1]!).to.equal(1);
  });
});
