/**
 * Unity ML-Agents exports, from the 1.x layout (model version 2) to 2.x/3.x (version 3).
 *
 * Followed: ML-Agents' own loader, `com.unity.ml-agents/Runtime/Inference/`
 * `SentisModelParamLoader.cs` (versions 2 = "MLAgents1_0", 3 = "MLAgents2_0"; 1.x models
 * with memory are refused), `SentisModelInfo.cs` (an export "supports continuous and
 * discrete" when it has a `continuous_actions` or `discrete_actions` output; otherwise the
 * deprecated `action` + `is_continuous_control` + `action_output_shape` describe it; branch
 * sizes come from `discrete_action_output_shape`; the deterministic outputs are used for
 * deterministic inference), `TensorNames.cs` (the names), `ApplierImpl.cs` (discrete outputs
 * hold action indices, cast to int; the 1.x `action` output holds log-probabilities that the
 * C# side samples from), and the exporter `ml-agents/mlagents/trainers/torch_entities/
 * model_serialization.py` (inputs `obs_N` in sensor order, visual ones channels first).
 */
import type { Tensor } from '../engine/backend.js';
import type { Inspection } from './formats.js';
import { describeSpec, namingNote, widthOf, type InspectContext } from './inspect-context.js';
import type { ManifestInput, PolicyContract, TensorSpec } from './manifest.js';
import { zeroTensor } from './tensors.js';

type Policy = Extract<ManifestInput, { kind: 'policy' }>['policy'];

/** The constant outputs an ML-Agents export carries (no batch dimension). */
const CONSTANTS = [
  'version_number',
  'memory_size',
  'discrete_action_output_shape',
  'continuous_action_output_shape',
  'is_continuous_control',
  'action_output_shape',
];

const OBS = /^obs_(\d+)$/;
const VISUAL = /^visual_observation_(\d+)$/;

/**
 * Recognises an ML-Agents export.
 * @returns the policy manifest, or null when the model is not one (or cannot be served as a
 *   policy: then the notes say why and the caller imports it as a tensor model)
 */
