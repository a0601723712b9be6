/**
 * ML-Agents layouts the compat folder has no real export of — a rank-3 sensor beside vector
 * ones (Sorter's `obs_0 [20, 23]`), 2.x-era `vector_observation` + `visual_observation_N`
 * inputs with float hybrid outputs, multi-branch discrete actions, sampled-only hybrids and
 * the 1.x `action` output — written with onnx-proto (test/helpers/mlagents-graphs.ts, after
 * ML-Agents' exporter), imported with `playmind import`, decided through the public API and
 * checked against onnxruntime run directly on the same file.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from '../helpers/chai.js';
import { createBrain, silentLogger, type Brain } from '../../sdk/index.js';
import { importModel, type ImportResult } from '../../sdk/cli/import.js';
import { tempDir } from '../helpers/compat.js';
import { startTestServer } from '../helpers/server.js';
import {
  mlAgentsPolicyBytes,
  nestedAs,
  seededValues,
  SORTER_LIKE,
  type MlAgentsGraph,
} from '../helpers/mlagents-graphs.js';

const values = seededValues;
const nest = nestedAs;

const GRAPHS: Record<string, MlAgentsGraph> = {
  // Sorter-like: a rank-3 buffer sensor beside two vector sensors; two discrete branches, int64.
  sorter: SORTER_LIKE,
  // 2.x naming with a camera: vector_observation + visual_observation_0 (channels first), hybrid
  // actions, discrete outputs as float.
  visualHybrid: {
    obs: [
      { name: 'vector_observation', shape: [6] },
      { name: 'visual_observation_0', shape: [3, 8, 8] },
    ],
    continuous: 2,
    discrete: [3, 4],
    discreteDtype: 'float32',
    seed: 5,
  },
  // Hybrid with only the sampled outputs (no deterministic_* ones).
  sampledHybrid: { obs: [{ name: 'obs_0', shape: [12] }], continuous: 3, discrete: [4], deterministic: false, seed: 9 },
  // ML-Agents 1.x (version 2): one `action` output with the log-probabilities of a discrete branch.
  legacyDiscrete: {
    version: 2,
    obs: [
      { name: 'vector_observation', shape: [5] },
      { name: 'visual_observation_0', shape: [1, 4, 4] },
    ],
    discrete: [5],
    seed: 11,
  },
  // 1.x with memory: ML-Agents 2.x refuses it too.
  legacyMemory: { version: 2, obs: [{ name: 'vector_observation', shape: [4] }], discrete: [2], memory: 8 },
};

describe('ML-Agents layouts written with onnx-proto, decided like onnxruntime', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let brain: Brain;
  const files: Record<string, string> = {};
  const imported: Record<string, ImportResult> = {};
  const sessions: Record<string, ort.InferenceSession> = {};

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const models = join(dir, 'models');
    for (const [name, spec] of Object.entries(GRAPHS)) {
      files[name] = join(dir, `${name}.onnx`);
      await writeFile(files[name], mlAgentsPolicyBytes(spec));
      imported[name] = await importModel(files[name], { into: models });
      sessions[name] = await ort.InferenceSession.create(files[name]);
    }
    brain = await createBrain({ mode: 'local', models, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    for (const s of Object.values(sessions)) await s.release();
    await cleanup?.();
  });

  /** Feeds for onnxruntime: each sensor's rows stacked, masks (all allowed unless given). */
  function feedsFor(spec: MlAgentsGraph, rows: Float32Array[], masks?: Float32Array): Record<string, ort.Tensor> {
    const n = rows.length;
    const feeds: Record<string, ort.Tensor> = {};
    let off = 0;
    for (const o of spec.obs) {
      const w = o.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n * w);
      rows.forEach((r, i) => data.set(r.subarray(off, off + w), i * w));
      feeds[o.name] = new ort.Tensor('float32', data, [n, ...o.shape]);
      off += w;
    }
    if (spec.discrete) {
      const total = spec.discrete.reduce((a, b) => a + b, 0);
      feeds.action_masks = new ort.Tensor('float32', masks ?? new Float32Array(n * total).fill(1), [n, total]);
    }
    return feeds;
  }

  const widthOf = (spec: MlAgentsGraph) => spec.obs.reduce((s, o) => s + o.shape.reduce((a, b) => a * b, 1), 0);
  const perSensor = (spec: MlAgentsGraph, row: Float32Array, nested: boolean) => {
    const out: Record<string, unknown> = {};
    let off = 0;
    for (const o of spec.obs) {
      const w = o.shape.reduce((a, b) => a * b, 1);
      const part = row.subarray(off, off + w);
      out[o.name] = nested && o.shape.length > 1 ? nest(part, o.shape) : Array.from(part);
      off += w;
    }
    return out as Record<string, number[]>;
  };

  for (const n of [1, 32]) {
    it(`Sorter-like rank-3 sensor (obs_0 [20, 23], obs_1, obs_2), two branches: per-sensor nested, per-sensor flat and flat rows equal onnxruntime at batch ${n}`, async () => {
      const spec = GRAPHS.sorter!;
      const rows = Array.from({ length: n }, (_, i) => values(widthOf(spec), 100 + i));
      const policy = brain.policy('sorter');
      const [nested, flatSensors, flatRows] = await Promise.all([
        policy.decide(rows.map((r) => perSensor(spec, r, true))),
        policy.decide(rows.map((r) => perSensor(spec, r, false))),
        policy.decide(rows),
      ]);
      const direct = await sessions.sorter!.run(feedsFor(spec, rows), ['deterministic_discrete_actions']);
      const want = Array.from(direct.deterministic_discrete_actions!.data as BigInt64Array, Number);
      const got = (ds: typeof nested) => ds.flatMap((d) => d.indices!);
      expect(got(nested)).to.deep.equal(want);
      expect(got(flatSensors)).to.deep.equal(want);
      expect(got(flatRows)).to.deep.equal(want);
      if (n > 1) expect(new Set(want.filter((_, i) => i % 2 === 0)).size, 'varied first-branch actions').to.be.above(1);
      for (const d of nested) {
        expect(d.action).to.equal(`branch_0_action_${d.index}`);
        expect(d.sampled).to.equal(undefined);
      }
    });

    it(`2.x visual_observation_0 [3, 8, 8] + vector_observation with float hybrid outputs: one decision carries both, equal to onnxruntime's deterministic outputs at batch ${n}`, async () => {
      const spec = GRAPHS.visualHybrid!;
      const rows = Array.from({ length: n }, (_, i) => values(widthOf(spec), 200 + i));
      // Mask the first action of branch 1 on every other agent.
      const masks = rows.map((_, i) => Float32Array.from({ length: 7 }, (_, a) => (a === 3 && i % 2 === 1 ? 0 : 1)));
      const flatMasks = new Float32Array(n * 7);
      masks.forEach((m, i) => flatMasks.set(m, i * 7));
      const decisions = await brain.policy('visualHybrid').decide(
        rows.map((r) => perSensor(spec, r, true)),
        { masks },
      );
      const direct = await sessions.visualHybrid!.run(feedsFor(spec, rows, flatMasks), [
        'deterministic_continuous_actions',
        'deterministic_discrete_actions',
      ]);
      const cont = direct.deterministic_continuous_actions!.data as Float32Array;
      const disc = direct.deterministic_discrete_actions!;
      expect(disc.type).to.equal('float32');
      decisions.forEach((d, i) => {
        expect(Array.from(d.values!)).to.deep.equal(Array.from(cont.subarray(i * 2, i * 2 + 2)));
        expect(d.indices).to.deep.equal(Array.from((disc.data as Float32Array).subarray(i * 2, i * 2 + 2)));
        if (i % 2 === 1) expect(d.indices![1]).to.not.equal(0);
        expect(d.sampled).to.equal(undefined);
      });
      const m = await brain.policy('visualHybrid').manifest();
      expect(m.policy.observation.inputs).to.deep.equal(['vector_observation', 'visual_observation_0']);
      expect(m.policy.actions.continuous).to.include({ output: 'deterministic_continuous_actions' });
      expect(m.policy.actions.discrete).to.include({ output: 'deterministic_discrete_actions', encoding: 'index' });
      expect(m.policy.actions.discrete!.branches.map((b) => b.length)).to.deep.equal([3, 4]);
      expect(m.policy.mask).to.deep.equal({ input: 'action_masks' });
    });
  }

  it('import prints what it recognised in the visual hybrid export', () => {
    const text = imported.visualHybrid!.recognised.join('\n');
    expect(text).to.include(
      'observation inputs in row order: vector_observation [6] (vector), visual_observation_0 [3, 8, 8] (visual, channels first)',
    );
    expect(text).to.include('continuous actions: 2 from deterministic_continuous_actions');
    expect(text).to.include(
      'discrete actions: 2 branch(es) of 3, 4 from deterministic_discrete_actions (float32 indices)',
    );
    expect(imported.visualHybrid!.kind).to.equal('policy');
  });

  it('a hybrid export with only sampled outputs: import says so, the manifest and every decision record it', async () => {
    const r = imported.sampledHybrid!;
    expect(r.recognised.join('\n')).to.include(
      'SAMPLED continuous actions: the export has no deterministic_continuous_actions output',
    );
    expect(r.recognised.join('\n')).to.include('SAMPLED discrete actions');
    const m = await brain.policy('sampledHybrid').manifest();
    expect(m.policy.actions.continuous).to.include({ output: 'continuous_actions', sampled: true });
    expect(m.policy.actions.discrete).to.include({ output: 'discrete_actions', sampled: true });
    const rows = Array.from({ length: 16 }, (_, i) => values(12, 300 + i));
    // One allowed action per agent makes the discrete sample certain.
    const masks = rows.map((_, i) => Float32Array.from({ length: 4 }, (_, a) => (a === i % 4 ? 1 : 0)));
    const decisions = await brain.policy('sampledHybrid').decide(rows, { masks });
    decisions.forEach((d, i) => {
      expect(d.sampled).to.equal(true);
      expect(d.index).to.equal(i % 4);
      expect(d.values).to.have.length(3);
      for (const v of d.values!) expect(v).to.be.within(-1, 1);
    });
  });

  it('ML-Agents 1.x discrete `action` (log-probabilities) with a visual sensor: the most likely allowed action, as onnxruntime gives them', async () => {
    const spec = GRAPHS.legacyDiscrete!;
    const r = imported.legacyDiscrete!;
    expect(r.recognised.join('\n')).to.include('ML-Agents 1.x layout');
    expect(r.assumed.join('\n')).to.include('Playmind takes the most likely allowed one');
    const n = 24;
    const rows = Array.from({ length: n }, (_, i) => values(widthOf(spec), 400 + i));
    const masks = rows.map((_, i) => Float32Array.from({ length: 5 }, (_, a) => (a === i % 5 ? 0 : 1)));
    const flatMasks = new Float32Array(n * 5);
    masks.forEach((m, i) => flatMasks.set(m, i * 5));
    const decisions = await brain.policy('legacyDiscrete').decide(
      rows.map((row) => perSensor(spec, row, true)),
      { masks },
    );
    const logp = (await sessions.legacyDiscrete!.run(feedsFor(spec, rows, flatMasks), ['action'])).action!
      .data as Float32Array;
    decisions.forEach((d, i) => {
      const row = Array.from(logp.subarray(i * 5, i * 5 + 5));
      const best = row.reduce((b, x, a) => (masks[i]![a] && x > row[b]! ? a : b), masks[i]![0] ? 0 : 1);
      expect(d.index).to.equal(best);
      expect(d.index).to.not.equal(i % 5);
    });
  });

  it('over the server (remote mode): per-sensor nested observations, hybrid actions and sampled: true arrive as locally', async () => {
    const server = await startTestServer({ modelsDir: join(dir, 'models') });
    const remote = await createBrain({ mode: 'remote', serverUrl: server.wsUrl });
    try {
      const spec = GRAPHS.visualHybrid!;
      const rows = Array.from({ length: 8 }, (_, i) => values(widthOf(spec), 500 + i));
      const obs = rows.map((r) => perSensor(spec, r, true));
      const [l, r] = await Promise.all([
        brain.policy('visualHybrid').decide(obs),
        remote.policy('visualHybrid').decide(obs),
      ]);
      expect(r.map((d) => d.indices)).to.deep.equal(l.map((d) => d.indices));
      expect(r.map((d) => Array.from(d.values!))).to.deep.equal(l.map((d) => Array.from(d.values!)));
      expect(r.every((d) => d.servedBy === 'remote' && d.sampled === undefined)).to.equal(true);
      const sampled = await remote.policy('sampledHybrid').decide([values(12, 1), values(12, 2)]);
      expect(sampled.map((d) => d.sampled)).to.deep.equal([true, true]);
      expect(sampled.every((d) => d.values!.length === 3 && d.index !== undefined)).to.equal(true);
    } finally {
      await remote.close();
      await server.server.close();
    }
  });

  it('a 1.x export with memory is imported as a tensor model, saying why', () => {
    const r = imported.legacyMemory!;
    expect(r.kind).to.equal('tensor');
    expect(r.assumed.join('\n')).to.include(
      'not served as a policy: ML-Agents 1.x models with memory are not supported',
    );
  });
});
