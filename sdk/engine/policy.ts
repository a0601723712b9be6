/**
 * Runs a policy version on encoded observation rows and decodes its outputs into
 * decisions: native Playmind logits, ML-Agents (int64 deterministic actions,
 * continuous actions, masks, recurrent memory), Godot RL Agents (`output`).
 */
import type { PolicyManifest, TensorSpec } from '../contract/manifest.js';
import { arrayTypeOf, float16ToFloat32, float32ToFloat16 } from '../contract/tensors.js';
import type { Tensor } from './backend.js';
import type { InferenceEngine, RunResult, RunnableVersion } from './inference-engine.js';
import type { ErrorCodeValue } from '../protocol.js';

/** What a policy decided for one agent. */
export interface Decision {
  /** The chosen discrete action's name (first branch). */
  action?: string;
  /** The chosen discrete action's index (first branch). */
  index?: number;
  /** Every discrete branch's index (ML-Agents multi-branch). */
  indices?: number[];
  /** Continuous actions (ML-Agents continuous, Godot RL `output`). */
  values?: Float32Array;
  /** Action probabilities (first branch), where the model gives them. */
  probabilities?: Float32Array;
  /**
   * The actions were sampled from the policy's distribution (the model has no deterministic
   * output): the same observation can get different actions.
   */
  sampled?: true;
  /** `name@version` that decided, or `name@fallback:<heuristic>`. */
  model: string;
  /** Which route answered. */
  servedBy: 'local' | 'remote' | 'fallback';
  /** For `servedBy: 'fallback'`: the error code that made the fallback answer (e.g. `overloaded`). */
  reason?: ErrorCodeValue;
}

/** Recurrent state kept per agent id between decisions. */
export class AgentMemory {
  private readonly states = new Map<string, { model: string; state: Float32Array }>();

  /** The state of an agent for a model, or undefined. */
  get(agent: string, model: string, size: number): Float32Array | undefined {
    const s = this.states.get(agent);
    return s && s.model === model && s.state.length === size ? s.state : undefined;
  }

  set(agent: string, model: string, state: Float32Array): void {
    this.states.set(agent, { model, state });
  }

  /** Forgets an agent (its next decision starts from zero state, as at an episode start). */
  reset(agent?: string): void {
    if (agent === undefined) this.states.clear();
    else this.states.delete(agent);
  }

  get size(): number {
    return this.states.size;
  }
}

/** A policy version as the runner needs it. */
export interface PolicyVersion extends RunnableVersion {
  readonly manifest: PolicyManifest;
}

/** Encoded inputs of one decide call. */
export interface PolicyBatch {
  /** n × features, normalised. */
  rows: Float32Array;
  n: number;
  /** n × actions (1 = allowed), if the caller gave masks. */
  masks?: Float32Array;
  /** Agent ids, to carry recurrent state. */
  agentIds?: readonly string[];
  deadlineMs?: number;
  /** Scheduling priority, passed to the engine. @default 'normal' */
  priority?: Priority;
}

/** Scheduling priority of a call: `high` for a game loop's own decisions. */
export type Priority = 'high' | 'normal' | 'low';

/**
 * Runs a decide call on one version through the engine and decodes the decisions.
 */
export function runPolicy(
  engine: InferenceEngine,
  version: PolicyVersion,
  batch: PolicyBatch,
  memory?: AgentMemory,
): Promise<Decision[]> {
  const m = version.manifest;
  const p = m.policy;
  const plan = planOf(m);
  const specs = plan.specs;
  const feeds: Record<string, Tensor> = {};
  const { n } = batch;
  // Observation inputs: split each row across the inputs in order (one input: the rows as they are).
  let offset = 0;
  const width = p.observation.features.length;
  for (let i = 0; i < plan.observation.length; i++) {
    const { name, spec, width: w } = plan.observation[i]!;
    let data: Float32Array;
    if (plan.observation.length === 1) data = batch.rows.length === n * w ? batch.rows : batch.rows.slice(0, n * w);
    else {
      data = new Float32Array(n * w);
      for (let r = 0; r < n; r++) data.set(batch.rows.subarray(r * width + offset, r * width + offset + w), r * w);
    }
    const dims = spec.shape.length === 2 ? [n, w] : dimsFor(spec, n);
    feeds[name] =
      spec.dtype === 'float16'
        ? { type: 'float16', data: float32ToFloat16(data), dims }
        : { type: 'float32', data, dims };
    offset += w;
  }
  if (p.mask) {
    const spec = specs.get(p.mask.input)!;
    const w = perRow(spec);
    const data = batch.masks && batch.masks.length === n * w ? batch.masks : new Float32Array(n * w).fill(1);
    feeds[p.mask.input] =
      spec.dtype === 'float16'
        ? { type: 'float16', data: float32ToFloat16(data), dims: dimsFor(spec, n) }
        : { type: 'float32', data, dims: dimsFor(spec, n) };
  }
  if (p.recurrent) {
    const spec = specs.get(p.recurrent.input)!;
    const size = p.recurrent.size;
    const data = new Float32Array(n * size);
    if (memory && batch.agentIds) {
      for (let r = 0; r < n; r++) {
        const s = memory.get(batch.agentIds[r]!, m.name, size);
        if (s) data.set(s, r * size);
      }
    }
    feeds[p.recurrent.input] = { type: 'float32', data, dims: dimsFor(spec, n) };
  }
  for (const [name, value] of plan.constants) {
    const spec = specs.get(name)!;
    const dims = dimsFor(spec, n);
    const size = dims.reduce((a, b) => a * b, 1);
    const C = arrayTypeOf(spec.dtype);
    const data = new C(size);
    if (value !== 0) (data as { fill(v: unknown): unknown }).fill(spec.dtype.includes('int64') ? BigInt(value) : value);
    feeds[name] = { type: spec.dtype, data, dims };
  }
  return engine
    .run(version, feeds, {
      deadlineMs: batch.deadlineMs,
      fetches: plan.fetches,
      batchKey: plan.batchKey,
      priority: batch.priority,
    })
    .then((result) => decodeResult(m, batch, result, memory));
}

