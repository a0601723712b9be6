/**
 * The guards' brain of an arena: turns one tick's observations into one batched
 * decision of the `npc-guard` model (through the shared engine, which merges
 * concurrent requests of the same version — across every arena room of the
 * process — into one `session.run`), with a deadline, and with the manifest's
 * fallback heuristic when the model cannot answer.
 *
 * A decision never rejects: it resolves with the actions and who decided them,
 * or with `actions: null` and the reason (deadline missed, engine overloaded,
 * model error), in which case the caller keeps the guards' last actions.
 *
 * @module
 */
import type { PolicyManifest } from '../../sdk/contract/manifest.js';
import type { InferenceEngine } from '../../sdk/engine/inference-engine.js';
import { runPolicy, type PolicyVersion } from '../../sdk/engine/policy.js';
import type { ModelRepository, ModelVersion } from '../../sdk/repository/model-repository.js';
import { ErrorCode, PlaymindError, toPlaymindError } from '../../sdk/protocol.js';
import {
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
} from '../sim/index.js';

/** How a decision ended. */
export type DecisionOutcome =
  /** The model decided. */
  | 'model'
  /** The model was unavailable (unknown, not loaded, incompatible): the fallback heuristic decided. */
  | 'fallback'
  /** The deadline passed first: the guards keep their last actions. */
  | 'deadline'
  /** The engine's queue was full: the guards keep their last actions. */
  | 'overloaded'
  /** The model failed to run (a bug or a broken model): the guards keep their last actions. */
  | 'error';

/** One tick's decision for every guard of an arena. */
export interface GuardDecision {
  /** The tick whose state was observed. */
  readonly tick: number;
  /** One `GUARD_ACTIONS` index per guard, or null when no decision could be made in time. */
  readonly actions: Uint8Array | null;
  /** `npc-guard@<version>`, `npc-guard@fallback:<heuristic>`, or '' without actions. */
  readonly model: string;
  readonly outcome: DecisionOutcome;
  /** Milliseconds from the request to its answer. */
  readonly latencyMs: number;
  /** The error behind a `deadline`, `overloaded`, `error` or `fallback` outcome. */
  readonly error?: PlaymindError;
}

/** Options of {@link GuardBrain}. */
export interface GuardBrainOptions {
  repository: ModelRepository;
  engine: InferenceEngine;
  /** The policy's name in the repository. @default 'npc-guard' */
  model?: string;
  /** A decision not answered within this time is dropped. @default 25 */
  deadlineMs?: number;
  /** The heuristic used when the model is unavailable and its manifest names none. @default 'expert-guard' */
  fallbackHeuristic?: string;
}

/** How a version's contract maps onto the arena's features and actions. */
interface Encoding {
  /** True when features and actions are exactly `GUARD_FEATURES` / `GUARD_ACTIONS`, unnormalised: rows and masks pass as they are. */
  identity: boolean;
  /** For each model feature: its column in a `GUARD_FEATURES` row. */
  columns: Int32Array;
  mean: Float32Array;
  std: Float32Array;
  /** For each model action (first branch): its `GUARD_ACTIONS` index. */
  actions: Int32Array;
  /** Width of the model's mask row (all branches). */
  maskWidth: number;
}

/** Why a version cannot drive the guards, or its encoding. */
type EncodingOrProblem = Encoding | { problem: string };

const encodings = new WeakMap<PolicyManifest, EncodingOrProblem>();

/**
 * Works out how rows in `GUARD_FEATURES` order and masks in `GUARD_ACTIONS`
 * order feed a policy manifest (features matched by name, with their
 * normalisation; actions matched by name).
 */
export function guardEncoding(m: PolicyManifest): EncodingOrProblem {
  const cached = encodings.get(m);
  if (cached) return cached;
  const result = computeEncoding(m);
  encodings.set(m, result);
  return result;
}

