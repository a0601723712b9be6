/**
 * The guards' brain of an arena: one batched decision of the `npc-guard` policy per
 * tick, through the server's {@link Brain} (the SDK's one decision layer, on the
 * shared engine that merges concurrent requests of every arena room into one
 * `session.run`), with a deadline and the game loop's `high` priority.
 *
 * The arena decides in its own contract ({@link GUARD_CONTRACT}: rows in
 * `GUARD_FEATURES` order, masks and actions in `GUARD_ACTIONS` order); the brain
 * adapts it to whichever npc-guard version serves, and — by the SDK's one fallback
 * rule — answers with the heuristic the manifest names (else `expert-guard`) when
 * the model cannot answer: deadline passed, engine overloaded, no version loaded,
 * model missing or not one the arena can feed. Bad input (a non-finite observation)
 * is never hidden by a fallback: the decision then fails and is logged.
 *
 * A decision never rejects: it resolves with the actions and who decided them, or
 * with `actions: null` and the error, in which case the caller keeps the guards'
 * last actions.
 *
 * @module
 */
import {
  ErrorCode,
  PlaymindError,
  policyContract,
  type Brain,
  type PolicyHandle,
  type PolicyManifest,
  type Priority,
} from '../../sdk/public.js';
import { toPlaymindError } from '../../sdk/runtime.js';
import { GUARD_ACTIONS, GUARD_FEATURES } from '../sim/index.js';

/** How a decision ended. */
export type DecisionOutcome =
  /** The model decided. */
  | 'model'
  /** The model could not answer (see {@link GuardDecision.reason}): the fallback heuristic decided. */
  | 'fallback'
  /** The deadline passed and nothing answered: the guards keep their last actions. */
  | 'deadline'
  /** The engine's queue was full and nothing answered: the guards keep their last actions. */
  | 'overloaded'
  /** The decision failed (bad input, a bug or a broken model): the guards keep their last actions. */
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
  /** Per guard, the probability of each `GUARD_ACTIONS` action, where the model gives them. */
  readonly probabilities?: readonly (Float32Array | undefined)[];
  /** For `fallback`: the error code that made the heuristic answer. */
  readonly reason?: string;
  /** The error behind a `deadline`, `overloaded`, `error` or `fallback` outcome. */
  readonly error?: PlaymindError;
}

/** Options of {@link GuardBrain}. */
export interface GuardBrainOptions {
  /** The server's brain (the shared engine and repository, with the guard heuristics registered). */
  brain: Brain;
  /** The policy's name in the repository. @default 'npc-guard' */
  model?: string;
  /** A decision not answered within this time is answered by the fallback. @default 25 */
  deadlineMs?: number;
  /** The heuristic used when the model cannot answer and its manifest names none. @default 'expert-guard' */
  fallbackHeuristic?: string;
  /** The engine priority of the decisions. @default 'high' */
  priority?: Priority;
}

/**
 * The arena's guard contract: rows in `GUARD_FEATURES` order (raw values), masks and
 * actions in `GUARD_ACTIONS` order, `expert-guard` when the model cannot answer.
 */
export function guardContract(model = 'npc-guard', heuristic = 'expert-guard'): PolicyManifest {
  return policyContract({ name: model, features: GUARD_FEATURES, actions: GUARD_ACTIONS, heuristic });
}

/** The guard contract of the shipped model name, `npc-guard`. */
export const GUARD_CONTRACT: PolicyManifest = guardContract();

const now = (): number => performance.now();

/**
 * Decides the guards' actions, one batched request per tick.
 *
 * @example
 * const guards = new GuardBrain({ brain });
 * const d = await guards.decide(arena.tick, observeAll(arena), guardActionMasks(arena), arena.guards.length);
 * if (d.actions) arena.step(d.actions, inputs);
 */
