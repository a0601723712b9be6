/**
 * Third-party models (Unity ML-Agents, Godot RL Agents, MNIST), imported with
 * `playmind import`, answer through the public API with the same results as
 * onnxruntime called directly.
 */
import * as ort from 'onnxruntime-node';
import { expect } from '../helpers/chai.js';
import { createBrain, silentLogger, type Brain } from '../../sdk/index.js';
import { importModel } from '../../sdk/cli/import.js';
import { COMPAT_DIR, requireCompat, tempDir } from '../helpers/compat.js';
import { join } from 'node:path';

/** Deterministic pseudo-random observations. */
function rows(n: number, width: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, () => Float32Array.from({ length: width }, next));
}

function stack(list: Float32Array[], from: number, w: number): Float32Array {
  const out = new Float32Array(list.length * w);
  list.forEach((r, i) => out.set(r.subarray(from, from + w), i * w));
  return out;
}

const MLAGENTS_DETERMINISTIC: {
  file: string;
  obs: [string, number][];
  mask?: number;
  out: string;
  kind: 'discrete' | 'continuous';
}[] = [
  { file: 'Basic.onnx', obs: [['obs_0', 20]], mask: 3, out: 'deterministic_discrete_actions', kind: 'discrete' },
  {
    file: 'PushBlock.onnx',
    obs: [
      ['obs_0', 105],
      ['obs_1', 105],
    ],
    mask: 7,
    out: 'deterministic_discrete_actions',
    kind: 'discrete',
  },
  { file: '3DBall.onnx', obs: [['obs_0', 8]], out: 'deterministic_continuous_actions', kind: 'continuous' },
];