function computeEncoding(m: PolicyManifest): EncodingOrProblem {
  const p = m.policy;
  const disc = p.actions.discrete;
  if (!disc) return { problem: `${m.name} has no discrete actions` };
  if (p.recurrent) return { problem: `${m.name} is recurrent; the arena does not carry guard memory` };
  const featureIndex = new Map<string, number>(GUARD_FEATURES.map((f, i) => [f, i]));
  const n = p.observation.features.length;
  const columns = new Int32Array(n);
  const mean = new Float32Array(n);
  const std = new Float32Array(n).fill(1);
  let identity = n === GUARD_FEATURE_COUNT;
  for (let j = 0; j < n; j++) {
    const f = p.observation.features[j]!;
    const col = featureIndex.get(f.name);
    if (col === undefined) return { problem: `${m.name} needs feature "${f.name}", which the arena does not observe` };
    columns[j] = col;
    mean[j] = f.mean ?? 0;
    std[j] = f.std ?? 1;
    if (col !== j || mean[j] !== 0 || std[j] !== 1) identity = false;
  }
  const branch = disc.branches[0]!;
  const actionIndex = new Map<string, number>(GUARD_ACTIONS.map((a, i) => [a, i]));
  const actions = new Int32Array(branch.length);
  for (let j = 0; j < branch.length; j++) {
    const a = actionIndex.get(branch[j]!);
    if (a === undefined)
      return { problem: `${m.name} has action "${branch[j]}", which guards cannot do (${GUARD_ACTIONS.join(', ')})` };
    actions[j] = a;
    if (a !== j) identity = false;
  }
  const maskWidth = disc.branches.reduce((s, b) => s + b.length, 0);
  if (branch.length !== GUARD_ACTION_COUNT || maskWidth !== GUARD_ACTION_COUNT) identity = false;
  return { identity, columns, mean, std, actions, maskWidth };
}

/**
 * Encodes rows (`GUARD_FEATURES` order) and masks (`GUARD_ACTIONS` order) for a
 * version.
 *
 * @returns the model's rows and masks (the same arrays when the contract is the arena's own)
 */
export function encodeGuardBatch(
  e: Encoding,
  rows: Float32Array,
  masks: Float32Array,
  n: number,
): { rows: Float32Array; masks: Float32Array } {
  if (e.identity) return { rows, masks };
  const w = e.columns.length;
  const out = new Float32Array(n * w);
  for (let r = 0; r < n; r++) {
    const src = r * GUARD_FEATURE_COUNT;
    const dst = r * w;
    for (let j = 0; j < w; j++) out[dst + j] = (rows[src + e.columns[j]!]! - e.mean[j]!) / e.std[j]!;
  }
  // Masks: the first branch follows the model's action order; other branches are all allowed.
  const mw = e.maskWidth;
  const m = new Float32Array(n * mw).fill(1);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < e.actions.length; j++) m[r * mw + j] = masks[r * GUARD_ACTION_COUNT + e.actions[j]!]!;
  }
  return { rows: out, masks: m };
}

const now = (): number => performance.now();

/**
 * Decides the guards' actions, one batched request per tick.
 *
 * @example
 * const brain = new GuardBrain({ repository, engine });
 * const d = await brain.decide(arena.tick, observeAll(arena), guardActionMasks(arena), arena.guards.length);
 * if (d.actions) arena.step(d.actions, inputs);
 */
export class GuardBrain {
  /** The policy's name in the repository. */
  readonly model: string;
  /** The per-decision deadline, in ms. */
  readonly deadlineMs: number;
  private readonly repository: ModelRepository;
  private readonly engine: InferenceEngine;
  private readonly defaultHeuristic: string;