export class GuardBrain {
  /** The policy's name in the repository. */
  readonly model: string;
  /** The per-decision deadline, in ms. */
  readonly deadlineMs: number;
  private readonly policy: PolicyHandle;
  private readonly priority: Priority;
  /** The fallback heuristic the serving version's manifest names (else the contract's). */
  private named: string;
  /** The model label (`npc-guard@2`) whose manifest `named` was read from. */
  private namedFor = '';

  /**
   * @param options - the brain, model name, deadline
   * @throws TypeError when `brain` is missing; RangeError for a bad deadline
   */
  constructor(options: GuardBrainOptions) {
    if (!options || typeof options !== 'object') throw new TypeError(`'options' must be an object`);
    if (!options.brain || typeof options.brain.policy !== 'function')
      throw new TypeError(`'options.brain' must be a Brain`);
    const deadline = options.deadlineMs ?? 25;
    if (!Number.isFinite(deadline) || deadline <= 0)
      throw new RangeError(`'options.deadlineMs' must be > 0, got ${String(options.deadlineMs)}`);
    this.model = options.model ?? 'npc-guard';
    this.deadlineMs = deadline;
    this.priority = options.priority ?? 'high';
    const contract =
      this.model === 'npc-guard' && options.fallbackHeuristic === undefined
        ? GUARD_CONTRACT
        : guardContract(this.model, options.fallbackHeuristic);
    this.policy = options.brain.policy(this.model, { contract });
    this.named = contract.policy.fallback?.heuristic ?? 'expert-guard';
    this.readNamed(''); // known before the first answer when a version is loaded
  }

  /**
   * The heuristic that answers for the model: the one the serving version's manifest names
   * (`policy.fallback.heuristic`), else the contract's. Read again whenever another version
   * answers; a late tick (`ArenaGame`'s `lateFallback`) decides with it too.
   */
  get heuristic(): string {
    return this.named;
  }

  /** Keeps {@link heuristic} in step with the version that answered `label`. */
  private follow(label: string): void {
    if (label === this.namedFor) return;
    this.namedFor = label;
    const fallback = /@fallback:(.+)$/.exec(label);
    if (fallback) this.named = fallback[1]!;
    else this.readNamed(label);
  }

  /** Reads the serving manifest's heuristic, kept if `label` is still the last version seen. */
  private readNamed(label: string): void {
    this.policy.manifest().then(
      (m) => {
        if (this.namedFor === label) this.named = m.policy.fallback?.heuristic ?? this.named;
      },
      () => undefined,
    );
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
      const ds = await this.policy.decide(rows.subarray(0, n * GUARD_FEATURES.length), {
        masks: masks.subarray(0, n * GUARD_ACTIONS.length),
        deadlineMs: this.deadlineMs,
        priority: this.priority,
      });
      const actions = new Uint8Array(n);
      for (let i = 0; i < n; i++) actions[i] = ds[i]!.index ?? 0;
      const first = ds[0]!;
      const probabilities = first.probabilities ? ds.map((d) => d.probabilities) : undefined;
      const latencyMs = now() - t0;
      this.follow(first.model);
      if (first.servedBy !== 'fallback')
        return {
          tick,
          actions,
          model: first.model,
          outcome: 'model',
          latencyMs,
          ...(probabilities ? { probabilities } : {}),
        };
      const reason = first.reason ?? ErrorCode.MODEL_UNAVAILABLE;
      return {
        tick,
        actions,
        model: first.model,
        outcome: 'fallback',
        latencyMs,
        reason,
        error: new PlaymindError(reason, `${this.model} could not answer (${reason}); ${first.model} decided`),
      };
    } catch (err) {
      const e = toPlaymindError(err);
      const outcome =
        e.code === ErrorCode.DEADLINE_EXCEEDED ? 'deadline' : e.code === ErrorCode.OVERLOADED ? 'overloaded' : 'error';
      return { tick, actions: null, model: '', outcome, latencyMs: now() - t0, error: e };
    }
  }
}
