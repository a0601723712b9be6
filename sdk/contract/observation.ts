/**
 * Observations against a policy's contract: objects keyed by feature name, or
 * Float32Array rows, become one flat float32 batch, validated and normalised.
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { PolicyContract } from './manifest.js';

/** One observation: values keyed by feature name, or a row in feature order. */
export type Observation = Record<string, number> | Float32Array | readonly number[];

/** One action mask: 1/0 per action (branches concatenated), or allowed-flags keyed by action name. */
export type ActionMask = ArrayLike<number> | Record<string, boolean>;

/**
 * Encodes a batch of observations into rows (n × features), applying each feature's
 * normalisation.
 * @throws PlaymindError `invalid_observation` naming the row and the feature
 */
export function encodeObservations(
  model: string,
  policy: PolicyContract,
  observations: readonly Observation[],
): Float32Array {
  if (!Array.isArray(observations)) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: 'observations' must be an array (one entry per agent)`,
    );
  }
  const features = policy.observation.features;
  const width = features.length;
  let plain = plainCache.get(features);
  if (plain === undefined) {
    plain = !features.some((f) => f.mean !== undefined || f.std !== undefined);
    plainCache.set(features, plain);
  }
  const out = new Float32Array(observations.length * width);
  for (let r = 0; r < observations.length; r++) {
    const obs = observations[r];
    if (plain && obs instanceof Float32Array && obs.length === width) {
      // The common case: a row in feature order with no normalisation — copy, then check.
      out.set(obs, r * width);
      // x * 0 is 0 for every finite x and NaN for NaN and ±Infinity: one pass finds if any is bad.
      let probe = 0;
      for (let i = 0; i < width; i++) probe += obs[i]! * 0;
      if (probe !== 0) {
        const i = obs.findIndex((x) => !Number.isFinite(x));
        throw invalid(
          model,
          r,
          `feature "${features[i]!.name}" (index ${i}) is ${String(obs[i])}, not a finite number`,
          features[i]!.name,
        );
      }
      continue;
    }
    encodeOne(model, features, obs, r, out);
  }
  return out;
}

/** Whether a feature list has no normalisation (computed once per manifest). */
const plainCache = new WeakMap<PolicyContract['observation']['features'], boolean>();

function invalid(model: string, r: number, why: string, feature?: string): PlaymindError {
  return new PlaymindError(ErrorCode.INVALID_OBSERVATION, `${model}: observation ${r}: ${why}`, {
    details: { model, row: r, feature },
  });
}

/** Encodes one observation in any accepted form, validating every value. */
function encodeOne(
  model: string,
  features: PolicyContract['observation']['features'],
  obs: Observation | undefined,
  r: number,
  out: Float32Array,
): void {
  const width = features.length;
  const bad = (why: string, feature?: string) => invalid(model, r, why, feature);
  if (obs instanceof Float32Array || Array.isArray(obs)) {
    const row = obs as ArrayLike<number>;
    if (row.length !== width)
      throw bad(
        `has ${row.length} values, the model takes ${width} (${features
          .slice(0, 4)
          .map((f) => f.name)
          .join(', ')}${width > 4 ? ', ...' : ''})`,
      );
    for (let i = 0; i < width; i++) {
      const x = row[i]!;
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw bad(
          `feature "${features[i]!.name}" (index ${i}) is ${String(x)}, not a finite number`,
          features[i]!.name,
        );
      out[r * width + i] = normalise(x, features[i]!);
    }
    return;
  }
  if (!obs || typeof obs !== 'object')
    throw bad(
      `must be an object keyed by feature name or a Float32Array row, got ${obs === null ? 'null' : typeof obs}`,
    );
  const rec = obs as Record<string, unknown>;
  for (let i = 0; i < width; i++) {
    const f = features[i]!;
    const x = rec[f.name];
    if (x === undefined) throw bad(`feature "${f.name}" is missing`, f.name);
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw bad(`feature "${f.name}" is ${String(x)}, not a finite number`, f.name);
    out[r * width + i] = normalise(x, f);
  }
  if (Object.keys(rec).length > width) {
    const known = new Set(features.map((f) => f.name));
    const extra = Object.keys(rec).find((k) => !known.has(k));
    if (extra !== undefined) throw bad(`unknown feature "${extra}"`, extra);
  }
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
 * @throws PlaymindError `unknown_action` or `invalid_argument`
 */
export function encodeMasks(
  model: string,
  policy: PolicyContract,
  masks: readonly ActionMask[],
  rows: number,
): Float32Array {
  const names = allActionNames(policy);
  if (names.length === 0)
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${model}: action masks given but the model has no discrete actions`,
    );
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
        if (i < 0)
          throw new PlaymindError(
            ErrorCode.UNKNOWN_ACTION,
            `${model}: mask ${r}: unknown action "${name}" (actions: ${names.join(', ')})`,
            { details: { model, row: r, action: name } },
          );
        out[r * w + i] = allowed ? 1 : 0;
      }
      return;
    }
    const a = m as ArrayLike<number>;
    if (!a || a.length !== w)
      throw new PlaymindError(
        ErrorCode.INVALID_ARGUMENT,
        `${model}: mask ${r} has ${a?.length ?? 0} values, the model has ${w} actions`,
        { details: { model, row: r } },
      );
    for (let i = 0; i < w; i++) out[r * w + i] = a[i] ? 1 : 0;
  });
  return out;
}