  /**
   * @param options - repository, engine, model name, deadline
   * @throws TypeError when `repository` or `engine` is missing; RangeError for a bad deadline
   */
  constructor(options: GuardBrainOptions) {
    if (!options || typeof options !== 'object') throw new TypeError(`'options' must be an object`);
    if (!options.repository) throw new TypeError(`'options.repository' must be a ModelRepository`);
    if (!options.engine) throw new TypeError(`'options.engine' must be an InferenceEngine`);
    const deadline = options.deadlineMs ?? 25;
    if (!Number.isFinite(deadline) || deadline <= 0)
      throw new RangeError(`'options.deadlineMs' must be > 0, got ${String(options.deadlineMs)}`);
    this.repository = options.repository;
    this.engine = options.engine;
    this.model = options.model ?? 'npc-guard';
    this.deadlineMs = deadline;
    this.defaultHeuristic = options.fallbackHeuristic ?? 'expert-guard';
  }

  /**
   * Asks for one decision per guard. Never rejects.
   *
   * @param tick - the tick whose state `rows` observed
   * @param rows - n × `GUARD_FEATURE_COUNT` observations, `GUARD_FEATURES` order
   * @param masks - n × `GUARD_ACTION_COUNT` action masks (1 = allowed)
   * @param n - number of guards
   * @returns the decision (see {@link GuardDecision})
   */
  async decide(tick: number, rows: Float32Array, masks: Float32Array, n: number): Promise<GuardDecision> {
    const t0 = now();
    if (n === 0) return { tick, actions: new Uint8Array(0), model: '', outcome: 'model', latencyMs: 0 };
    try {
      return await this.repository.use(this.model, async (v: ModelVersion) => {
        if (v.manifest.kind !== 'policy') {
          throw new PlaymindError(ErrorCode.WRONG_KIND, `model "${this.model}" is a ${v.manifest.kind}, not a policy`, {
            details: { model: this.model },
          });
        }
        const manifest = v.manifest;
        const enc = guardEncoding(manifest);
        if ('problem' in enc)
          throw new PlaymindError(ErrorCode.CONTRACT_MISMATCH, enc.problem, { details: { model: this.model } });
        const batch = encodeGuardBatch(enc, rows, masks, n);
        const decisions = await runPolicy(this.engine, v as PolicyVersion, {
          rows: batch.rows,
          masks: batch.masks,
          n,
          deadlineMs: this.deadlineMs,
        });
        const actions = new Uint8Array(n);
        for (let i = 0; i < n; i++) actions[i] = enc.actions[decisions[i]!.index ?? 0]!;
        return { tick, actions, model: v.id, outcome: 'model' as const, latencyMs: now() - t0 };
      });
    } catch (err) {
      const e = toPlaymindError(err);
      switch (e.code) {
        case ErrorCode.UNKNOWN_MODEL:
        case ErrorCode.MODEL_UNAVAILABLE:
        case ErrorCode.WRONG_KIND:
        case ErrorCode.CONTRACT_MISMATCH:
          return this.fallback(tick, rows, n, t0, e);
        case ErrorCode.DEADLINE_EXCEEDED:
          return { tick, actions: null, model: '', outcome: 'deadline', latencyMs: now() - t0, error: e };
        case ErrorCode.OVERLOADED:
          return { tick, actions: null, model: '', outcome: 'overloaded', latencyMs: now() - t0, error: e };
        default:
          return { tick, actions: null, model: '', outcome: 'error', latencyMs: now() - t0, error: e };
      }
    }
  }

  /** The heuristic named by the model's manifest (if it is a guard heuristic), else the default. */
  heuristicName(): string {
    const m = this.repository.manifest(this.model);
    const named = m?.kind === 'policy' ? m.policy.fallback?.heuristic : undefined;
    return named !== undefined && named in GUARD_HEURISTICS ? named : this.defaultHeuristic;
  }

  private fallback(tick: number, rows: Float32Array, n: number, t0: number, error: PlaymindError): GuardDecision {
    const name = this.heuristicName();
    const h = GUARD_HEURISTICS[name] ?? GUARD_HEURISTICS['expert-guard']!;
    const actions = new Uint8Array(n);
    for (let i = 0; i < n; i++) actions[i] = h(rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
    return {
      tick,
      actions,
      model: `${this.model}@fallback:${name}`,
      outcome: 'fallback',
      latencyMs: now() - t0,
      error,
    };
  }
}
