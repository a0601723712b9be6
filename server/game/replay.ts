/**
 * Recording a match in memory and re-running it: {@link GameRecorder} observes a
 * game from its creation; {@link replayRecording} builds the same game from the
 * recorded setup, applies the recorded inputs and decisions at their ticks, and
 * compares the state hash of every tick. The recorded decisions are applied, not
 * recomputed: onnxruntime promises no bit-identical results across builds.
 *
 * @example
 * const recorder = new GameRecorder();
 * const game = new ArenaGame({ decideGuards, observers: [recorder] });
 * // ... play ...
 * const { ticks, identicalTicks } = await replayRecording(recorder.recording());
 *
 * @module
 */
import type { SimEvent } from '../sim/index.js';
import { ArenaGame } from './arena-game.js';
import type { DecideGuards, GuardDecision } from './guard-decision.js';
import type { AppliedDecision, GameInput, GameObserver, GameSetup, TickRecord } from './observer.js';
import type { RoundEnd } from './rounds.js';

/** A match as recorded. */
export interface GameRecording {
  readonly setup: GameSetup;
  /** In the order they took effect. */
  readonly inputs: readonly GameInput[];
  readonly decisions: readonly AppliedDecision[];
  /** Every tick's state hash, in order. */
  readonly ticks: readonly { readonly tick: number; readonly hash: number }[];
}

/** Keeps everything a game tells its observers, in memory. */
export class GameRecorder implements GameObserver {
  private setupRecord: GameSetup | null = null;
  private readonly inputs: GameInput[] = [];
  private readonly decisions: AppliedDecision[] = [];
  private readonly ticks: { tick: number; hash: number }[] = [];

  setup(setup: GameSetup): void {
    this.setupRecord = setup;
  }

  input(input: GameInput): void {
    this.inputs.push(input);
  }

  decision(decision: AppliedDecision): void {
    this.decisions.push(decision);
  }

  tick(record: TickRecord): void {
    this.ticks.push({ tick: record.tick, hash: record.hash });
  }

  /**
   * @returns what was recorded so far
   * @throws Error when the recorder never observed a game
   */
  recording(): GameRecording {
    if (!this.setupRecord) throw new Error('the recorder has not observed a game');
    return {
      setup: this.setupRecord,
      inputs: [...this.inputs],
      decisions: [...this.decisions],
      ticks: [...this.ticks],
    };
  }
}

/** The outcome of a replay. */
export interface ReplayResult {
  /** Ticks re-simulated. */
  readonly ticks: number;
  /** Ticks whose state hash equals the recorded one. */
  readonly identicalTicks: number;
  /** The first tick whose hash differs, or null. */
  readonly firstDifference: number | null;
  /** Recorded inputs the game refused and that were skipped (only with `skipRefusedInputs`). */
  readonly skippedInputs: number;
}

/** Options of {@link replayRecording}. */
export interface ReplayOptions {
  /**
   * Decides the guards instead of the recorded decisions: a counterfactual run (another
   * policy facing the recorded player inputs; its hashes differ from the recording's).
   * @default the recorded decisions ({@link recordedDecisions})
   */
  decideGuards?: DecideGuards;
  /**
   * Skip (and count) a recorded input the game refuses — a quest finished in the recording
   * may not be active in a counterfactual run — instead of throwing. @default false
   */
  skipRefusedInputs?: boolean;
  /** Called after every tick with the game (its view, its arena) and the tick's events. */
  onTick?: (game: ArenaGame, events: readonly SimEvent[]) => void;
  /** Called when a round ends. */
  onRoundEnd?: (end: RoundEnd) => void;
}

/** "Decide the guards" that answers with the recorded decisions (none recorded: not back in time). */
export function recordedDecisions(decisions: readonly AppliedDecision[]): DecideGuards {
  const byTick = new Map(decisions.map((d) => [d.observedTick, d]));
  return (tick): Promise<GuardDecision> => {
    const d = byTick.get(tick);
    if (!d) return Promise.resolve({ tick, actions: null, model: '', outcome: 'deadline', latencyMs: 0 });
    return Promise.resolve({
      tick,
      actions: new Uint8Array(d.actions),
      model: d.model,
      outcome: d.outcome,
      servedBy: d.servedBy,
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.probabilities ? { probabilities: d.probabilities } : {}),
      latencyMs: 0,
    });
  };
}

function applyInput(game: ArenaGame, input: GameInput): void {
  switch (input.type) {
    case 'join':
      return game.addHuman(input.playerId, input.telemetryId, input.name);
    case 'leave':
      game.removeHuman(input.playerId);
      return;
    case 'input':
      return game.setInput(input.playerId, input.input);
    case 'take-quest':
      return game.takeQuest(input.playerId, input.questId);
    case 'finish-quest':
      return game.finishQuest(input.playerId);
    case 'abandon-quest':
      return game.abandonQuest(input.playerId);
    case 'guard-mode':
      return game.setGuardMode(input.mode);
  }
}

/**
 * Re-runs a recorded match and checks every tick's state hash.
 *
 * @param recording - from a {@link GameRecorder} given to the game at its creation (or read from a decision log)
 * @param options - a counterfactual decider, per-tick and round hooks
 * @returns ticks re-simulated and how many are identical
 * @throws RangeError when the recording did not start at tick 0
 */
export async function replayRecording(recording: GameRecording, options: ReplayOptions = {}): Promise<ReplayResult> {
  const { setup } = recording;
  if (setup.tick !== 0)
    throw new RangeError(`a replay needs a recording from tick 0, this one starts at ${setup.tick}`);
  const game = new ArenaGame({
    decideGuards: options.decideGuards ?? recordedDecisions(recording.decisions),
    seed: setup.seed,
    arena: setup.arena,
    guardCount: setup.guardCount,
    minPlayers: setup.minPlayers,
    ...(setup.bots ? { bots: setup.bots } : {}),
    quests: setup.quests,
    rounds: setup.rounds ?? null,
    guardMode: setup.guardMode ?? 'model',
    maxDecisionsInFlight: 1,
    ...(options.onRoundEnd ? { onRoundEnd: options.onRoundEnd } : {}),
  });
  let identicalTicks = 0;
  let skippedInputs = 0;
  let firstDifference: number | null = game.stateHash() === setup.hash ? null : 0;
  let next = 0;
  const inputs = recording.inputs;
  try {
    for (const recorded of recording.ticks) {
      while (next < inputs.length && inputs[next]!.tick < recorded.tick) {
        const input = inputs[next++]!;
        if (!options.skipRefusedInputs) applyInput(game, input);
        else {
          try {
            applyInput(game, input);
          } catch {
            skippedInputs++;
          }
        }
      }
      await game.settled();
      const events = game.tick();
      options.onTick?.(game, events);
      if (game.tickCount === recorded.tick && game.stateHash() === recorded.hash) identicalTicks++;
      else firstDifference ??= recorded.tick;
    }
    await game.settled();
  } finally {
    game.close();
  }
  return { ticks: recording.ticks.length, identicalTicks, firstDifference, skippedInputs };
}
