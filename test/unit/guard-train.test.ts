/**
 * The npc-guard training pipeline: the MLP and its ONNX export agree, ES helpers
 * behave, and a tiny training run (seconds) writes a reproducible model folder
 * that loads through the engine (contract checked) and decides within its masks.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { tempDir } from '../helpers/compat.js';
import { createBrain, parseManifest, silentLogger, type Brain } from '../../sdk/index.js';
import {
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
  createArena,
  guardActionMasks,
  observeAll,
} from '../../server/sim/index.js';
import { centredRanks } from '../../models/train/guard/evolution.js';
import { Mlp, initParams, layout } from '../../models/train/guard/mlp.js';
import { writeGuardModel } from '../../models/train/guard/onnx-export.js';
import { EVAL_SEED_BASE, evaluationSeeds, trainingSeed } from '../../models/train/guard/seeds.js';
import { GUARD_SHAPE, trainNpcGuard, type TrainGuardResult } from '../../models/train/guard/train-npc-guard.js';

/** Deterministic pseudo-random rows in [-1, 1]. */
function randomRows(n: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, () => Float32Array.from({ length: GUARD_FEATURE_COUNT }, next));
}

describe('npc-guard training: building blocks', function () {
  this.timeout(60_000);

  it('lays out the MLP parameters as Gemm weights [out, in] then biases', () => {
    const { layers, size } = layout({ input: 3, hidden: [4], output: 2, activation: 'relu' });
    expect(layers).to.deep.equal([
      { inDim: 3, outDim: 4, w: 0, b: 12 },
      { inDim: 4, outDim: 2, w: 16, b: 24 },
    ]);
    expect(size).to.equal(26);
    expect(() => new Mlp({ input: 3, hidden: [4], output: 2, activation: 'relu' }, new Float32Array(5))).to.throw(
      RangeError,
      /26/,
    );
  });

  it('initialises the same parameters from the same seed', () => {
    expect(initParams(GUARD_SHAPE, 5)).to.deep.equal(initParams(GUARD_SHAPE, 5));
    expect(initParams(GUARD_SHAPE, 5)).to.not.deep.equal(initParams(GUARD_SHAPE, 6));
  });

  it('ranks fitness values into [-0.5, 0.5] with ties sharing their rank', () => {
    expect(Array.from(centredRanks([3, 1, 2]))).to.deep.equal([0.5, -0.5, 0]);
    expect(Array.from(centredRanks([1, 1, 2]))).to.deep.equal([-0.25, -0.25, 0.5]);
  });

  it('keeps training seeds out of the evaluation seeds', () => {
    const evalSeeds = new Set(evaluationSeeds(200));
    expect(evaluationSeeds(3)).to.deep.equal([EVAL_SEED_BASE, EVAL_SEED_BASE + 1, EVAL_SEED_BASE + 2]);
    for (let i = 0; i < 1000; i++) {
      const s = trainingSeed(1, i);
      expect(s).to.be.at.least(2 ** 31);
      expect(evalSeeds.has(s)).to.equal(false);
    }
  });

  describe('ONNX export', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let brain: Brain;
    const params = initParams(GUARD_SHAPE, 11);

    before(async () => {
      ({ dir, cleanup } = await tempDir('playmind-guard-export-'));
      await writeGuardModel({ dir: join(dir, 'npc-guard'), shape: GUARD_SHAPE, params, report: { test: true } });
      brain = await createBrain({ mode: 'local', models: dir, heuristics: GUARD_HEURISTICS, logger: silentLogger });
    });
    after(async () => {
      await brain?.close();
      await cleanup?.();
    });

    it('writes a manifest naming the arena features, actions and the expert fallback', async () => {
      const m = parseManifest(JSON.parse(await readFile(join(dir, 'npc-guard', 'manifest.json'), 'utf8')));
      expect(m.kind).to.equal('policy');
      if (m.kind !== 'policy') return;
      expect(m.policy.observation.features.map((f) => f.name)).to.deep.equal([...GUARD_FEATURES]);
      expect(m.policy.actions.discrete?.branches).to.deep.equal([[...GUARD_ACTIONS]]);
      expect(m.policy.fallback).to.deep.equal({ heuristic: 'expert-guard' });
      expect(m.sha256?.['1']).to.match(/^[0-9a-f]{64}$/);
    });

    it('decides through the engine exactly as the in-memory MLP does', async () => {
      const mlp = new Mlp(GUARD_SHAPE, params);
      const rows = randomRows(64, 3);
      const decisions = await brain.policy('npc-guard').decide(rows);
      const flat = new Float32Array(rows.length * GUARD_FEATURE_COUNT);
      rows.forEach((r, i) => flat.set(r, i * GUARD_FEATURE_COUNT));
      const allowAll = new Float32Array(rows.length * GUARD_ACTION_COUNT).fill(1);
      decisions.forEach((d, i) => {
        expect(d.servedBy).to.equal('local');
        expect(d.model).to.equal('npc-guard@1');
        expect(d.index).to.equal(mlp.act(flat, allowAll, i));
        const z = mlp.logits(flat, i * GUARD_FEATURE_COUNT);
        const expSum = Array.from(z).reduce((s, v) => s + Math.exp(v), 0);
        Array.from(z).forEach((v, a) => expect(d.probabilities?.[a]).to.be.closeTo(Math.exp(v) / expSum, 1e-4));
      });
    });
  });
});

