/**
 * Rounds of the arena game: the players, together, must reach `goal` points
 * (a point per guard downed and per gold picked up, plus quest rewards) within
 * `ticks` ticks, or the guards win the round — the win condition the npc-guard
 * model was trained and evaluated on (`server/sim`'s `winScore` in
 * `episodeTicks`). When a round ends every score starts from zero again and the
 * next round begins at once.
 *
 * @module
 */
import { DEFAULT_ARENA_CONFIG } from '../sim/index.js';

/** How rounds are played. */
export interface RoundRules {
  /** Ticks a round lasts. @default 1200 (a minute at 20 Hz, the training episode) */
  readonly ticks: number;
  /** Team points the players need to win it. @default 20 (the simulation's `winScore`) */
  readonly goal: number;
}

/** The default rules: the simulation's episode and win score. */
export const DEFAULT_ROUND_RULES: Readonly<RoundRules> = Object.freeze({
  ticks: DEFAULT_ARENA_CONFIG.episodeTicks,
  goal: DEFAULT_ARENA_CONFIG.winScore,
});

/** Who won a round. */
export type RoundWinner = 'players' | 'guards';

/** A round that ended. */
export interface RoundEnd {
  readonly round: number;
  readonly winner: RoundWinner;
  /** Team points it ended with. */
  readonly score: number;
  /** Each player's points, by id. */
  readonly scores: ReadonlyMap<string, number>;
}

/** The rounds' state, as synced to players. */
export interface RoundFields {
  /** The current round, 1 for the first (0: the arena plays no rounds). */
  round: number;
  /** Ticks until it ends. */
  roundTicksLeft: number;
  /** Team points needed. */
  roundGoal: number;
  /** Team points so far. */
  teamScore: number;
  /** Who won the last round ('' before the first end). */
  lastRoundWinner: string;
  /** Team points the last round ended with. */
  lastRoundScore: number;
}

/** Fields of an arena without rounds. */
export const NO_ROUNDS: Readonly<RoundFields> = Object.freeze({
  round: 0,
  roundTicksLeft: 0,
  roundGoal: 0,
  teamScore: 0,
  lastRoundWinner: '',
  lastRoundScore: 0,
});

/** Counts rounds (see the module documentation). */
export class Rounds {
  private round = 1;
  private startTick: number;
  private last: RoundEnd | null = null;

  /**
   * @param rules - how rounds are played
   * @param tick - the tick the first round starts at
   */
  constructor(
    readonly rules: Readonly<RoundRules>,
    tick: number,
  ) {
    this.startTick = tick;
  }

  /** The round that ended last, or null. */
  get lastEnd(): RoundEnd | null {
    return this.last;
  }

  /**
   * Called after each tick with every player's points.
   *
   * @returns the round that ended at this tick (the caller resets the scores), or null
   */
  update(tick: number, scores: ReadonlyMap<string, number>): RoundEnd | null {
    let team = 0;
    for (const s of scores.values()) team += s;
    const won = team >= this.rules.goal;
    if (!won && tick - this.startTick < this.rules.ticks) return null;
    const end: RoundEnd = { round: this.round, winner: won ? 'players' : 'guards', score: team, scores };
    this.last = end;
    this.round++;
    this.startTick = tick;
    return end;
  }

  /** Writes the synced fields. */
  write(tick: number, teamScore: number, into: RoundFields): void {
    into.round = this.round;
    into.roundTicksLeft = Math.max(0, this.startTick + this.rules.ticks - tick);
    into.roundGoal = this.rules.goal;
    into.teamScore = teamScore;
    into.lastRoundWinner = this.last?.winner ?? '';
    into.lastRoundScore = this.last?.score ?? 0;
  }
}
