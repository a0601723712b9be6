/** Small real ONNX models written with the SDK's graph builder, for tests. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import type { ManifestInput } from '../../sdk/contract/manifest.js';
import {
  createBrain,
  FsModelSource,
  InferenceEngine,
  ModelRepository,
  nodeBackend,
  silentLogger,
  type Brain,
  type BrainOptions,
} from '../../sdk/index.js';

/**
 * A linear policy: logits = obs · Wᵀ + b, with `features` inputs and `actions` outputs.
 * `scale` changes the weights, so versions differ in their decisions.
 */
export function linearPolicyBytes(features: number, actions: number, scale = 1, fixedBatch?: number): Uint8Array {
  const g = new GraphBuilder('linear-policy');
  const batch = fixedBatch ?? 'batch';
  g.input('obs', 'float32', [batch, features]);
  const w = Array.from({ length: actions * features }, (_, i) => Math.sin(i * 0.7 + scale) * scale);
  const b = Array.from({ length: actions }, (_, i) => (i - actions / 2) * 0.01 * scale);
  g.dense('obs', w, b, features, actions, 'logits');
  g.output('logits', 'float32', [batch, actions]);
  return g.toBytes();
}

/** The manifest of {@link linearPolicyBytes}. */
export function linearPolicyManifest(
  name: string,
  features: number,
  actions: number,
  extra: Partial<ManifestInput> = {},
): ManifestInput {
  return {
    name,
    kind: 'policy',
    format: 'playmind',
    inputs: [{ name: 'obs', dtype: 'float32', shape: [-1, features] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [-1, actions] }],
    policy: {
      observation: { inputs: ['obs'], features: Array.from({ length: features }, (_, i) => `f${i}`) },
      actions: {
        discrete: {
          branches: [Array.from({ length: actions }, (_, i) => `a${i}`)],
          output: 'logits',
          encoding: 'logits',
        },
      },
      fallback: { heuristic: 'first-action' },
    },
    ...extra,
  } as ManifestInput;
}

/** Writes `<dir>/<name>/manifest.json` and `<dir>/<name>/<version>/model.onnx`. */
export async function writeModel(
  dir: string,
  name: string,
  version: number,
  bytes: Uint8Array,
  manifest?: unknown,
): Promise<void> {
  await mkdir(join(dir, name, String(version)), { recursive: true });
  if (manifest !== undefined) await writeFile(join(dir, name, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await writeFile(join(dir, name, String(version), 'model.onnx'), bytes);
}

/**
 * A policy of the {@link linearPolicyManifest} contract whose outputs are not finite:
 * - `'always'`: NaN weights, so every answer is NaN (refused by the zero warm-up);
 * - `'probe'`: `sqrt(1 - 2·obs)` before the dense layer — finite at zeros, NaN at ones
 *   (refused by the warm-up's probes);
 * - `'negative'`: `sqrt(obs)` before the dense layer — finite for every warm-up input
 *   (all ≥ 0), NaN for a row with a negative feature at run time.
 */
export function nonFinitePolicyBytes(
  features: number,
  actions: number,
  when: 'always' | 'probe' | 'negative',
): Uint8Array {
  const g = new GraphBuilder(`non-finite-${when}`);
  g.input('obs', 'float32', ['batch', features]);
  const w = Array.from({ length: actions * features }, (_, i) => (when === 'always' ? NaN : Math.sin(i * 0.7 + 1)));
  const b = Array.from({ length: actions }, () => 0);
  let x = 'obs';
  if (when === 'probe') {
    const two = g.floats('two', [2], [1]);
    const one = g.floats('one', [1], [1]);
    x = g.node('Sqrt', [g.node('Sub', [one, g.node('Mul', [x, two])])]);
  } else if (when === 'negative') x = g.node('Sqrt', [x]);
  g.dense(x, w, b, features, actions, 'logits');
  g.output('logits', 'float32', ['batch', actions]);
  return g.toBytes();
}

/** A repository over a folder, a shared engine and a brain on both, as the server builds them. */
export interface SharedBrain {
  repository: ModelRepository;
  engine: InferenceEngine;
  brain: Brain;
  /** Closes the brain, then the engine and the repository it does not own. */
  close(): Promise<void>;
}

/**
 * Loads every model in `dir` into a repository, and makes a brain on it and a new engine
 * (`createBrain({ engine, models: repository })`).
 * @param options - the brain's other options (heuristics, deadlines...)
 */
export async function openSharedBrain(
  dir: string,
  options: Omit<BrainOptions, 'engine' | 'models'> = {},
): Promise<SharedBrain> {
  const repository = new ModelRepository({
    source: new FsModelSource(dir),
    backend: nodeBackend(),
    logger: silentLogger,
  });
  await repository.loadAll();
  const engine = new InferenceEngine();
  const brain = await createBrain({ ...options, engine, models: repository });
  return {
    repository,
    engine,
    brain,
    async close() {
      await brain.close();
      engine.close();
      await repository.close();
    },
  };
}
