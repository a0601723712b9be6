/**
 * The shipped npc-guard model (`models/npc-guard`), run through the public SDK:
 * it loads, decides within the masks, and over a fixed seeded evaluation it beats
 * a random policy by a wide margin. The evaluation runs the ONNX file through the
 * engine (every decision is served locally by `npc-guard@1`).
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT } from '../helpers/compat.js';
import { createBrain, parseManifest, silentLogger, type Brain } from '../../sdk/index.js';
import {
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
  runEpisode,
  type GuardPolicy,
} from '../../server/sim/index.js';
import { evaluateGuard, type GuardEvaluation } from '../../models/train/guard/evaluate.js';

const MODELS = join(REPO_ROOT, 'models');

describe('the shipped npc-guard model', function () {
  this.timeout(180_000);

  it('has a manifest whose sha256 matches its model file', async () => {
    const m = parseManifest(JSON.parse(await readFile(join(MODELS, 'npc-guard', 'manifest.json'), 'utf8')));
    const bytes = await readFile(join(MODELS, 'npc-guard', '1', 'model.onnx'));
    expect(m.sha256?.['1']).to.equal(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.length).to.be.below(64 * 1024);
  });

  describe('through createBrain (local)', () => {
    let brain: Brain;
    before(async () => {
      brain = await createBrain({ mode: 'local', models: MODELS, heuristics: GUARD_HEURISTICS, logger: silentLogger });
    });
    after(async () => {
      await brain?.close();
    });

    it('decides every tick of an episode with allowed actions, served locally by npc-guard@1', async () => {
      const policy = brain.policy('npc-guard');
      let decided = 0;
      const guardPolicy: GuardPolicy = async (obs, n, masks) => {
        const rows = Array.from({ length: n }, (_, i) =>
          obs.slice(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT),
        );
        const rowMasks = Array.from({ length: n }, (_, i) =>
          masks.slice(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT),
        );
        const decisions = await policy.decide(rows, { masks: rowMasks });
        return decisions.map((d, i) => {
          expect(d.model).to.equal('npc-guard@1');
          expect(d.servedBy).to.equal('local');
          expect(GUARD_ACTIONS).to.include(d.action);
          expect(rowMasks[i]![d.index!], `masked action ${d.action} chosen`).to.equal(1);
          decided++;
          return d.index!;
        });
      };
      const r = await runEpisode({ seed: 4242, guardPolicy, maxTicks: 300 });
      expect(decided).to.equal(r.ticks * 6);
    });
  });

  describe('a fixed seeded evaluation of 30 episodes', () => {
    let e: GuardEvaluation;
    before(async () => {
      e = await evaluateGuard({ models: MODELS, name: 'npc-guard', episodes: 30 });
    });

    it('runs the ONNX file through the engine', () => {
      expect(e.model).to.equal('npc-guard@1');
      expect(Object.keys(e.servedBy)).to.deep.equal(['local']);
      expect(e.models).to.have.all.keys('npc-guard@1');
      expect(e.servedBy.local).to.be.greaterThan(30 * 6 * 100);
    });

    it('beats a random policy by a wide margin', () => {
      expect(e.trained.meanReturn, JSON.stringify({ trained: e.trained, random: e.random })).to.be.greaterThan(
        e.random.meanReturn + 1.5,
      );
      expect(e.trained.winRate).to.be.greaterThan(e.random.winRate);
    });

    it('mostly agrees with the expert it was cloned from, but not blindly', () => {
      expect(e.trained.agreement).to.be.within(0.5, 1);
      expect(e.random.agreement).to.be.below(e.trained.agreement);
    });
  });
});
