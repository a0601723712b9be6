/**
 * What the arena game asks of "decide the guards", the function an adapter
 * injects: one batched decision for every guard of one tick, which never
 * rejects. The server's guard brain (`server/rooms/arena-brain.ts`), the SDK's
 * browser brain (demo offline, `policy-decider.ts`) and a plain policy
 * (evaluation, `episode.ts`) all answer in this shape.
 *
 * @module
 */
import { ACTION, GUARD_ACTION_COUNT } from '../sim/index.js';

/** How a decision ended. */
export type DecisionOutcome =
  /** The model decided. */
  | 'model'
  /** The model could not answer (see {@link GuardDecision.reason}): the fallback heuristic decided. */
  | 'fallback'
  /** The deadline passed and nothing answered (or the answer was not back by the next tick): the guards keep their last actions. */
  | 'deadline'
  /** The engine's queue was full and nothing answered: the guards keep their last actions. */
  | 'overloaded'
  /** The decision failed (bad input, a bug or a broken model): the guards keep their last actions. */
  | 'error'
  /** The scripted expert guard decided (the game's guard mode is `scripted`). */
  | 'scripted';

/** One tick's decision for every guard of an arena. */
export interface GuardDecision {
  /** The tick whose state was observed. */
  readonly tick: number;
  /** One `GUARD_ACTIONS` index per guard, or null when no decision could be made in time. */
  readonly actions: Uint8Array | null;
  /** Who decided: `npc-guard@<version>`, `npc-guard@fallback:<heuristic>`, or '' without actions. */
  readonly model: string;
  readonly outcome: DecisionOutcome;
  /** Milliseconds from the request to its answer. */
  readonly latencyMs: number;
  /** The route that served it (`local`, `remote`, `fallback`), where the decider knows it. */
  readonly servedBy?: string;
  /** Per guard, the probability of each `GUARD_ACTIONS` action, where the model gives them. */
  readonly probabilities?: readonly (Float32Array | undefined)[];
  /** For `fallback`: the error code that made the heuristic answer. */
  readonly reason?: string;
  /** The error behind a `deadline`, `overloaded`, `error` or `fallback` outcome. */
  readonly error?: Error;
}

/**
 * Decides the guards: `rows` are n × `GUARD_FEATURE_COUNT` observations
 * (`GUARD_FEATURES` order), `masks` n × `GUARD_ACTION_COUNT` (1 = allowed).
 * Must not reject (a failure is a decision with `actions: null`).
 */
export type DecideGuards = (tick: number, rows: Float32Array, masks: Float32Array, n: number) => Promise<GuardDecision>;

/**
 * Replaces the actions a mask forbids with `patrol`, or `idle` where patrol is
 * forbidden too (a downed guard). A heuristic may pick forbidden actions; a
 * model's decoder already masks its own. Works in place.
 *
 * @param actions - one `GUARD_ACTIONS` index per guard
 * @param masks - n × `GUARD_ACTION_COUNT`
 * @returns `actions`
 */
export function maskForbiddenActions(actions: Uint8Array, masks: Float32Array): Uint8Array {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (masks[i * GUARD_ACTION_COUNT + a] === 0)
      actions[i] = masks[i * GUARD_ACTION_COUNT + ACTION.patrol] ? ACTION.patrol : ACTION.idle;
  }
  return actions;
}
