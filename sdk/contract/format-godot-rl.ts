/**
 * Godot RL Agents exports: inputs named by the keys of the agent's observation dictionary
 * (`obs`, ...) plus `state_ins`; outputs `output` (the action values of every action key,
 * in the order of `get_action_space()`) and `state_outs`.
 *
 * Followed: the plugin (edbeeching/godot_rl_agents_plugin), `addons/godot_rl_agents/`
 * - `onnx/csharp/ONNXInference.cs`: feeds each observation key as a `[batch, n]` float
 *   tensor and `state_ins` as one float; reads `output` (its dim 1 is the action output size);
 * - `sync.gd` `_inference_process`: `run_inference(obs, 1.0)`, so `state_ins` is 1;
 * - `sync.gd` `_extract_action_dict`, walking the action space in its order:
 *   - since 6245daa (2024-04-05, "Support for both rllib onnx and sb3 onnx"): a discrete key
 *     takes the argmax of its `size` logits (first maximum wins); a continuous key takes
 *     `size` values clamped to [-1, 1], then skips `size` more (the log-std) unless the model
 *     outputs action means only; `onnx/wrapper/ONNX_wrapper.gd` `set_action_means_only`: means
 *     only when every key is continuous and their sizes add up to the output size.
 *     Until fda220a (2025-05-15, "Fix largest logit logic") the argmax started from 0, not
 *     -INF: with no logit above 0 the first action won (`godotDecoding: 'argmax-from-zero'`).
 *   - from 74cba93 (2023-04-18, "adds support for discrete action spaces") to 6245daa: a
 *     discrete key took `round(output[index])` and every key advanced the index by its size;
 *     continuous values were not clamped (`godotDecoding: 'round'`).
 * The stochastic discrete choice added in 0e4dfbb (2025-08, `deterministic_inference` off)
 * is not reproduced: decisions are the plugin's deterministic ones (its default).
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { Inspection } from './formats.js';
import { namingNote, widthOf, type InspectContext } from './inspect-context.js';
import type { ManifestInput } from './manifest.js';

/** One action of a Godot agent, as `AIController.get_action_space()` declares it. */
export interface GodotAction {
  size: number;
  action_type: 'discrete' | 'continuous';
}

/** A Godot agent's action space: action key → size and type, in declaration order. */
export type GodotActionSpace = Record<string, GodotAction>;

/**
 * How the game's plugin decodes `output` (see the file header): `argmax` (sync.gd since
 * 2025-05-15), `argmax-from-zero` (2024-04-05 to 2025-05-15), `round` (2023-04-18 to 2024-04-05).
 */
export type GodotDecoding = 'argmax' | 'argmax-from-zero' | 'round';

/** The decodings, for option parsing. */
export const GODOT_DECODINGS: readonly GodotDecoding[] = ['argmax', 'argmax-from-zero', 'round'];

type Policy = Extract<ManifestInput, { kind: 'policy' }>['policy'];

/**
 * Parses an action space given as JSON text (the dictionary `get_action_space()` returns).
 * @throws PlaymindError `invalid_argument` naming the key and what is wrong
 */
export function parseGodotActionSpace(json: string, source = '--actions'): GodotActionSpace {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${source}: not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const bad = (why: string) => new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${source}: ${why}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw bad('must be an object of actions, e.g. {"move": {"size": 2, "action_type": "continuous"}}');
  const keys = Object.keys(raw);
  if (keys.length === 0) throw bad('declares no action');
  const space: GodotActionSpace = {};
  for (const key of keys) {
    // JavaScript orders integer-like keys first, which would silently change the action order.
    if (/^(0|[1-9]\d*)$/.test(key))
      throw bad(`action key "${key}" looks like an array index; its order cannot be kept, rename it`);
    const a = (raw as Record<string, unknown>)[key] as Partial<GodotAction> | null;
    if (!a || typeof a !== 'object') throw bad(`action "${key}" must be {"size": n, "action_type": ...}`);
    if (!Number.isInteger(a.size) || (a.size as number) < 1)
      throw bad(`action "${key}": "size" must be a positive integer, got ${JSON.stringify(a.size)}`);
    if (a.action_type !== 'discrete' && a.action_type !== 'continuous')
      throw bad(
        `action "${key}": "action_type" must be "discrete" or "continuous", got ${JSON.stringify(a.action_type)}`,
      );
    space[key] = { size: a.size as number, action_type: a.action_type };
  }
  return space;
}

/**
 * Recognises a Godot RL Agents export and, with the game's action space, decodes it as the
 * plugin does.
 * @returns the policy manifest, or null when the model is not a Godot RL Agents export
 * @throws PlaymindError `invalid_argument` when the action space does not fit the output
 */
