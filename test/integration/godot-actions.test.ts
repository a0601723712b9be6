/**
 * Godot RL Agents policies imported with their action space (`playmind import --actions`,
 * the dictionary `AIController.get_action_space()` returns) decide what the Godot RL
 * plugin's ONNX inference would: `addons/godot_rl_agents/sync.gd` `_extract_action_dict`
 * (edbeeching/godot_rl_agents_plugin), re-implemented here from the plugin's GDScript for
 * each era, over the raw `output` onnxruntime computes on the same file.
 *
 * Real files: ../shared/compat/godot_rl/BallChase.onnx (output of 2), JumperHard.onnx (3).
 * The example space (move: continuous 2, jump: discrete 2) needs an output of 6
 * (2 means + 2 log-std + 2 logits), which no compat file has: that one is written here in
 * the layout of godot_rl's `stable_baselines_export.py` (inputs obs + state_ins, outputs
 * output + state_outs).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from '../helpers/chai.js';
import { createBrain, silentLogger, type Brain } from '../../sdk/index.js';
import { importModel } from '../../sdk/cli/import.js';
import { main } from '../../sdk/cli/main.js';
import { compatFile, tempDir } from '../helpers/compat.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';

type Space = Record<string, { size: number; action_type: 'discrete' | 'continuous' }>;

function rows(n: number, width: number, seed: number, scale = 1): Float32Array[] {
  let s = seed >>> 0;
  const next = () => (((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale;
  return Array.from({ length: n }, () => Float32Array.from({ length: width }, next));
}

/**
 * sync.gd `_extract_action_dict`, per era:
 * - 'argmax' (fda220a, 2025-05 on, deterministic_inference): largest logit from -INF, first wins;
 *   continuous: clamp_array(slice(index, index + size), -1, 1), index += size (means only) or 2 * size;
 * - 'argmax-from-zero' (6245daa, 2024-04 to 2025-05): `var largest_logit: float` starts at 0.0;
 * - 'round' (74cba93, 2023-04 to 2024-04): discrete = round(action_array[index]); continuous = slice,
 *   unclamped; every key advances index by size.
 * ONNX_wrapper.gd `set_action_means_only`: all continuous and their sizes add up to the output size.
 */
function plugin(
  output: ArrayLike<number>,
  space: Space,
  era: 'argmax' | 'argmax-from-zero' | 'round',
): Record<string, number | number[]> {
  const actions = Object.values(space);
  const meansOnly =
    actions.every((a) => a.action_type === 'continuous') && actions.reduce((s, a) => s + a.size, 0) === output.length;
  const result: Record<string, number | number[]> = {};
  let index = 0;
  const gdRound = (x: number) => Math.sign(x) * Math.round(Math.abs(x)); // GDScript rounds half away from zero
  for (const [key, { size, action_type }] of Object.entries(space)) {
    if (era === 'round') {
      result[key] =
        action_type === 'discrete'
          ? gdRound(output[index]!)
          : Array.from({ length: size }, (_, i) => output[index + i]!);
      index += size;
      continue;
    }
    if (action_type === 'discrete') {
      let largest = era === 'argmax' ? -Infinity : 0;
      let idx = 0;
      for (let i = 0; i < size; i++) {
        if (output[index + i]! > largest) {
          largest = output[index + i]!;
          idx = i;
        }
      }
      result[key] = idx;
      index += size;
    } else {
      result[key] = Array.from({ length: size }, (_, i) => Math.fround(Math.min(1, Math.max(-1, output[index + i]!))));
      index += meansOnly ? size : 2 * size;
    }
  }
  return result;
}

/** What the SDK decided, in the plugin's dictionary form. */
function asDict(d: { indices?: number[]; values?: Float32Array }, space: Space): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  let b = 0;
  let v = 0;
  for (const [key, { size, action_type }] of Object.entries(space)) {
    if (action_type === 'discrete') out[key] = d.indices![b++]!;
    else {
      out[key] = Array.from(d.values!.subarray(v, v + size));
      v += size;
    }
  }
  return out;
}

