/**
 * Writes the npc-guard model folder: `<dir>/1/model.onnx` (the MLP as Gemm +
 * activation nodes, written with the SDK's GraphBuilder) and `<dir>/manifest.json`
 * (the contract: features, actions, fallback heuristic, batching, the training
 * report and the file's sha256).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseManifest, type ManifestInput } from '../../../sdk/contract/manifest.js';
import { GraphBuilder } from '../../../sdk/onnx/graph-builder.js';
import { GUARD_ACTIONS, GUARD_FEATURES } from '../../../server/sim/index.js';
import { layout, type MlpShape } from './mlp.js';

/**
 * The MLP as ONNX: input `obs` float32 [batch, features]; outputs `logits`
 * float32 [batch, actions] and `probs` (their softmax, without masks).
 *
 * @param shape - the network shape
 * @param params - flat parameters (layout of `mlp.ts`)
 * @returns the encoded model
 */
export function mlpToOnnx(shape: MlpShape, params: Float32Array): Uint8Array {
  const { layers, size } = layout(shape);
  if (params.length !== size) throw new RangeError(`'params' must hold ${size} values, got ${params.length}`);
  const g = new GraphBuilder('npc-guard');
  g.input('obs', 'float32', ['batch', shape.input]);
  let x = 'obs';
  layers.forEach((L, l) => {
    const last = l === layers.length - 1;
    const w = params.subarray(L.w, L.w + L.inDim * L.outDim);
    const b = params.subarray(L.b, L.b + L.outDim);
    const z = g.dense(x, w, b, L.inDim, L.outDim, last ? 'logits' : `dense${l}`);
    x = last ? z : g.node(shape.activation === 'tanh' ? 'Tanh' : 'Relu', [z], [`hidden${l}`]);
  });
  g.node('Softmax', ['logits'], ['probs'], { axis: 1 });
  g.output('logits', 'float32', ['batch', shape.output]);
  g.output('probs', 'float32', ['batch', shape.output]);
  return g.toBytes(13, 'playmind-train-npc-guard');
}

/** Options of {@link writeGuardModel}. */
export interface WriteGuardModelOptions {
  /** The model folder (`models/npc-guard`); its base name is the model name. */
  readonly dir: string;
  readonly shape: MlpShape;
  readonly params: Float32Array;
  /** The version folder. @default 1 */
  readonly version?: number;
  /** The training report for the manifest (data sizes, seeds, evaluation...). */
  readonly report: Record<string, unknown>;
  readonly description?: string;
}

/** What {@link writeGuardModel} wrote. */
export interface WrittenGuardModel {
  readonly manifestPath: string;
  readonly modelPath: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * The manifest of an npc-guard model.
 *
 * @param name - the model name
 * @param sha256 - the model file's sha256, keyed by `version`
 * @returns the manifest (validated by the SDK's schema)
 */
export function guardManifest(
  name: string,
  version: number,
  sha256: string,
  report: Record<string, unknown>,
  description?: string,
): ManifestInput {
  const manifest: ManifestInput = {
    name,
    kind: 'policy',
    format: 'playmind',
    description:
      description ??
      'Arena guard policy: an MLP behaviour-cloned from the scripted expert guard, then improved with evolution strategies in the arena simulation (server/sim).',
    inputs: [{ name: 'obs', dtype: 'float32', shape: [-1, GUARD_FEATURES.length] }],
    outputs: [
      { name: 'logits', dtype: 'float32', shape: [-1, GUARD_ACTIONS.length] },
      { name: 'probs', dtype: 'float32', shape: [-1, GUARD_ACTIONS.length] },
    ],
    policy: {
      observation: { inputs: ['obs'], features: [...GUARD_FEATURES] },
      actions: { discrete: { branches: [[...GUARD_ACTIONS]], output: 'logits', encoding: 'logits' } },
      fallback: { heuristic: 'expert-guard' },
    },
    batching: { maxBatchSize: 512, maxQueueDelayMs: 0 },
    report,
    sha256: { [String(version)]: sha256 },
  };
  parseManifest(manifest, `${name}/manifest.json`);
  return manifest;
}

/**
 * Writes `<dir>/<version>/model.onnx` and `<dir>/manifest.json`.
 *
 * @param options - see {@link WriteGuardModelOptions}
 * @returns the paths, the sha256 and the model's size
 */
export async function writeGuardModel(options: WriteGuardModelOptions): Promise<WrittenGuardModel> {
  const version = options.version ?? 1;
  const bytes = mlpToOnnx(options.shape, options.params);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const manifest = guardManifest(basename(options.dir), version, sha256, options.report, options.description);
  const modelPath = join(options.dir, String(version), 'model.onnx');
  const manifestPath = join(options.dir, 'manifest.json');
  await mkdir(join(options.dir, String(version)), { recursive: true });
  await writeFile(modelPath, bytes);
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifestPath, modelPath, sha256, bytes: bytes.length };
}