export function inspectGodotRl(
  ctx: InspectContext,
  space: GodotActionSpace | undefined,
  decoding: GodotDecoding = 'argmax',
): Pick<Inspection, 'format' | 'manifest'> | null {
  const { name, inputs, outputs, notes } = ctx;
  const stateIn = inputs.find((t) => t.name === 'state_ins');
  const out = outputs.find((t) => t.name === 'output');
  if (!stateIn || !out) return null;
  const observation = inputs.filter((t) => t !== stateIn);
  if (observation.length === 0) return null;
  const width = widthOf(out);
  notes.recognised.push(
    `Godot RL Agents export: observation ${observation.map((t) => `${t.name} of ${widthOf(t)} values`).join(', ')}; output of ${width} values per agent`,
  );
  notes.assumed.push('state_ins is fed 1 on every call, as the plugin does (sync.gd: run_inference(obs, 1.0))');
  const policy: Policy = {
    observation: {
      inputs: observation.map((t) => t.name),
      features: observation.flatMap((t) => Array.from({ length: widthOf(t) }, (_, i) => `${t.name}_${i}`)),
    },
    actions: {},
    constants: { state_ins: 1 },
  };
  notes.assumed.push(
    namingNote(policy.observation.features as string[], space ? [] : ['action_0', `action_${width - 1}`]),
  );
  if (!space) {
    policy.actions = {
      continuous: { names: Array.from({ length: width }, (_, i) => `action_${i}`), output: 'output' },
    };
    notes.assumed.push(
      `no action space given: the ${width} output values are served as continuous values, unclamped; Godot games declare their actions in AIController.get_action_space() — pass that dictionary with --actions to decode them as the plugin does (argmax per discrete action, clamping)`,
    );
  } else {
    policy.actions = decodeSpace(name, space, decoding, width);
    const list = Object.entries(space)
      .map(([k, a]) => `${k} (${a.action_type}, ${a.size})`)
      .join(', ');
    notes.recognised.push(`action space: ${list}; decoded as the plugin's sync.gd ${DECODING_NOTES[decoding]}`);
    const used = readWidth(space, decoding, width);
    if (used < width)
      notes.assumed.push(
        `the action space reads ${used} of the ${width} output values per agent; the plugin ignores the rest, so does Playmind`,
      );
    if (policy.actions.discrete) policy.fallback = { heuristic: 'first-action' };
  }
  return { format: 'godot-rl', manifest: { name, kind: 'policy', format: 'godot-rl', inputs, outputs, policy } };
}

const DECODING_NOTES: Record<GodotDecoding, string> = {
  argmax:
    'of 2025-05 on (argmax per discrete action, continuous values clamped to [-1, 1], log-std skipped unless the model outputs means only)',
  'argmax-from-zero':
    'of 2024-04 to 2025-05 (argmax per discrete action starting from 0: with no logit above 0 the first action wins; continuous values clamped to [-1, 1])',
  round: 'of 2023-04 to 2024-04 (a discrete action is round(output[index]); continuous values unclamped)',
};

/** Whether the plugin would treat the model as outputting action means only (ONNX_wrapper.gd set_action_means_only). */
function meansOnly(space: GodotActionSpace, width: number): boolean {
  const actions = Object.values(space);
  return actions.every((a) => a.action_type === 'continuous') && actions.reduce((s, a) => s + a.size, 0) === width;
}

/** How many values per row the plugin's walk over the action space reads. */
function readWidth(space: GodotActionSpace, decoding: GodotDecoding, width: number): number {
  const means = decoding === 'round' || meansOnly(space, width);
  return Object.values(space).reduce((s, a) => s + (a.action_type === 'continuous' && !means ? 2 * a.size : a.size), 0);
}

function decodeSpace(
  model: string,
  space: GodotActionSpace,
  decoding: GodotDecoding,
  width: number,
): Policy['actions'] {
  const need = readWidth(space, decoding, width);
  if (need > width) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: the action space reads ${need} values per agent (${Object.entries(space)
        .map(
          ([k, a]) =>
            `${k}: ${a.size}${a.action_type === 'continuous' && decoding !== 'round' ? ' means + ' + a.size + ' log-std' : ''}`,
        )
        .join(', ')}) but "output" has ${width}; check it against the game's get_action_space()`,
    );
  }
  const means = decoding === 'round' || meansOnly(space, width);
  const branches: string[][] = [];
  const offsets: number[] = [];
  const names: string[] = [];
  const columns: number[] = [];
  let index = 0;
  for (const [key, a] of Object.entries(space)) {
    if (a.action_type === 'discrete') {
      branches.push(Array.from({ length: a.size }, (_, i) => `${key}_${i}`));
      offsets.push(index);
      index += a.size;
    } else {
      for (let i = 0; i < a.size; i++) {
        names.push(a.size === 1 ? key : `${key}_${i}`);
        columns.push(index + i);
      }
      index += means ? a.size : 2 * a.size;
    }
  }
  const actions: Policy['actions'] = {};
  if (branches.length > 0) {
    actions.discrete = {
      branches,
      output: 'output',
      encoding: decoding === 'round' ? 'round' : 'logits',
      offsets,
      ...(decoding === 'argmax-from-zero' ? { minScore: 0 } : {}),
    };
  }
  if (names.length > 0) {
    actions.continuous = {
      names,
      output: 'output',
      columns,
      ...(decoding === 'round' ? {} : { low: names.map(() => -1), high: names.map(() => 1) }),
    };
  }
  return actions;
}