describe('third-party models through the SDK', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let brain: Brain;

  before(async function () {
    const compat = requireCompat(this);
    ({ dir, cleanup } = await tempDir());
    for (const f of ['Basic', 'PushBlock', '3DBall', '3DBallHard', 'Hallway'])
      await importModel(join(compat, 'mlagents', `${f}.onnx`), { into: dir });
    for (const f of ['BallChase', 'FlyBy', 'JumperHard'])
      await importModel(join(compat, 'godot_rl', `${f}.onnx`), { into: dir });
    await importModel(join(compat, 'classic', 'mnist-8.onnx'), { into: dir, name: 'mnist-8' });
    await importModel(join(compat, 'classic', 'mnist-load_pytorch_baskov.onnx'), { into: dir, name: 'mnist-pytorch' });
    brain = await createBrain({ mode: 'local', models: dir, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    await cleanup?.();
  });

  for (const m of MLAGENTS_DETERMINISTIC) {
    for (const n of [1, 32]) {
      it(`ML-Agents ${m.file}: same actions as onnxruntime's ${m.out} at batch ${n}`, async () => {
        const name = m.file.replace('.onnx', '');
        const width = m.obs.reduce((s, [, w]) => s + w, 0);
        const obs = rows(n, width, n * 7 + width);
        const masks = m.mask
          ? obs.map((_, i) =>
              Float32Array.from({ length: m.mask! }, (_, a) => (a === i % m.mask! && i % 3 === 0 ? 0 : 1)),
            )
          : undefined;
        const decisions = await brain.policy(name).decide(obs, masks ? { masks } : {});
        const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'mlagents', m.file));
        const feeds: Record<string, ort.Tensor> = {};
        let off = 0;
        for (const [input, w] of m.obs) {
          feeds[input] = new ort.Tensor('float32', stack(obs, off, w), [n, w]);
          off += w;
        }
        if (m.mask) {
          const flat = new Float32Array(n * m.mask);
          masks!.forEach((mk, i) => flat.set(mk, i * m.mask!));
          feeds.action_masks = new ort.Tensor('float32', flat, [n, m.mask]);
        }
        const direct = (await session.run(feeds, [m.out]))[m.out]!;
        expect(decisions).to.have.length(n);
        decisions.forEach((d, i) => {
          expect(d.model).to.equal(`${name}@1`);
          expect(d.servedBy).to.equal('local');
          if (m.kind === 'discrete') {
            expect(d.index).to.equal(Number((direct.data as BigInt64Array)[i]));
            expect(d.action).to.equal(`action_${d.index}`);
          } else {
            expect(Array.from(d.values!)).to.deep.equal(
              Array.from((direct.data as Float32Array).slice(i * 2, i * 2 + 2)),
            );
          }
        });
        await session.release();
      });
    }
  }

  it('ML-Agents 3DBallHard (version 2 layout, sampled actions only): import says so, the manifest and every decision record it', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      const r = await importModel(join(COMPAT_DIR!, 'mlagents', '3DBallHard.onnx'), { into: other });
      expect(r.recognised.join('\n')).to.match(
        /SAMPLED continuous actions: the export has no deterministic_continuous_actions output/,
      );
    } finally {
      await done();
    }
    const m = await brain.policy('3DBallHard').manifest();
    expect(m.format).to.equal('ml-agents');
    expect(m.policy.observation.inputs).to.deep.equal(['vector_observation']);
    expect(m.policy.actions.continuous).to.include({ output: 'continuous_actions', sampled: true });
    for (const n of [1, 32]) {
      const d = await brain.policy('3DBallHard').decide(rows(n, 45, 3));
      expect(d).to.have.length(n);
      for (const x of d) {
        expect(x.sampled).to.equal(true);
        expect(x.values).to.have.length(2);
        expect(Array.from(x.values!).every(Number.isFinite)).to.equal(true);
      }
    }
    // The deterministic exports are not marked.
    const [det] = await brain.policy('3DBall').decide(rows(1, 8, 1));
    expect(det!.sampled).to.equal(undefined);
  });

  for (const n of [1, 32]) {
    it(`ML-Agents PushBlock: observations per sensor (obs_0 + obs_1) give the same actions as flat rows and as onnxruntime at batch ${n}`, async () => {
      const flat = rows(n, 210, 40 + n);
      // Per sensor: a Float32Array for obs_0 and a plain array for obs_1, as a game would build them.
      const perSensor = flat.map((r) => ({ obs_0: r.slice(0, 105), obs_1: Array.from(r.subarray(105)) }));
      const policy = brain.policy('PushBlock');
      const [fromRows, fromSensors] = await Promise.all([policy.decide(flat), policy.decide(perSensor)]);
      const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'mlagents', 'PushBlock.onnx'));
      const direct = await session.run(
        {
          obs_0: new ort.Tensor('float32', stack(flat, 0, 105), [n, 105]),
          obs_1: new ort.Tensor('float32', stack(flat, 105, 105), [n, 105]),
          action_masks: new ort.Tensor('float32', new Float32Array(n * 7).fill(1), [n, 7]),
        },
        ['deterministic_discrete_actions'],
      );
      const want = Array.from(direct.deterministic_discrete_actions!.data as BigInt64Array, Number);
      expect(fromSensors.map((d) => d.index)).to.deep.equal(want);
      expect(fromRows.map((d) => d.index)).to.deep.equal(want);
      expect(new Set(want).size, 'the observations lead to different actions').to.be.greaterThan(n > 1 ? 1 : 0);
      await session.release();
    });

    it(`ML-Agents Hallway (recurrent, sampled actions): per-sensor observations act and remember like flat rows and onnxruntime at batch ${n}`, async () => {
      const flat = rows(n, 108, 70 + n);
      const perSensor = flat.map((r) => ({ obs_0: Array.from(r.subarray(0, 105)), obs_1: r.slice(105) }));
      // Hallway has only the sampled discrete_actions output: one allowed action per agent makes the sample certain.
      const masks = flat.map((_, i) => Float32Array.from({ length: 5 }, (_, a) => (a === (i * 3) % 5 ? 1 : 0)));
      const hallway = brain.policy('Hallway');
      const agents = (tag: string) => flat.map((_, i) => `${tag}-${i}`);
      hallway.resetAgent();
      const fromSensors = await hallway.decide(perSensor, { masks, agentIds: agents('s') });
      const fromRows = await hallway.decide(flat, { masks, agentIds: agents('r') });
      const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'mlagents', 'Hallway.onnx'));
      const flatMasks = new Float32Array(n * 5);
      masks.forEach((m, i) => flatMasks.set(m, i * 5));
      const direct = await session.run({
        obs_0: new ort.Tensor('float32', stack(flat, 0, 105), [n, 105]),
        obs_1: new ort.Tensor('float32', stack(flat, 105, 3), [n, 3]),
        action_masks: new ort.Tensor('float32', flatMasks, [n, 5]),
        recurrent_in: new ort.Tensor('float32', new Float32Array(n * 128), [n, 1, 128]),
      });
      const actions = Array.from(direct.discrete_actions!.data as BigInt64Array, Number);
      expect(fromSensors.map((d) => d.index)).to.deep.equal(actions);
      expect(fromRows.map((d) => d.index)).to.deep.equal(actions);
      const memory = direct.recurrent_out!.data as Float32Array;
      for (let i = 0; i < n; i++) {
        const want = Array.from(memory.subarray(i * 128, (i + 1) * 128));
        expect(Array.from(hallway.memory(`s-${i}`)!)).to.deep.equal(want);
        expect(Array.from(hallway.memory(`r-${i}`)!)).to.deep.equal(want);
      }
      for (const d of [...fromSensors, ...fromRows]) expect(d.sampled).to.equal(true);
      expect((await hallway.manifest()).policy.actions.discrete).to.include({
        output: 'discrete_actions',
        sampled: true,
      });
      await session.release();
    });
  }

  it('names the sensor and its expected shape when a per-sensor observation is wrong', async () => {
    const push = brain.policy('PushBlock');
    const obs_0 = new Float32Array(105);
    await expect(push.decide([{ obs_0 }]))
      .to.be.rejectedWith(
        'PushBlock: observation 0: sensor "obs_1" is missing (the model takes obs_0 [105], obs_1 [105])',
      )
      .and.eventually.have.property('code', 'invalid_observation');
    await expect(push.decide([{ obs_0, obs_1: new Float32Array(100) }])).to.be.rejectedWith(
      'sensor "obs_1" has 100 values, it takes 105',
    );
    await expect(push.decide([{ obs_0, obs_1: new Float32Array(105), obs_2: [1] }])).to.be.rejectedWith(
      'unknown sensor "obs_2" (did you mean "obs_0"?); the model takes obs_0 [105], obs_1 [105]',
    );
    const nan = new Float32Array(105);
    nan[7] = NaN;
    await expect(push.decide([{ obs_0, obs_1: nan }])).to.be.rejectedWith(
      'sensor "obs_1" value 7 (feature "obs_1_7") is NaN, not a finite number',
    );
    await expect(push.decide([new Float32Array(100)])).to.be.rejectedWith(
      'has 100 values, the model takes 210 (obs_0_0, obs_0_1, obs_0_2, obs_0_3, ...): obs_0 [105], obs_1 [105] concatenated, or an object keyed by sensor',
    );
  });

  it('Godot RL JumperHard imported with its action space (--actions) clamps as the plugin does', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    const space = {
      jump: { size: 1, action_type: 'continuous' },
      move: { size: 1, action_type: 'continuous' },
      turn: { size: 1, action_type: 'continuous' },
    };
    const file = join(COMPAT_DIR!, 'godot_rl', 'JumperHard.onnx');
    const local = await (async () => {
      await importModel(file, { into: other, actions: JSON.stringify(space) });
      return createBrain({ mode: 'local', models: other, logger: silentLogger });
    })();
    try {
      const obs = rows(32, 152, 9).map((r) => r.map((x) => x * 40)); // large inputs push actions outside [-1, 1]
      const got = await local.policy('JumperHard').decide(obs.map((r) => ({ obs: r })));
      const session = await ort.InferenceSession.create(file);
      const out = (
        await session.run({
          obs: new ort.Tensor('float32', stack(obs, 0, 152), [32, 152]),
          state_ins: new ort.Tensor('float32', new Float32Array(32).fill(1), [32]),
        })
      ).output!.data as Float32Array;
      let outside = 0;
      got.forEach((d, i) => {
        // sync.gd: result[key] = clamp_array(action_array.slice(index, index + size), -1.0, 1.0)
        const plugin = Array.from(out.subarray(i * 3, i * 3 + 3), (x) => Math.fround(Math.min(1, Math.max(-1, x))));
        outside += Array.from(out.subarray(i * 3, i * 3 + 3)).filter((x) => Math.abs(x) > 1).length;
        expect(Array.from(d.values!)).to.deep.equal(plugin);
      });
      expect(outside, 'some raw outputs lie outside [-1, 1]').to.be.greaterThan(0);
      const m = await local.policy('JumperHard').manifest();
      expect(m.policy.actions.continuous!.names).to.deep.equal(['jump', 'move', 'turn']);
      await session.release();
    } finally {
      await local.close();
      await done();
    }
  });

  it('ML-Agents Hallway keeps recurrent memory per agent, as onnxruntime computes it', async () => {
    const obs = rows(2, 108, 11);
    const hallway = brain.policy('Hallway');
    hallway.resetAgent();
    const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'mlagents', 'Hallway.onnx'));
    const direct = async (o: Float32Array, memory: Float32Array) => {
      const r = await session.run(
        {
          obs_0: new ort.Tensor('float32', o.slice(0, 105), [1, 105]),
          obs_1: new ort.Tensor('float32', o.slice(105), [1, 3]),
          action_masks: new ort.Tensor('float32', new Float32Array(5).fill(1), [1, 5]),
          recurrent_in: new ort.Tensor('float32', memory, [1, 1, 128]),
        },
        ['recurrent_out'],
      );
      return Array.from(r.recurrent_out!.data as Float32Array);
    };
    const zero = new Float32Array(128);
    // a and b decide together in one batch: each starts from zero memory.
    await hallway.decide([obs[0]!, obs[1]!], { agentIds: ['a', 'b'] });
    const memA1 = await direct(obs[0]!, zero);
    const memB1 = await direct(obs[1]!, zero);
    expect(Array.from(hallway.memory('a')!)).to.deep.equal(memA1);
    expect(Array.from(hallway.memory('b')!)).to.deep.equal(memB1);
    expect(memA1).to.not.deep.equal(memB1);
    // a decides again: the model must be fed a's memory, not b's and not zeros.
    await hallway.decide([obs[1]!], { agentIds: ['a'] });
    const memA2 = await direct(obs[1]!, Float32Array.from(memA1));
    expect(Array.from(hallway.memory('a')!)).to.deep.equal(memA2);
    expect(memA2).to.not.deep.equal(memB1);
    expect(Array.from(hallway.memory('b')!)).to.deep.equal(memB1);
    // Resetting an agent starts it from zero again.
    hallway.resetAgent('a');
    expect(hallway.memory('a')).to.equal(undefined);
    await session.release();
  });

  for (const g of [
    ['BallChase', 21, 2],
    ['FlyBy', 8, 2],
    ['JumperHard', 152, 3],
  ] as const) {
    for (const n of [1, 32]) {
      it(`Godot RL ${g[0]}: same output as onnxruntime at batch ${n}`, async () => {
        const obs = rows(n, g[1], n + g[1]);
        const d = await brain.policy(g[0]).decide(obs);
        const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'godot_rl', `${g[0]}.onnx`));
        const r = await session.run({
          obs: new ort.Tensor('float32', stack(obs, 0, g[1]), [n, g[1]]),
          state_ins: new ort.Tensor('float32', new Float32Array(n), [n]),
        });
        const out = r.output!.data as Float32Array;
        d.forEach((x, i) =>
          expect(Array.from(x.values!)).to.deep.equal(Array.from(out.slice(i * g[2], (i + 1) * g[2]))),
        );
        await session.release();
      });
    }
  }

  it('MNIST (PyTorch, dynamic batch) answers through model().run() like onnxruntime, also when batched with others', async () => {
    const imgs = rows(16, 784, 5);
    const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'classic', 'mnist-load_pytorch_baskov.onnx'));
    const results = await Promise.all(
      imgs.map((img) =>
        brain.model('mnist-pytorch').run({ input: { type: 'float32', data: img, dims: [1, 1, 28, 28] } }),
      ),
    );
    for (let i = 0; i < imgs.length; i++) {
      const direct = (await session.run({ input: new ort.Tensor('float32', imgs[i]!, [1, 1, 28, 28]) })).output!
        .data as Float32Array;
      const got = results[i]!.outputs.output!.data as Float32Array;
      expect(got.length).to.equal(10);
      got.forEach((x, j) => expect(x).to.be.closeTo(direct[j]!, 1e-4));
    }
    await session.release();
  });

  it('MNIST-8 (batch fixed at 1) still works when many requests arrive at once', async () => {
    const imgs = rows(24, 784, 9);
    const session = await ort.InferenceSession.create(join(COMPAT_DIR!, 'classic', 'mnist-8.onnx'));
    const results = await Promise.all(
      imgs.map((img) => brain.model('mnist-8').run({ Input3: { type: 'float32', data: img, dims: [1, 1, 28, 28] } })),
    );
    for (let i = 0; i < imgs.length; i++) {
      const direct = (await session.run({ Input3: new ort.Tensor('float32', imgs[i]!, [1, 1, 28, 28]) }))
        .Plus214_Output_0!.data as Float32Array;
      expect(Array.from(results[i]!.outputs.Plus214_Output_0!.data as Float32Array)).to.deep.equal(Array.from(direct));
    }
    await expect(
      brain
        .model('mnist-8')
        .run({ Input3: { type: 'float32', data: new Float32Array(784 * 2), dims: [2, 1, 28, 28] } }),
    ).to.be.rejectedWith(/dim 0 must be 1/);
    await session.release();
  });

  it('names the wrong length, the missing feature, the NaN, the unknown model and the unknown action', async () => {
    const basic = brain.policy('Basic');
    const before = brain.stats().errors.invalid_observation ?? 0;
    await expect(basic.decide([new Float32Array(19)])).to.be.rejectedWith(
      /observation 0: has 19 values, the model takes 20/,
    );
    const obj: Record<string, number> = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`obs_0_${i}`, 0]));
    delete obj.obs_0_7;
    await expect(basic.decide([obj])).to.be.rejectedWith(/feature "obs_0_7" is missing/);
    const nan = new Float32Array(20);
    nan[3] = NaN;
    await expect(basic.decide([new Float32Array(20), nan])).to.be.rejectedWith(
      /observation 1: feature "obs_0_3" \(index 3\) is NaN/,
    );
    await expect(brain.policy('nope').decide([new Float32Array(20)]))
      .to.be.rejectedWith(/no model named "nope"/)
      .and.eventually.have.property('code', 'unknown_model');
    await expect(basic.decide([new Float32Array(20)], { masks: [{ jump: false }] }))
      .to.be.rejectedWith(/unknown action "jump"/)
      .and.eventually.have.property('code', 'unknown_action');
    await expect(brain.recommender('Basic').recommend({ history: [] }))
      .to.be.rejectedWith(/is a policy, not a recommender/)
      .and.eventually.have.property('code', 'wrong_kind');
    expect(brain.stats().errors.invalid_observation! - before).to.equal(3);
  });
});
