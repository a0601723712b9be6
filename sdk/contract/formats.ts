/**
 * Recognises the layout of an ONNX model and writes its manifest: Unity ML-Agents
 * exports (version 2 and 3 layouts), Godot RL Agents exports, and any other model
 * as kind `tensor`.
 */
import type { BackendSession, Tensor, TensorMeta } from '../engine/backend.js';
import type { DType, ManifestInput, TensorSpec } from './manifest.js';
import { zeroTensor } from './tensors.js';

/** What an inspection found. */
export interface Inspection {
  format: 'ml-agents' | 'godot-rl' | 'playmind';
  kind: 'policy' | 'tensor';
  manifest: ManifestInput;
  /** Human-readable notes (what was recognised, what was assumed). */
  notes: string[];
}

/** Converts session metadata into a manifest tensor spec (named or negative dims become -1). */
export function specOf(m: TensorMeta): TensorSpec {
  const dtype = (m.dtype === 'unknown' ? 'float32' : m.dtype) as DType;
  return { name: m.name, dtype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

const width = (s: TensorSpec): number => s.shape.slice(1).reduce((a, d) => a * (d < 0 ? 1 : d), 1);

/**
 * Inspects a loaded session and proposes a manifest.
 * @param name - the model's name
 * @param session - a session on the model (run once with zeros to read ML-Agents' constant outputs)
 */
export async function inspectModel(name: string, session: BackendSession): Promise<Inspection> {
  const inputs = session.inputs.map(specOf);
  const outputs = session.outputs.map(specOf);
  const inNames = new Set(inputs.map((t) => t.name));
  const outNames = new Set(outputs.map((t) => t.name));
  const notes: string[] = [];

  // ---- Unity ML-Agents ----
  const obsInputs = inputs
    .filter((t) => /^obs_\d+$/.test(t.name))
    .sort((a, b) => Number(a.name.slice(4)) - Number(b.name.slice(4)));
  const isMlAgents = outNames.has('version_number') && (obsInputs.length > 0 || inNames.has('vector_observation'));
  if (isMlAgents) {
    const consts = await constantOutputs(session, inputs);
    const version = consts.version_number?.[0];
    const observation = obsInputs.length > 0 ? obsInputs : inputs.filter((t) => t.name === 'vector_observation');
    const features = observation.flatMap((t) => Array.from({ length: width(t) }, (_, i) => `${t.name}_${i}`));
    notes.push(
      `Unity ML-Agents export (version_number ${version ?? '?'}), observation inputs: ${observation.map((t) => t.name).join(', ')}`,
    );
    const actions: NonNullable<Extract<ManifestInput, { kind: 'policy' }>['policy']>['actions'] = {};
    const discreteOut = outNames.has('deterministic_discrete_actions')
      ? 'deterministic_discrete_actions'
      : outNames.has('discrete_actions')
        ? 'discrete_actions'
        : null;
    if (discreteOut) {
      const shape = consts.discrete_action_output_shape ? Array.from(consts.discrete_action_output_shape) : [];
      const mask = inputs.find((t) => t.name === 'action_masks');
      const sizes = shape.length > 0 ? shape.map(Math.round) : mask ? [width(mask)] : [];
      actions.discrete = {
        branches: sizes.map((n, b) =>
          Array.from({ length: n }, (_, a) => (sizes.length === 1 ? `action_${a}` : `branch_${b}_action_${a}`)),
        ),
        output: discreteOut,
        encoding: 'index',
      };
      if (discreteOut === 'discrete_actions')
        notes.push('no deterministic discrete output: using the sampled discrete_actions output');
      notes.push(`discrete actions: ${sizes.length} branch(es) of ${sizes.join(', ')}`);
    }
    const contOut = ['deterministic_continuous_actions', 'continuous_actions'].find(
      (n) => outNames.has(n) && width(outputs.find((o) => o.name === n)!) > 0,
    );
    const legacyContinuous = !contOut && outNames.has('action') && consts.is_continuous_control?.[0] === 1;
    const contName = contOut ?? (legacyContinuous ? 'action' : null);
    if (contName) {
      const spec = outputs.find((o) => o.name === contName)!;
      actions.continuous = {
        names: Array.from({ length: width(spec) }, (_, i) => `continuous_${i}`),
        output: contName,
      };
      notes.push(`continuous actions: ${width(spec)} from ${contName}`);
    }
    const policy: Extract<ManifestInput, { kind: 'policy' }>['policy'] = {
      observation: { inputs: observation.map((t) => t.name), features },
      actions,
    };
    if (inNames.has('action_masks')) policy.mask = { input: 'action_masks' };
    if (inNames.has('recurrent_in') && outNames.has('recurrent_out')) {
      const size = width(inputs.find((t) => t.name === 'recurrent_in')!);
      policy.recurrent = { input: 'recurrent_in', output: 'recurrent_out', size };
      notes.push(`recurrent memory of ${size} floats per agent`);
    }
    if (actions.discrete) policy.fallback = { heuristic: 'first-action' };
    return {
      format: 'ml-agents',
      kind: 'policy',
      notes,
      manifest: { name, kind: 'policy', format: 'ml-agents', inputs, outputs, policy },
    };
  }

  // ---- Godot RL Agents ----
  if (inNames.has('obs') && inNames.has('state_ins') && outNames.has('output')) {
    const obs = inputs.find((t) => t.name === 'obs')!;
    const out = outputs.find((t) => t.name === 'output')!;
    notes.push(
      `Godot RL Agents export: obs of ${width(obs)} values, output of ${width(out)} values (action means or logits)`,
    );
    notes.push('state_ins is fed zeros on every call (the exported policies are not recurrent)');
    return {
      format: 'godot-rl',
      kind: 'policy',
      notes,
      manifest: {
        name,
        kind: 'policy',
        format: 'godot-rl',
        inputs,
        outputs,
        policy: {
          observation: { inputs: ['obs'], features: Array.from({ length: width(obs) }, (_, i) => `obs_${i}`) },
          actions: {
            continuous: { names: Array.from({ length: width(out) }, (_, i) => `action_${i}`), output: 'output' },
          },
          constants: { state_ins: 0 },
        },
      },
    };
  }

  notes.push(
    `no known policy layout: kind tensor with inputs ${inputs.map((t) => `${t.name} ${t.dtype}[${t.shape.join(',')}]`).join(', ')}`,
  );
  return {
    format: 'playmind',
    kind: 'tensor',
    notes,
    manifest: { name, kind: 'tensor', format: 'playmind', inputs, outputs },
  };
}

/** Runs the model once on zeros and returns the outputs that have no batch dimension (constants). */
async function constantOutputs(session: BackendSession, inputs: TensorSpec[]): Promise<Record<string, Float32Array>> {
  const feeds: Record<string, Tensor> = {};
  for (const spec of inputs) feeds[spec.name] = zeroTensor(spec, 1);
  const names = [
    'version_number',
    'memory_size',
    'discrete_action_output_shape',
    'is_continuous_control',
    'continuous_action_output_shape',
  ];
  const fetches = names.filter((n) => session.outputs.some((o) => o.name === n));
  if (fetches.length === 0) return {};
  try {
    const out = await session.run(feeds, fetches);
    return Object.fromEntries(
      Object.entries(out).map(([k, t]) => [k, Float32Array.from(t.data as ArrayLike<number>, Number)]),
    );
  } catch {
    return {};
  }
}
