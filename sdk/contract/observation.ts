/**
 * Observations against a policy's contract: objects keyed by feature name, Float32Array
 * rows, or objects keyed by observation input ("per sensor") become one flat float32
 * batch, validated and normalised.
 *
 * A row is the concatenation of the policy's observation inputs in manifest order, each
 * flattened row-major in the input's own layout (ML-Agents visual inputs are channels
 * first, `[C, H, W]`). Per-sensor observations are written into the same row, so every
 * route, the fallback heuristics and the recorded decisions see one form.
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import { closestName } from '../util/closest-name.js';
import type { PolicyContract, PolicyManifest, TensorSpec } from './manifest.js';

/**
 * The values of one sensor (one observation input): a flat row in the input's layout, or
 * arrays nested as the input's shape without the batch dimension (e.g. `number[20][23]`
 * for an input `[batch, 20, 23]`; `Float32Array`s may stand for the innermost rows).
 */
export type SensorValues = Float32Array | readonly (number | SensorValues)[];

/**
 * One observation: values keyed by feature name, a row in feature order, or values keyed
 * by observation input name (per sensor, e.g. `{ obs_0: Float32Array(105), obs_1: [...] }`).
 */
export type Observation = Record<string, number> | Float32Array | readonly number[] | Record<string, SensorValues>;

/** One action mask: 1/0 per action (branches concatenated), or allowed-flags keyed by action name. */
export type ActionMask = ArrayLike<number> | Record<string, boolean>;

type Features = PolicyContract['observation']['features'];

/** Where one observation input sits in a row. */
interface SensorSlot {
  name: string;
  /** The input's dims after the batch dimension (dynamic ones count 1). */
  dims: number[];
  width: number;
  offset: number;
}

/** What encoding needs of a policy, derived once per manifest. */
interface Layout {
  features: Features;
  width: number;
  /** Whether no feature is normalised (rows are copied as they are). */
  plain: boolean;
  /** The observation inputs, when the input specs are known (a manifest was given). */
  sensors?: SensorSlot[];
  featureIndex?: Map<string, number>;
}

const layouts = new WeakMap<object, Layout>();

function layoutOf(contract: PolicyManifest | PolicyContract): Layout {
  let layout = layouts.get(contract);
  if (layout) return layout;
  const isManifest = 'kind' in contract;
  const policy = isManifest ? contract.policy : contract;
  const features = policy.observation.features;
  layout = {
    features,
    width: features.length,
    plain: !features.some((f) => f.mean !== undefined || f.std !== undefined),
  };
  if (isManifest) {
    const specs = new Map(contract.inputs.map((s) => [s.name, s]));
    let offset = 0;
    layout.sensors = policy.observation.inputs.map((name) => {
      const dims = sensorDims(specs.get(name));
      const width = dims.reduce((a, b) => a * b, 1);
      const slot = { name, dims, width, offset };
      offset += width;
      return slot;
    });
  }
  layouts.set(contract, layout);
  return layout;
}

function sensorDims(spec: TensorSpec | undefined): number[] {
  return (spec?.shape ?? []).slice(1).map((d) => (d < 0 ? 1 : d));
}

/**
 * Encodes a batch of observations into rows (n × features), applying each feature's
 * normalisation.
 * @param model - the model's name, for messages
 * @param contract - the policy's manifest (per-sensor observations need its input shapes), or its policy section
 * @param observations - one per agent
 * @throws PlaymindError `invalid_observation` naming the row and the feature or sensor
 */