/** A Godot RL Agents PPO export (obs [batch_size, 10] + state_ins → output [batch_size, 6] + state_outs). */
function godotBytes(): Uint8Array {
  const g = new GraphBuilder('godot-ppo');
  g.input('obs', 'float32', ['batch_size', 10]);
  g.input('state_ins', 'float32', ['batch_size']);
  const w = Array.from(rows(1, 60, 77)[0]!, (x) => x * 1.5);
  g.dense('obs', w, [0.3, -0.2, -1, -1, 0.1, -0.1], 10, 6, 'output');
  g.node('Identity', ['state_ins'], ['state_outs']);
  g.output('output', 'float32', ['batch_size', 6]);
  g.output('state_outs', 'float32', ['batch_size']);
  return g.toBytes(17, 'pytorch');
}

describe('Godot RL Agents policies with their action space decide as the plugin does', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let brain: Brain;
  const files: Record<string, string> = {};
  const spaces: Record<string, Space> = {
    // The example: continuous move (means + log-std) then a discrete jump.
    'move-jump': {
      move: { size: 2, action_type: 'continuous' },
      jump: { size: 2, action_type: 'discrete' },
    },
    'ballchase-discrete': { move: { size: 2, action_type: 'discrete' } },
    'jumper-discrete': { act: { size: 3, action_type: 'discrete' } },
    'ballchase-from-zero': { move: { size: 2, action_type: 'discrete' } },
    'ballchase-round': { turn: { size: 1, action_type: 'discrete' }, speed: { size: 1, action_type: 'continuous' } },
  };
  const eras: Record<string, 'argmax' | 'argmax-from-zero' | 'round'> = {
    'ballchase-from-zero': 'argmax-from-zero',
    'ballchase-round': 'round',
  };
  const sources: Record<string, string> = {};

  before(async function () {
    sources['ballchase-discrete'] = compatFile(this, 'godot_rl', 'BallChase.onnx');
    sources['ballchase-from-zero'] = sources['ballchase-discrete'];
    sources['ballchase-round'] = sources['ballchase-discrete'];
    sources['jumper-discrete'] = compatFile(this, 'godot_rl', 'JumperHard.onnx');
    ({ dir, cleanup } = await tempDir());
    sources['move-jump'] = join(dir, 'godot-ppo.onnx');
    await writeFile(sources['move-jump'], godotBytes());
    const models = join(dir, 'models');
    for (const [name, space] of Object.entries(spaces)) {
      if (name === 'move-jump') continue; // imported through the CLI below
      await importModel(sources[name]!, {
        into: models,
        name,
        actions: JSON.stringify(space),
        godotDecoding: eras[name],
      });
    }
    // The CLI, with the action space in a file (as the game's get_action_space() would be saved).
    const spaceFile = join(dir, 'move-jump.json');
    await writeFile(spaceFile, JSON.stringify(spaces['move-jump']));
    let stdout = '';
    let stderr = '';
    const code = await main(
      ['import', sources['move-jump'], '--name', 'move-jump', '--into', models, '--actions', spaceFile],
      {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
      },
    );
    expect(code, stderr).to.equal(0);
    files.stdout = stdout;
    brain = await createBrain({ mode: 'local', models, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    await cleanup?.();
  });

  async function compare(name: string, width: number, n: number, scale: number): Promise<number[][]> {
    const obs = rows(n, width, n * 13 + width, scale);
    const decisions = await brain.policy(name).decide(obs.map((r) => ({ obs: r })));
    const session = await ort.InferenceSession.create(sources[name]!);
    const flat = new Float32Array(n * width);
    obs.forEach((r, i) => flat.set(r, i * width));
    // ONNXInference.cs feeds state_ins as one float per agent; sync.gd passes 1.0.
    const out = (
      await session.run({
        obs: new ort.Tensor('float32', flat, [n, width]),
        state_ins: new ort.Tensor('float32', new Float32Array(n).fill(1), [n]),
      })
    ).output!;
    await session.release();
    const k = out.dims[1]!;
    const raw: number[][] = [];
    decisions.forEach((d, i) => {
      const row = (out.data as Float32Array).subarray(i * k, (i + 1) * k);
      raw.push(Array.from(row));
      expect(asDict(d, spaces[name]!), `agent ${i}, output [${Array.from(row).join(', ')}]`).to.deep.equal(
        plugin(row, spaces[name]!, eras[name] ?? 'argmax'),
      );
    });
    return raw;
  }

  for (const n of [1, 32]) {
    it(`the issue's space {move: continuous 2, jump: discrete 2} over an output of 6: clamped means, log-std skipped, argmax of jump's logits (batch ${n})`, async () => {
      const raw = await compare('move-jump', 10, n, 2);
      if (n > 1) {
        expect(
          raw.some((r) => Math.abs(r[0]!) > 1),
          'some means lie outside [-1, 1]',
        ).to.equal(true);
        expect(new Set(raw.map((r) => (r[5]! > r[4]! ? 1 : 0))).size, 'both jump actions occur').to.equal(2);
      }
    });

    it(`real BallChase.onnx as one discrete action of 2: argmax per branch (batch ${n})`, async () => {
      const raw = await compare('ballchase-discrete', 21, n, 3);
      if (n > 1) expect(new Set(raw.map((r) => (r[1]! > r[0]! ? 1 : 0))).size).to.equal(2);
    });

    it(`real JumperHard.onnx as one discrete action of 3 (batch ${n})`, async () => {
      await compare('jumper-discrete', 152, n, 20);
    });
  }

  it('real BallChase.onnx with the 2024-04 plugin (argmax from 0: with no logit above 0 the first action wins)', async () => {
    const raw = await compare('ballchase-from-zero', 21, 64, 3);
    expect(
      raw.some((r) => r[0]! <= 0 && r[1]! <= 0 && r[1]! > r[0]!),
      'a row where the eras differ',
    ).to.equal(true);
  });

  it('real BallChase.onnx with the 2023 plugin (round(output[index]), continuous unclamped)', async () => {
    const raw = await compare('ballchase-round', 21, 64, 6);
    expect(new Set(raw.map((r) => Math.round(r[0]!))).size, 'several rounded values').to.be.above(1);
  });

  it("import names what it recognised and assumed, and the manifest keeps the game's action names", async () => {
    expect(files.stdout).to.include('imported');
    expect(files.stdout).to.include('(godot-rl, kind policy)');
    expect(files.stdout).to.include(
      "action space: move (continuous, 2), jump (discrete, 2); decoded as the plugin's sync.gd of 2025-05 on",
    );
    expect(files.stdout).to.include('state_ins is fed 1 on every call');
    const m = await brain.policy('move-jump').manifest();
    expect(m.policy.actions.continuous).to.deep.include({
      names: ['move_0', 'move_1'],
      columns: [0, 1],
      low: [-1, -1],
      high: [1, 1],
    });
    expect(m.policy.actions.discrete).to.deep.include({
      branches: [['jump_0', 'jump_1']],
      offsets: [4],
      encoding: 'logits',
    });
    const [d] = await brain.policy('move-jump').decide([{ obs: new Float32Array(10) }]);
    expect(d!.action).to.match(/^jump_[01]$/);
  });

  it('refuses an action space that reads more values than the output has, naming the sizes', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      await expect(
        importModel(sources['ballchase-discrete']!, {
          into: other,
          actions: '{"move": {"size": 2, "action_type": "continuous"}, "jump": {"size": 2, "action_type": "discrete"}}',
        }),
      )
        .to.be.rejectedWith(
          'the action space reads 6 values per agent (move: 2 means + 2 log-std, jump: 2) but "output" has 2; check it against the game\'s get_action_space()',
        )
        .and.eventually.have.property('code', 'invalid_argument');
    } finally {
      await done();
    }
  });
});