describe('npc-guard training on a tiny budget', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let first: TrainGuardResult;

  before(async () => {
    ({ dir, cleanup } = await tempDir('playmind-guard-train-'));
    first = await trainNpcGuard({ outDir: join(dir, 'a', 'npc-guard'), budget: 'tiny', seed: 3 });
  });
  after(async () => {
    await cleanup?.();
  });

  it('writes the model, a valid manifest with its training report, and the report with plots', async () => {
    const m = parseManifest(JSON.parse(await readFile(first.written.manifestPath, 'utf8')));
    expect(m.name).to.equal('npc-guard');
    expect(m.sha256?.['1']).to.equal(first.written.sha256);
    const report = m.report as {
      seed: number;
      data: { trainRows: number };
      evaluation: { episodes: number; trained: { meanReturn: number } };
    };
    expect(report.seed).to.equal(3);
    expect(report.data.trainRows).to.be.greaterThan(0);
    expect(report.evaluation.episodes).to.equal(first.evaluation.seeds.count);
    const files = first.reportFiles.map((f) => f.split(/[\\/]/).at(-1));
    expect(files).to.include.members(['README.md', 'bc-loss.svg', 'es-return.svg', 'evaluation.svg']);
    const readme = await readFile(join(dir, 'a', 'npc-guard', 'report', 'README.md'), 'utf8');
    expect(readme).to.contain('| policy | mean return ± sd | win rate | agreement with expert |');
    expect(await readFile(join(dir, 'a', 'npc-guard', 'report', 'es-return.svg'), 'utf8')).to.match(
      /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );
    expect(first.bc.curve.length).to.be.greaterThan(0);
    expect(first.es.curve.length).to.be.greaterThan(1);
  });

  it('loads through the engine (contract checked) and decides allowed, unmasked actions', async () => {
    const brain = await createBrain({
      mode: 'local',
      models: join(dir, 'a'),
      heuristics: GUARD_HEURISTICS,
      logger: silentLogger,
    });
    try {
      const state = brain.repository?.list().find((s) => s.name === 'npc-guard');
      expect(state?.state, JSON.stringify(state?.lastError)).to.equal('READY');
      expect(state?.served).to.equal(1);
      const arena = createArena({}, 42);
      const obs = observeAll(arena);
      const masks = guardActionMasks(arena);
      const n = arena.guards.length;
      const rows = Array.from({ length: n }, (_, i) =>
        obs.slice(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT),
      );
      // Forbid, for every guard, the action the model prefers without a mask.
      const free = await brain.policy('npc-guard').decide(rows);
      const rowMasks = Array.from({ length: n }, (_, i) => {
        const m = masks.slice(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT);
        m[free[i]!.index!] = 0;
        if (m.every((v) => v === 0)) m[(free[i]!.index! + 1) % GUARD_ACTION_COUNT] = 1;
        return m;
      });
      const decisions = await brain.policy('npc-guard').decide(rows, { masks: rowMasks });
      expect(decisions).to.have.length(n);
      decisions.forEach((d, i) => {
        expect(d.servedBy).to.equal('local');
        expect(d.model).to.equal('npc-guard@1');
        expect(GUARD_ACTIONS).to.include(d.action);
        expect(d.action).to.equal(GUARD_ACTIONS[d.index!]);
        expect(rowMasks[i]![d.index!], `guard ${i} chose masked action ${d.action}`).to.equal(1);
        expect(d.index).to.not.equal(free[i]!.index);
      });
    } finally {
      await brain.close();
    }
  });

  it('is reproducible: the same seed writes the same model file', async () => {
    const again = await trainNpcGuard({
      outDir: join(dir, 'b', 'npc-guard'),
      budget: 'tiny',
      seed: 3,
      evalEpisodes: 1,
    });
    expect(again.written.sha256).to.equal(first.written.sha256);
    const a = await readFile(first.written.modelPath);
    const b = await readFile(again.written.modelPath);
    expect(Buffer.compare(a, b)).to.equal(0);
  });
});