/** Decodes a run's result straight from the batch's outputs (no per-request copies), carrying recurrent state. */
function decodeResult(m: PolicyManifest, batch: PolicyBatch, result: RunResult, memory?: AgentMemory): Decision[] {
  const p = m.policy;
  const { n } = batch;
  const outputs = result.batchOutputs;
  const { rowOffset, batchRows } = result;
  if (p.recurrent && memory && batch.agentIds) {
    const out = outputs[p.recurrent.output];
    if (out) {
      const size = p.recurrent.size;
      const data = out.data as Float32Array;
      const first = out.dims[0] === batchRows ? rowOffset : 0;
      for (let r = 0; r < n && (first + r + 1) * size <= data.length; r++) {
        memory.set(batch.agentIds[r]!, m.name, data.slice((first + r) * size, (first + r + 1) * size));
      }
    }
  }
  return decodeDecisions(m, outputs, n, batch.masks, result.servedBy, rowOffset, batchRows);
}

interface PolicyPlan {
  specs: Map<string, TensorSpec>;
  /** Observation inputs in order, with their width per row. */
  observation: { name: string; spec: TensorSpec; width: number }[];
  constants: [string, number][];
  fetches: string[];
  /** Every call on this manifest feeds the same inputs with the same row shapes: one batch queue. */
  batchKey: string;
}
const plans = new WeakMap<PolicyManifest, PolicyPlan>();

/** What runPolicy derives from a manifest once, not on every call. */
function planOf(m: PolicyManifest): PolicyPlan {
  let plan = plans.get(m);
  if (!plan) {
    const fetches = policyFetches(m);
    const specs = new Map(m.inputs.map((s) => [s.name, s]));
    plan = {
      specs,
      observation: m.policy.observation.inputs.map((name) => ({
        name,
        spec: specs.get(name)!,
        width: perRow(specs.get(name)!),
      })),
      constants: Object.entries(m.policy.constants ?? {}),
      fetches,
      batchKey: `policy:${fetches.join(',')}`,
    };
    plans.set(m, plan);
  }
  return plan;
}

/** The outputs a decision needs (nothing sampled that is not used). */
export function policyFetches(m: PolicyManifest): string[] {
  const p = m.policy;
  const f = new Set<string>();
  if (p.actions.discrete) {
    f.add(p.actions.discrete.output);
    if (p.actions.discrete.probabilitiesOutput) f.add(p.actions.discrete.probabilitiesOutput);
  }
  if (p.actions.continuous) f.add(p.actions.continuous.output);
  if (p.recurrent) f.add(p.recurrent.output);
  return [...f];
}