export function encodeObservations(
  model: string,
  contract: PolicyManifest | PolicyContract,
  observations: readonly Observation[],
  alloc: (n: number) => Float32Array = newFloats,
): Float32Array {
  if (!Array.isArray(observations)) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: 'observations' must be an array (one entry per agent)`,
    );
  }
  const layout = layoutOf(contract);
  const { width, features } = layout;
  const out = alloc(observations.length * width);
  for (let r = 0; r < observations.length; r++) {
    const obs = observations[r];
    if (layout.plain && obs instanceof Float32Array && obs.length === width) {
      // The common case: a row in feature order with no normalisation — copy, then check.
      out.set(obs, r * width);
      // x * 0 is 0 for every finite x and NaN for NaN and ±Infinity: one pass finds if any is bad.
      let probe = 0;
      for (let i = 0; i < width; i++) probe += obs[i]! * 0;
      if (probe !== 0) {
        const i = obs.findIndex((x) => !Number.isFinite(x));
        throw invalid(model, r, `feature "${features[i]!.name}" (index ${i}) is ${describe(obs[i])}`, {
          feature: features[i]!.name,
        });
      }
      continue;
    }
    encodeOne(model, layout, obs, r, out);
  }
  return out;
}

/**
 * Encodes packed rows (one Float32Array of n × features, feature order) into a new
 * batch, applying each feature's normalisation.
 * @throws PlaymindError `invalid_observation` naming the row and the feature
 */
export function encodeRows(
  model: string,
  contract: PolicyManifest | PolicyContract,
  packed: Float32Array,
  alloc: (n: number) => Float32Array = newFloats,
): Float32Array {
  const { width, features, plain } = layoutOf(contract);
  if (packed.length % width !== 0) {
    throw new PlaymindError(
      ErrorCode.INVALID_OBSERVATION,
      `${model}: packed rows have ${packed.length} values, not a multiple of the ${width} features`,
      { details: { model } },
    );
  }
  const out = alloc(packed.length);
  out.set(packed);
  let probe = 0;
  for (let i = 0; i < out.length; i++) probe += out[i]! * 0;
  if (probe !== 0) {
    const i = out.findIndex((x) => !Number.isFinite(x));
    const f = features[i % width]!.name;
    throw invalid(model, Math.floor(i / width), `feature "${f}" (index ${i % width}) is ${describe(out[i])}`, {
      feature: f,
    });
  }
  if (!plain) {
    for (let i = 0; i < out.length; i++) {
      const f = features[i % width]!;
      out[i] = (out[i]! - (f.mean ?? 0)) / (f.std ?? 1);
    }
  }
  return out;
}

const newFloats = (n: number): Float32Array => new Float32Array(n);

/**
 * Hands out zeroed Float32Array views on shared chunks, in order, never reusing a region:
 * one buffer allocation per chunk instead of one per call (a row of more than 16 floats
 * is an off-heap allocation in V8), and no caller ever sees another's data change. A
 * chunk is freed once no view on it is left.
 */
export class FloatSlab {
  private chunk = new Float32Array(0);
  private used = 0;

  /** @param chunkSize - floats per chunk @default 16384 (64 KiB) */
  constructor(private readonly chunkSize = 16_384) {}

  /** A zeroed view of `n` floats (its own buffer when `n` is more than a quarter chunk). */
  readonly take = (n: number): Float32Array => {
    if (n > this.chunkSize >> 2) return new Float32Array(n);
    if (this.used + n > this.chunk.length) {
      this.chunk = new Float32Array(this.chunkSize);
      this.used = 0;
    }
    const view = this.chunk.subarray(this.used, this.used + n);
    this.used += n;
    return view;
  };
}

function invalid(model: string, r: number, why: string, details: Record<string, unknown> = {}): PlaymindError {
  return new PlaymindError(ErrorCode.INVALID_OBSERVATION, `${model}: observation ${r}: ${why}`, {
    details: { model, row: r, ...details },
  });
}

/** What a value is, for a message: `NaN, not a finite number`, `a string ("3"), not a number`. */
function describe(x: unknown): string {
  return typeof x === 'number' ? `${String(x)}, not a finite number` : `${typeName(x)}, not a number`;
}

/** A value's type, for a message: `null`, `a string ("3")`, `an array of 4`. */
function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x === 'string') return `a string (${JSON.stringify(x.length > 20 ? `${x.slice(0, 20)}…` : x)})`;
  if (typeof x === 'boolean' || typeof x === 'number') return `a ${typeof x} (${String(x)})`;
  if (typeof x === 'bigint') return `a bigint (${x}n)`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

/** Encodes one observation in any accepted form, validating every value. */
function encodeOne(model: string, layout: Layout, obs: Observation | undefined, r: number, out: Float32Array): void {
  const { width, features } = layout;
  const base = r * width;
  const bad = (why: string, details?: Record<string, unknown>) => invalid(model, r, why, details);
  if (obs instanceof Float32Array || Array.isArray(obs)) {
    const row = obs as ArrayLike<unknown>;
    if (row.length !== width)
      throw bad(
        `has ${row.length} values, the model takes ${width} (${features
          .slice(0, 4)
          .map((f) => f.name)
          .join(
            ', ',
          )}${width > 4 ? ', ...' : ''})${layout.sensors && layout.sensors.length > 1 ? `: ${sensorList(layout.sensors)} concatenated, or an object keyed by sensor` : ''}`,
      );
    for (let i = 0; i < width; i++) {
      const x = row[i];
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw bad(`feature "${features[i]!.name}" (index ${i}) is ${describe(x)}`, { feature: features[i]!.name });
      out[base + i] = normalise(x, features[i]!);
    }
    return;
  }
  if (!obs || typeof obs !== 'object')
    throw bad(
      `must be an object keyed by feature name or a Float32Array row, got ${obs === null ? 'null' : typeof obs}`,
    );
  const rec = obs as Record<string, unknown>;
  if (layout.sensors && isPerSensor(rec, layout.sensors)) {
    encodeSensors(layout, layout.sensors, rec, base, out, bad);
    return;
  }
  for (let i = 0; i < width; i++) {
    const f = features[i]!;
    const x = rec[f.name];
    if (x === undefined) throw missingFeature(f.name, rec, layout, bad);
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw bad(`feature "${f.name}" is ${describe(x)}`, { feature: f.name });
    out[base + i] = normalise(x, f);
  }
  if (Object.keys(rec).length > width) {
    const known = featureIndex(layout);
    const extra = Object.keys(rec).find((k) => !known.has(k));
    if (extra !== undefined) throw bad(`unknown feature "${extra}"`, { feature: extra });
  }
}

function featureIndex(layout: Layout): Map<string, number> {
  if (!layout.featureIndex) layout.featureIndex = new Map(layout.features.map((f, i) => [f.name, i]));
  return layout.featureIndex;
}

/** The error for a missing feature, naming the unknown key beside it when one was given instead ("did you mean"). */
function missingFeature(
  name: string,
  rec: Record<string, unknown>,
  layout: Layout,
  bad: (why: string, details?: Record<string, unknown>) => PlaymindError,
): PlaymindError {
  const known = featureIndex(layout);
  const unknown = Object.keys(rec).filter((k) => !known.has(k));
  if (unknown.length === 0) return bad(`feature "${name}" is missing`, { feature: name });
  const given = closestName(name, unknown);
  if (given !== undefined) {
    return bad(`feature "${name}" is missing and "${given}" is not a feature of this model (did you mean "${name}"?)`, {
      feature: name,
      unknown: given,
    });
  }
  const list = unknown.slice(0, 3).map((k) => `"${k}"`);
  return bad(
    `feature "${name}" is missing; unknown key${unknown.length > 1 ? 's' : ''} given: ${list.join(', ')}${unknown.length > 3 ? ', ...' : ''}`,
    { feature: name, unknown: unknown[0] },
  );
}

/** Whether an object holds values per observation input (any input name keyed to an array) rather than per feature. */
function isPerSensor(rec: Record<string, unknown>, sensors: readonly SensorSlot[]): boolean {
  for (const s of sensors) {
    const v = rec[s.name];
    if (v !== undefined && typeof v === 'object') return true;
  }
  return false;
}

function sensorList(sensors: readonly SensorSlot[]): string {
  return sensors.map((s) => `${s.name} [${s.dims.join(', ')}]`).join(', ');
}

/** Writes per-sensor values into the row at `base`. */
function encodeSensors(
  layout: Layout,
  sensors: readonly SensorSlot[],
  rec: Record<string, unknown>,
  base: number,
  out: Float32Array,
  bad: (why: string, details?: Record<string, unknown>) => PlaymindError,
): void {
  for (const s of sensors) {
    const v = rec[s.name];
    if (v === undefined || v === null || typeof v !== 'object') {
      throw bad(
        v === undefined
          ? `sensor "${s.name}" is missing (the model takes ${sensorList(sensors)})`
          : `sensor "${s.name}" is ${typeName(v)}, not ${s.width} numbers (shape [${s.dims.join(', ')}])`,
        { sensor: s.name },
      );
    }
    writeSensor(s, v, 0, base + s.offset, base + s.offset, out, [], layout.features, bad);
    if (!layout.plain) {
      for (let i = 0; i < s.width; i++) {
        const at = base + s.offset + i;
        out[at] = normalise(out[at]!, layout.features[s.offset + i]!);
      }
    }
  }
  // Every sensor is present: more keys than sensors means an unknown one.
  const keys = Object.keys(rec);
  if (keys.length === sensors.length) return;
  const names = new Set(sensors.map((s) => s.name));
  for (const k of keys) {
    if (names.has(k)) continue;
    const like = closestName(k, names);
    throw bad(
      `unknown sensor "${k}"${like ? ` (did you mean "${like}"?)` : ''}; the model takes ${sensorList(sensors)}`,
      {
        sensor: k,
      },
    );
  }
}

/**
 * Copies a sensor's values (flat, or nested from dimension `level` on) into `out` at `at`,
 * checking the shape and that every value is a finite number. `path` holds the indices of
 * the nesting so far (for messages only: they are built when something is wrong).
 * @returns the number of values written
 */
function writeSensor(
  s: SensorSlot,
  value: unknown,
  level: number,
  at: number,
  start: number,
  out: Float32Array,
  path: number[],
  features: Features,
  bad: (why: string, details?: Record<string, unknown>) => PlaymindError,
): number {
  let size = 1;
  for (let d = level; d < s.dims.length; d++) size *= s.dims[d]!;
  const arr = value as ArrayLike<unknown>;
  const flat =
    (ArrayBuffer.isView(value) && !(value instanceof DataView)) ||
    (Array.isArray(value) && (value.length === 0 || typeof value[0] !== 'object'));
  if (flat) {
    if (arr.length !== size) {
      throw bad(
        `${sensorAt(s, path)} has ${arr.length} values, it takes ${size}${level < s.dims.length - 1 ? ` (shape ${shapeFrom(s, level)}, flat or nested)` : ''}`,
        { sensor: s.name },
      );
    }
    for (let i = 0; i < size; i++) {
      const x = arr[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        const index = at - start + i;
        const feature = features[s.offset + index]?.name;
        throw bad(
          `${sensorAt(s, path)} value ${i}${path.length > 0 || s.dims.length > 1 ? ` (index ${index} of the sensor, feature "${feature}")` : ` (feature "${feature}")`} is ${describe(x)}`,
          { sensor: s.name, index, feature },
        );
      }
      out[at + i] = x;
    }
    return size;
  }
  if (!Array.isArray(value) || level >= s.dims.length) {
    throw bad(
      `${sensorAt(s, path)} must be ${size} numbers${level < s.dims.length ? ` or arrays nested as ${shapeFrom(s, level)}` : ''}`,
      {
        sensor: s.name,
      },
    );
  }
  const n = s.dims[level]!;
  if (value.length !== n) {
    throw bad(
      `${sensorAt(s, path)} has ${value.length} entries at dimension ${level}, shape ${shapeFrom(s, level)} takes ${n}`,
      {
        sensor: s.name,
      },
    );
  }
  const step = size / n;
  for (let i = 0; i < n; i++) {
    path.push(i);
    writeSensor(s, value[i], level + 1, at + i * step, start, out, path, features, bad);
    path.pop();
  }
  return size;
}

/** `sensor "obs_0"[3]`, for messages. */
function sensorAt(s: SensorSlot, path: readonly number[]): string {
  return `sensor "${s.name}"${path.map((i) => `[${i}]`).join('')}`;
}

/** `[20, 23]`: a sensor's shape from dimension `level` on, for messages. */
function shapeFrom(s: SensorSlot, level: number): string {
  return `[${s.dims.slice(level).join(', ')}]`;
}

function normalise(x: number, f: { mean?: number; std?: number }): number {
  return (x - (f.mean ?? 0)) / (f.std ?? 1);
}

/** All action names of a discrete policy, branches concatenated. */
export function allActionNames(policy: PolicyContract): string[] {
  return policy.actions.discrete?.branches.flat() ?? [];
}

/**
 * Encodes per-row action masks (1 = allowed) into one flat float32 batch.
 * @throws PlaymindError `unknown_action` for an action name the model does not have,
 *   `invalid_argument` for a wrong length, a model that cannot apply masks, or a row that
 *   masks every action of a branch (no action would be left to choose)
 */
export function encodeMasks(
  model: string,
  policy: PolicyContract,
  masks: readonly ActionMask[],
  rows: number,
): Float32Array {
  const disc = policy.actions.discrete;
  const names = allActionNames(policy);
  if (!disc || names.length === 0)
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: action masks given but the model has no discrete actions`,
    );
  if ((disc.encoding === 'index' && !policy.mask) || disc.encoding === 'round') {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: action masks given but the model cannot apply them (its "${disc.output}" output holds the chosen ${disc.encoding === 'round' ? 'values' : 'indices'} and it takes no mask input)`,
    );
  }
  if (!Array.isArray(masks) || masks.length !== rows) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: 'masks' must have one entry per observation (${rows}), got ${Array.isArray(masks) ? masks.length : typeof masks}`,
    );
  }
  const w = names.length;
  const out = new Float32Array(rows * w);
  masks.forEach((m, r) => {
    if (m && typeof m === 'object' && !ArrayBuffer.isView(m) && !Array.isArray(m)) {
      out.fill(1, r * w, (r + 1) * w);
      for (const [name, allowed] of Object.entries(m as Record<string, boolean>)) {
        const i = names.indexOf(name);
        if (i < 0) {
          const like = closestName(name, names);
          throw new PlaymindError(
            ErrorCode.UNKNOWN_ACTION,
            `${model}: mask ${r}: unknown action "${name}"${like ? ` (did you mean "${like}"?)` : ''} (actions: ${names.join(', ')})`,
            { details: { model, row: r, action: name } },
          );
        }
        out[r * w + i] = allowed ? 1 : 0;
      }
    } else {
      const a = m as ArrayLike<number>;
      if (!a || a.length !== w)
        throw new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `${model}: mask ${r} has ${a?.length ?? 0} values, the model has ${w} actions`,
          { details: { model, row: r } },
        );
      for (let i = 0; i < w; i++) out[r * w + i] = a[i] ? 1 : 0;
    }
    let base = r * w;
    for (let b = 0; b < disc.branches.length; b++) {
      const branch = disc.branches[b]!;
      let allowed = false;
      for (let a = 0; a < branch.length && !allowed; a++) allowed = out[base + a] !== 0;
      if (!allowed) {
        throw new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `${model}: mask ${r} masks every action${disc.branches.length > 1 ? ` of branch ${b}` : ''} (${branch.join(', ')}): at least one must be allowed`,
          { details: { model, row: r, branch: b } },
        );
      }
      base += branch.length;
    }
  });
  return out;
}

/**
 * Encodes packed masks (one Float32Array of rows × actions, branches concatenated) into a
 * new batch of 1/0.
 * @throws PlaymindError `invalid_argument`
 */
export function encodeMaskRows(
  model: string,
  policy: PolicyContract,
  packed: Float32Array,
  rows: number,
): Float32Array {
  const w = allActionNames(policy).length;
  if (w === 0)
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: action masks given but the model has no discrete actions`,
    );
  if (packed.length !== rows * w)
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: packed 'masks' have ${packed.length} values; ${rows} rows of ${w} actions need ${rows * w}`,
      { details: { model } },
    );
  const out = new Float32Array(packed.length);
  for (let i = 0; i < packed.length; i++) out[i] = packed[i] ? 1 : 0;
  return out;
}