export async function inspectMlAgents(ctx: InspectContext): Promise<Pick<Inspection, 'format' | 'manifest'> | null> {
  const { name, inputs, outputs, notes } = ctx;
  const outNames = new Set(outputs.map((t) => t.name));
  const byIndex = (re: RegExp) => (a: TensorSpec, b: TensorSpec) =>
    Number(re.exec(a.name)![1]) - Number(re.exec(b.name)![1]);
  const obs = inputs.filter((t) => OBS.test(t.name)).sort(byIndex(OBS));
  const vector = inputs.filter((t) => t.name === 'vector_observation');
  const visual = inputs.filter((t) => VISUAL.test(t.name)).sort(byIndex(VISUAL));
  if (!(outNames.has('version_number') || outNames.has('memory_size'))) return null;
  if (obs.length === 0 && vector.length === 0 && visual.length === 0) return null;

  const consts = await constantOutputs(ctx);
  const version = consts.version_number?.[0];
  const memory = Math.round(consts.memory_size?.[0] ?? 0);
  const layout = version === 2 ? 'ML-Agents 1.x layout' : version === 3 ? 'ML-Agents 2.x/3.x layout' : 'layout';
  // Version 3 names every sensor obs_N (in sensor order); version 2 concatenated the vector
  // sensors into vector_observation and named the visual ones visual_observation_N.
  const observation = obs.length > 0 ? obs : [...vector, ...visual];
  notes.recognised.push(
    `Unity ML-Agents export, version_number ${version ?? 'missing'} (${layout}); observation inputs in row order: ${observation.map(sensorNote).join(', ')}`,
  );
  const notPolicy = (why: string) => {
    notes.assumed.push(`not served as a policy: ${why}; imported as kind tensor (run() takes the raw tensors)`);
    return null;
  };
  if (version !== 2 && version !== 3) {
    notes.assumed.push(
      `version_number ${version ?? 'missing'}: ML-Agents itself loads versions 2 and 3 only (SentisModelParamLoader); read by its output names like version ${outNames.has('continuous_actions') || outNames.has('discrete_actions') ? 3 : 2}`,
    );
  }
  for (const t of observation) {
    if (t.dtype !== 'float32' && t.dtype !== 'float16')
      return notPolicy(`observation input ${describeSpec(t)} is not float`);
    if (t.shape.slice(1).some((d) => d < 0))
      return notPolicy(`observation input ${describeSpec(t)} has a dynamic size; a policy needs fixed sensor sizes`);
  }
  const fed = new Set([...observation.map((t) => t.name), 'action_masks', 'recurrent_in']);
  const unknown = inputs.filter((t) => !fed.has(t.name));
  if (unknown.length > 0) {
    return notPolicy(
      `inputs ${unknown.map((t) => `"${t.name}"`).join(', ')} are not ones ML-Agents 2.x feeds (obs_N, action_masks, recurrent_in; or vector_observation, visual_observation_N)`,
    );
  }

  const policy: Policy = {
    observation: {
      inputs: observation.map((t) => t.name),
      features: observation.flatMap((t) => Array.from({ length: widthOf(t) }, (_, i) => `${t.name}_${i}`)),
    },
    actions: {},
  };
  const manifestOutputs = outputs.map((o) => ({ ...o, shape: [...o.shape] }));

  if (memory > 0 || inputs.some((t) => t.name === 'recurrent_in')) {
    if (version === 2 && memory > 0)
      return notPolicy(
        'ML-Agents 1.x models with memory are not supported by ML-Agents 2.x either (their LSTM state lives in Barracuda inputs)',
      );
    const rin = inputs.find((t) => t.name === 'recurrent_in');
    const rout = manifestOutputs.find((t) => t.name === 'recurrent_out');
    if (!rin || !rout) return notPolicy(`memory_size is ${memory} but recurrent_in / recurrent_out are missing`);
    const size = widthOf(rin);
    if (memory > 0 && size !== memory)
      notes.assumed.push(`memory_size says ${memory} but recurrent_in holds ${size} floats per agent: using ${size}`);
    policy.recurrent = { input: 'recurrent_in', output: 'recurrent_out', size };
    notes.recognised.push(`recurrent memory of ${size} floats per agent (recurrent_in → recurrent_out)`);
    if (rout.shape.length > 0 && rout.shape[0]! >= 0) {
      notes.assumed.push(
        `recurrent_out declares a fixed first dim of ${rout.shape[0]} but returns one row per agent (a PyTorch export quirk): recorded as [${[-1, ...rout.shape.slice(1)].join(', ')}]`,
      );
      rout.shape[0] = -1;
    }
  }

  const mask = inputs.find((t) => t.name === 'action_masks');
  if (!decideActions(ctx, policy, consts, mask)) return notPolicy('it has no action output ML-Agents would read');
  if (mask) {
    if (policy.actions.discrete) policy.mask = { input: 'action_masks' };
    else policy.constants = { ...policy.constants, action_masks: 1 };
  }
  if (policy.actions.discrete) policy.fallback = { heuristic: 'first-action' };
  const acts = policy.actions as PolicyContract['actions'];
  notes.assumed.push(
    namingNote(policy.observation.features as string[], [
      ...(acts.discrete?.branches.flat() ?? []),
      ...(acts.continuous?.names ?? []),
    ]),
  );
  return {
    format: 'ml-agents',
    manifest: { name, kind: 'policy', format: 'ml-agents', inputs, outputs: manifestOutputs, policy },
  };
}

function sensorNote(t: TensorSpec): string {
  const dims = t.shape.slice(1);
  const kind =
    dims.length >= 3
      ? t.name.startsWith('visual') || dims.length === 3
        ? 'visual, channels first'
        : `rank-${dims.length} sensor`
      : dims.length === 2
        ? 'rank-2 sensor (a buffer or grid)'
        : 'vector';
  return `${t.name} [${dims.join(', ')}] (${kind})`;
}

