/**
 * What an arena game tells its observers, tick by tick: enough to record a match
 * and to re-run it bit for bit (seed and configuration, every input with the
 * tick it was applied at, every guard decision applied, a state hash per tick).
 *
 * **Timing.** `tick` in an input or a decision is the arena's tick when it took
 * effect: after tick `t` was simulated and before tick `t + 1` is. Re-running
 * means: build the game from {@link GameSetup}, then for each `t` apply the
 * inputs of `t` in their order, make the decision of `t` available, and tick
 * (see `replay.ts`).
 *
 * @module
 */
import type { ArenaConfigInput, BotStyle, PlayerInput, SimEvent } from '../sim/index.js';
import type { DecisionOutcome } from './guard-decision.js';
import type { RoundRules } from './rounds.js';
import type { GuardMode } from './view.js';
import type { ArenaQuest } from './quests.js';

/** How a game was set up: with the inputs and decisions, enough to re-run it. */
export interface GameSetup {
  readonly seed: number;
  /** The arena configuration (without guard and player counts, given apart). */
  readonly arena: ArenaConfigInput;
  readonly guardCount: number;
  readonly minPlayers: number;
  /** The fixed roster of scripted bots, if the game has one. */
  readonly bots: readonly BotStyle[] | null;
  readonly quests: readonly ArenaQuest[];
  /** The round rules, or null for one endless match. */
  readonly rounds: RoundRules | null;
  /** The guard mode at the start. */
  readonly guardMode: GuardMode;
  /** The tick when observing began (0 for an observer given at creation: only that one can re-run the match). */
  readonly tick: number;
  /** The state hash at that tick. */
  readonly hash: number;
}

/** An input, with the tick it took effect at. */
export type GameInput =
  | {
      readonly type: 'join';
      readonly tick: number;
      readonly playerId: string;
      readonly telemetryId: string;
      /** The name the player chose (absent: the game named it). */
      readonly name?: string;
    }
  | { readonly type: 'leave'; readonly tick: number; readonly playerId: string }
  | { readonly type: 'input'; readonly tick: number; readonly playerId: string; readonly input: PlayerInput }
  | { readonly type: 'take-quest'; readonly tick: number; readonly playerId: string; readonly questId: string }
  | { readonly type: 'finish-quest'; readonly tick: number; readonly playerId: string }
  | { readonly type: 'abandon-quest'; readonly tick: number; readonly playerId: string }
  | { readonly type: 'guard-mode'; readonly tick: number; readonly mode: GuardMode };

/** A guard decision as it was applied. */
export interface AppliedDecision {
  /** The tick it took effect at (the arena steps to `tick + 1` with it). */
  readonly tick: number;
  /** The tick whose state was observed (`tick` itself: decisions are pipelined by one tick). */
  readonly observedTick: number;
  /** The actions applied, one `GUARD_ACTIONS` index per guard (after masking). */
  readonly actions: Uint8Array;
  /** `npc-guard@<version>`, `npc-guard@fallback:<heuristic>`, ... */
  readonly model: string;
  readonly outcome: DecisionOutcome;
  /** `local`, `remote`, `fallback`, or '' when the decider does not say. */
  readonly servedBy: string;
  /** For `fallback`: the error code that made the heuristic answer; '' otherwise. */
  readonly reason: string;
  /** Per guard, the probability of each `GUARD_ACTIONS` action, where the model gave them (else null). */
  readonly probabilities: readonly (Float32Array | undefined)[] | null;
}

/** One simulated tick. */
export interface TickRecord {
  readonly tick: number;
  /** `arena.stateHash()` after the tick. */
  readonly hash: number;
  readonly events: readonly SimEvent[];
}

/** Observes a game. Every method is optional; none may throw (a throw is logged and ignored). */
export interface GameObserver {
  /** Once, when the observer is added (the game's setup; `hash` is the state hash at that moment). */
  setup?(setup: GameSetup): void;
  input?(input: GameInput): void;
  decision?(decision: AppliedDecision): void;
  /** After every tick. Observing ticks costs one state hash per tick. */
  tick?(record: TickRecord): void;
}
