/**
 * The arena game's recorder for the decision log: a {@link GameObserver} given to
 * the game at its creation that writes the match as it is played — its setup
 * (seed, configuration, rounds, guard mode), every input with its tick (joins with
 * the player's name, movement, quests taken, finished and abandoned, guard-mode
 * switches, leaves), every guard decision applied (model and version, outcome,
 * route, actions, probabilities), a state hash per tick, and what a shadow
 * candidate decided. Each call is a synchronous encode into the match's open frame
 * (`decision-log-writer.ts`): nothing on the tick path waits for the disk.
 *
 * @example
 * const recorder = new MatchRecorder(decisionLog, { meta: { room: roomId } });
 * const game = new ArenaGame({ decideGuards, observers: [recorder] });
 * // ... play ...
 * await recorder.end('disposed');
 *
 * @module
 */
import type { AppliedDecision, GameInput, GameObserver, GameSetup, TickRecord } from '../game/index.js';
import { GUARD_ACTION_COUNT } from '../sim/index.js';
import type { MatchMeta, ShadowDecision } from './decision-log-format.js';
import type { DecisionLog, MatchLog } from './decision-log-writer.js';

/** Options of {@link MatchRecorder}. */
export interface MatchRecorderOptions {
  /** Names the match's files. @default `<UTC time>-<random>` */
  matchId?: string;
  /** Free-form JSON kept with the setup (room id, models served, canary or not). */
  meta?: MatchMeta;
}

/**
 * Per-guard probabilities as the log stores them (n × 6, `GUARD_ACTIONS` order), or
 * null unless every guard has them.
 */
export function flatProbabilities(
  probabilities: readonly (Float32Array | undefined)[] | null | undefined,
  n: number,
): Float32Array | null {
  if (!probabilities || probabilities.length !== n || n === 0) return null;
  const out = new Float32Array(n * GUARD_ACTION_COUNT);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    if (!p || p.length !== GUARD_ACTION_COUNT) return null;
    out.set(p, i * GUARD_ACTION_COUNT);
  }
  return out;
}

/** See the module documentation. */
export class MatchRecorder implements GameObserver {
  private match: MatchLog | null = null;
  private extraMeta: Record<string, unknown> = {};

  /**
   * @param log - the server's decision log
   * @param options - match id and meta
   */
  constructor(
    private readonly log: DecisionLog,
    private readonly options: MatchRecorderOptions = {},
  ) {}

  /** The match id once the game has started (null before, or when the log refused it). */
  get matchId(): string | null {
    return this.match?.id ?? null;
  }

  /** Whether the match is being recorded. */
  get recording(): boolean {
    return this.match?.recording ?? false;
  }

  /** Adds to the match's meta (before the game starts: the meta is written with the setup). */
  addMeta(meta: MatchMeta): void {
    this.extraMeta = { ...this.extraMeta, ...meta };
  }

  setup(setup: GameSetup): void {
    if (this.match) return;
    this.match = this.log.startMatch({
      ...(this.options.matchId ? { matchId: this.options.matchId } : {}),
      setup,
      meta: { ...this.options.meta, ...this.extraMeta },
    });
  }

  input(input: GameInput): void {
    this.match?.input(input);
  }

  decision(d: AppliedDecision): void {
    const n = d.actions.length;
    this.match?.decision({
      tick: d.tick,
      observedTick: d.observedTick,
      actions: d.actions,
      model: d.model,
      outcome: d.outcome,
      servedBy: d.servedBy,
      probabilities: flatProbabilities(d.probabilities, n),
      reason: d.reason,
    });
  }

  tick(record: TickRecord): void {
    this.match?.tick({ tick: record.tick, hash: record.hash });
  }

  /** What a shadow candidate decided for the guards of one observed tick (not applied). */
  shadow(s: ShadowDecision): void {
    this.match?.shadow(s);
  }

  /**
   * Records the end of the match and writes what is left.
   * @param reason - `disposed`, `shutdown`, ...
   */
  async end(reason: string): Promise<void> {
    await this.match?.end(reason);
  }
}
