/**
 * Versions of the shipped npc-guard for rollout tests: the same network with some
 * output biases shifted (its decisions differ from version 1 on some guards), or a
 * copy whose graph fails at run time for batches of more than one row (it loads
 * and warms up like any model, then errors in play).
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { GUARD_ACTIONS, type GuardAction } from '../../server/sim/index.js';

const { onnx } = onnxProto;

/** The shipped npc-guard folder. */
export const SHIPPED_GUARD = join(import.meta.dirname, '..', '..', 'models', 'npc-guard');

function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/**
 * @param bytes - an npc-guard model
 * @param shift - added to the output bias of each action named
 * @returns the model with those biases shifted
 */
export function shiftedGuardBytes(bytes: Uint8Array, shift: Partial<Record<GuardAction, number>>): Uint8Array {
  const m = decode(bytes);
  const last = m.graph!.node!.find((n) => n.output?.includes('logits'));
  const biasName = last?.input?.[2];
  const bias = m.graph!.initializer!.find((t) => t.name === biasName);
  if (!bias?.floatData || bias.floatData.length !== GUARD_ACTIONS.length)
    throw new Error('not an npc-guard model: no 6-wide output bias');
  bias.floatData = bias.floatData.map((b, i) => b + (shift[GUARD_ACTIONS[i]!] ?? 0));
  return onnx.ModelProto.encode(m).finish();
}

/**
 * @param bytes - an npc-guard model
 * @returns the model with its logits reshaped to [1, 6]: it runs for one row (the
 *   repository's warm-up) and fails for a batch of guards
 */
export function batchBreakingGuardBytes(bytes: Uint8Array): Uint8Array {
  const m = decode(bytes);
  const g = m.graph!;
  const last = g.node!.find((n) => n.output?.includes('logits'))!;
  last.output = ['logits_raw'];
  g.initializer!.push({ name: 'one_row', dataType: onnx.TensorProto.DataType.INT64, dims: [2], int64Data: [1, 6] });
  g.node!.push({ opType: 'Reshape', input: ['logits_raw', 'one_row'], output: ['logits'], name: 'break_batches' });
  // Keep the nodes in topological order: the reshape before the softmax that reads logits.
  const softmax = g.node!.findIndex((n) => n.input?.includes('logits') && n.opType !== 'Reshape');
  if (softmax >= 0) {
    const [s] = g.node!.splice(softmax, 1);
    g.node!.push(s!);
  }
  return onnx.ModelProto.encode(m).finish();
}

/**
 * Copies the shipped npc-guard into `<dir>/npc-guard` with version 1 pinned, and writes
 * each extra version given.
 * @returns the model folder
 */
export async function guardRepository(dir: string, versions: Record<number, Uint8Array>): Promise<string> {
  const folder = join(dir, 'npc-guard');
  await mkdir(dir, { recursive: true });
  await cp(SHIPPED_GUARD, folder, { recursive: true });
  const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(folder, 'manifest.json'), JSON.stringify({ ...manifest, version: 1 }, null, 2));
  for (const [v, bytes] of Object.entries(versions)) {
    await mkdir(join(folder, v), { recursive: true });
    await writeFile(join(folder, v, 'model.onnx'), bytes);
  }
  return folder;
}

/** The shipped npc-guard version 1's bytes. */
export function shippedGuardBytes(): Promise<Uint8Array> {
  return readFile(join(SHIPPED_GUARD, '1', 'model.onnx'));
}