/** Fills `policy.actions` from the outputs; false when there is none to read. */
function decideActions(
  ctx: InspectContext,
  policy: Policy,
  consts: Record<string, Float32Array>,
  mask: TensorSpec | undefined,
): boolean {
  const { outputs, notes } = ctx;
  const out = (n: string) => outputs.find((o) => o.name === n);
  const actions = policy.actions as PolicyContract['actions'];
  if (out('continuous_actions') || out('discrete_actions')) {
    // ML-Agents 2.x naming (SentisModelInfo.CheckSupportsContinuousAndDiscrete).
    const contSize = Math.round(consts.continuous_action_output_shape?.[0] ?? 0);
    const contName = out('deterministic_continuous_actions')
      ? 'deterministic_continuous_actions'
      : out('continuous_actions')
        ? 'continuous_actions'
        : null;
    if (contName && (contSize > 0 || widthOf(out(contName)!) > 0)) {
      const size = contSize > 0 ? contSize : widthOf(out(contName)!);
      const sampled = contName === 'continuous_actions';
      actions.continuous = {
        names: Array.from({ length: size }, (_, i) => `continuous_${i}`),
        output: contName,
        ...(sampled ? { sampled: true } : {}),
      };
      notes.recognised.push(`continuous actions: ${size} from ${contName}`);
      if (sampled) notes.recognised.push(sampledNote('continuous'));
    }
    const shape = consts.discrete_action_output_shape;
    const discName = out('deterministic_discrete_actions')
      ? 'deterministic_discrete_actions'
      : out('discrete_actions')
        ? 'discrete_actions'
        : null;
    let sizes = shape ? Array.from(shape, Math.round).filter((n) => n > 0) : [];
    if (discName && sizes.length === 0 && mask) {
      sizes = [widthOf(mask)];
      notes.assumed.push(
        `discrete_action_output_shape is missing: one branch of ${sizes[0]} actions (the width of action_masks)`,
      );
    }
    if (discName && sizes.length > 0) {
      const sampled = discName === 'discrete_actions';
      const spec = out(discName)!;
      actions.discrete = {
        branches: branchNames(sizes),
        output: discName,
        encoding: 'index',
        ...(sampled ? { sampled: true } : {}),
      };
      notes.recognised.push(
        `discrete actions: ${sizes.length} branch(es) of ${sizes.join(', ')} from ${discName} (${spec.dtype} indices)`,
      );
      if (sampled) notes.recognised.push(sampledNote('discrete'));
    }
  } else if (out('action')) {
    // ML-Agents 1.x: one `action` output described by is_continuous_control and action_output_shape.
    const spec = out('action')!;
    const continuous = (consts.is_continuous_control?.[0] ?? 0) > 0;
    const size = Math.round(consts.action_output_shape?.[0] ?? widthOf(spec));
    if (continuous) {
      actions.continuous = {
        names: Array.from({ length: size }, (_, i) => `continuous_${i}`),
        output: 'action',
        sampled: true,
      };
      notes.recognised.push(
        `continuous actions: ${size} from action (is_continuous_control 1)`,
        sampledNote('continuous'),
      );
    } else {
      actions.discrete = { branches: branchNames([size]), output: 'action', encoding: 'logits' };
      notes.recognised.push(
        `discrete actions: log-probabilities of ${size} actions from action (is_continuous_control 0)`,
      );
      notes.assumed.push(
        `one branch of ${size} actions: ML-Agents 1.x exports record only the sum of the branch sizes (action_output_shape); edit policy.actions.discrete.branches to split them`,
        'ML-Agents 1.x samples an action from these log-probabilities in C# (LegacyDiscreteActionOutputApplier); Playmind takes the most likely allowed one, so decisions are deterministic',
      );
    }
  }
  return !!(actions.continuous || actions.discrete);
}

function sampledNote(kind: 'continuous' | 'discrete'): string {
  return `SAMPLED ${kind} actions: the export has no deterministic_${kind}_actions output, so the same observation can get different actions; the manifest records sampled: true and every decision carries sampled: true (re-export with a newer ML-Agents for deterministic outputs)`;
}

function branchNames(sizes: number[]): string[][] {
  return sizes.map((n, b) =>
    Array.from({ length: n }, (_, a) => (sizes.length === 1 ? `action_${a}` : `branch_${b}_action_${a}`)),
  );
}

/** Runs the model once on zeros and returns the constant outputs ML-Agents reads (SentisModelInfo does the same). */
async function constantOutputs(ctx: InspectContext): Promise<Record<string, Float32Array>> {
  const { session, inputs } = ctx;
  const feeds: Record<string, Tensor> = {};
  for (const spec of inputs) feeds[spec.name] = zeroTensor(spec, 1);
  const fetches = CONSTANTS.filter((n) => session.outputs.some((o) => o.name === n));
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