/** Decodes a batch of outputs into decisions. */
export function decodeDecisions(
  m: PolicyManifest,
  outputs: Record<string, Tensor>,
  n: number,
  masks: Float32Array | undefined,
  servedBy: string,
  rowOffset = 0,
  batchRows = n,
): Decision[] {
  const p = m.policy;
  const decisions: Decision[] = [];
  const disc = p.actions.discrete;
  const cont = p.actions.continuous;
  const sampled = !!(disc?.sampled || cont?.sampled);
  const total = disc ? disc.branches.reduce((s, b) => s + b.length, 0) : 0;
  const offsets = disc ? (disc.offsets ?? branchStarts(disc)) : [];
  // Outputs may be the whole batch this request ran in: its rows start at rowOffset.
  const first = (t: Tensor) => (t.dims[0] === batchRows ? rowOffset : 0);
  const discOut = disc ? outputs[disc.output]! : undefined;
  const discData = discOut ? numbers(discOut) : undefined;
  const discWidth = discOut ? rowWidthOf(discOut) : 0;
  const contOut = cont ? outputs[cont.output]! : undefined;
  const contData = contOut ? (numbers(contOut) as Float32Array | ArrayLike<number>) : undefined;
  const contWidth = contOut ? rowWidthOf(contOut) : 0;
  for (let r = 0; r < n; r++) {
    const d: Decision = { model: servedBy, servedBy: 'local' };
    if (disc && discOut && discData) {
      const row = (first(discOut) + r) * discWidth;
      const indices: number[] = [];
      if (disc.encoding === 'index' || disc.encoding === 'round') {
        for (let b = 0; b < disc.branches.length; b++) {
          const x = Number(discData[row + offsets[b]!]);
          // ML-Agents' float outputs hold whole numbers; GDScript's round() rounds half away from zero.
          indices.push(Number.isInteger(x) ? x : Math.sign(x) * Math.round(Math.abs(x)));
        }
        const prOut = disc.probabilitiesOutput ? outputs[disc.probabilitiesOutput] : undefined;
        if (prOut) {
          const pr = numbers(prOut) as Float32Array;
          const w = rowWidthOf(prOut);
          const pRow = first(prOut) + r;
          d.probabilities = softmaxIfLogits(
            Float32Array.from(pr.subarray(pRow * w, pRow * w + disc.branches[0]!.length)),
          );
        }
      } else {
        const scores = discData as Float32Array;
        const floor = disc.minScore ?? -Infinity;
        let base = 0;
        for (let b = 0; b < disc.branches.length; b++) {
          const size = disc.branches[b]!.length;
          const at = row + offsets[b]!;
          let best = -1;
          let bestScore = floor;
          for (let a = 0; a < size; a++) {
            if (masks && masks[r * total + base + a] === 0) continue;
            const s = scores[at + a]!;
            if (s > bestScore || (best < 0 && floor === -Infinity)) {
              best = a;
              bestScore = s;
            }
          }
          indices.push(best < 0 ? 0 : best);
          if (b === 0) {
            d.probabilities =
              disc.encoding === 'logits'
                ? softmaxAt(scores, at, size, masks, r * total)
                : Float32Array.from(scores.subarray(at, at + size));
          }
          base += size;
        }
      }
      d.indices = indices;
      d.index = indices[0];
      const name = disc.branches[0]![indices[0]!];
      if (name !== undefined) d.action = name;
    }
    if (cont && contOut && contData) {
      const w = cont.names.length;
      const row = (first(contOut) + r) * contWidth;
      const values = new Float32Array(w);
      for (let i = 0; i < w; i++) values[i] = contData[row + (cont.columns ? cont.columns[i]! : i)]!;
      if (cont.low && cont.high)
        for (let i = 0; i < w; i++) values[i] = Math.min(cont.high[i]!, Math.max(cont.low[i]!, values[i]!));
      d.values = values;
    }
    if (sampled) d.sampled = true;
    decisions.push(d);
  }
  return decisions;
}

/** Where each branch starts in an output row when branches sit back to back. */
function branchStarts(disc: NonNullable<PolicyManifest['policy']['actions']['discrete']>): number[] {
  const starts: number[] = [];
  let at = 0;
  for (const b of disc.branches) {
    starts.push(at);
    at += disc.encoding === 'index' || disc.encoding === 'round' ? 1 : b.length;
  }
  return starts;
}

/** Values per row of an output (all of it when it has no batch dimension). */
function rowWidthOf(t: Tensor): number {
  return t.dims.length === 0 ? 1 : t.data.length / Math.max(1, t.dims[0]!);
}

/** An output's values as numbers: float32 as it is, float16 converted, integers as they are. */
function numbers(t: Tensor): Float32Array | ArrayLike<number | bigint> {
  if (t.type === 'float16') return float16ToFloat32(t.data as Uint16Array);
  return t.data as Float32Array | ArrayLike<number | bigint>;
}

/** Softmax of `len` scores from `at` (masked-out actions get 0), without views on the inputs. */
function softmaxAt(
  scores: ArrayLike<number>,
  at: number,
  len: number,
  mask: Float32Array | undefined,
  maskAt: number,
): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < len; i++) if ((!mask || mask[maskAt + i]) && scores[at + i]! > max) max = scores[at + i]!;
  const out = new Float32Array(len);
  let sum = 0;
  for (let i = 0; i < len; i++) {
    const e = mask && !mask[maskAt + i] ? 0 : Math.exp(scores[at + i]! - max);
    out[i] = e;
    sum += e;
  }
  if (sum > 0) for (let i = 0; i < len; i++) out[i]! /= sum;
  return out;
}

function softmax(row: Float32Array, mask?: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if ((!mask || mask[i]) && row[i]! > max) max = row[i]!;
  const out = new Float32Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const e = mask && !mask[i] ? 0 : Math.exp(row[i]! - max);
    out[i] = e;
    sum += e;
  }
  if (sum > 0) for (let i = 0; i < row.length; i++) out[i]! /= sum;
  return out;
}

function softmaxIfLogits(row: Float32Array): Float32Array {
  const sum = row.reduce((a, b) => a + b, 0);
  const probs = row.every((x) => x >= 0 && x <= 1) && Math.abs(sum - 1) < 1e-3;
  return probs ? row : softmax(row);
}

function perRow(spec: TensorSpec): number {
  return spec.shape.slice(1).reduce((a, d) => a * (d < 0 ? 1 : d), 1);
}

function dimsFor(spec: TensorSpec, n: number): number[] {
  return spec.shape.map((d, i) => (i === 0 ? n : d < 0 ? 1 : d));
}
