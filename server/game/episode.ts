/**
 * A whole episode played through the arena game: a guard policy against a fixed
 * roster of scripted bots, in lockstep (each tick waits for its decision). It
 * gives the same episode, tick for tick, as the simulation's own `runEpisode`
 * (same hash, return and counts; a unit test holds them equal): the evaluation
 * plays through the game, training's rollouts use the leaner `runEpisode`.
 *
 * @module
 */
import {
  BOT_STYLES,
  episodeReturn,
  type EpisodeOptions,
  type EpisodeResult,
  GUARD_ACTION_COUNT,
} from '../sim/index.js';
import { fnvMix, hashHex } from '../sim/state-hash.js';
import { ArenaGame } from './arena-game.js';
import type { DecideGuards, GuardDecision } from './guard-decision.js';

/** Options of {@link playEpisode}: those of `runEpisode`, without `onStep`. */
export type PlayEpisodeOptions = Omit<EpisodeOptions, 'onStep'>;

/**
 * Plays one episode of a guard policy against scripted bots through {@link ArenaGame}.
 *
 * @param options - as `runEpisode`'s
 * @returns the outcome, as `runEpisode` gives it
 * @throws TypeError / RangeError for bad options or a policy returning a bad batch
 * @example const r = await playEpisode({ seed: 1, guardPolicy: expertPolicy });
 */
export async function playEpisode(options: PlayEpisodeOptions): Promise<EpisodeResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`'options' must be an object`);
  const { seed, guardPolicy, endOnWipe = true } = options;
  if (typeof guardPolicy !== 'function') throw new TypeError(`'guardPolicy' must be a function`);
  const bots = options.bots ?? BOT_STYLES;
  const actionCounts = new Array<number>(GUARD_ACTION_COUNT).fill(0);
  let failure: unknown = null;
  let maxTicks = Infinity;
  /** The game, once its constructor (which issues the first decision) has returned. */
  const created: { game?: ArenaGame } = {};
  const decide: DecideGuards = async (tick, rows, masks, n): Promise<GuardDecision> => {
    await Promise.resolve(); // the first call comes from the game's constructor: let it return first
    const arena = created.game!.arena;
    const over = tick >= maxTicks || (endOnWipe && arena.allPlayersDown());
    if (over || failure !== null) return { tick, actions: null, model: '', outcome: 'deadline', latencyMs: 0 };
    try {
      const out = await guardPolicy(rows, n, masks, arena);
      if (out === null || typeof out !== 'object' || out.length !== n) {
        throw new RangeError(
          `'guardPolicy' must return ${n} actions, got ${out === null ? 'null' : String((out as ArrayLike<number>)?.length)}`,
        );
      }
      const actions = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const a = out[i]!;
        if (!Number.isInteger(a) || a < 0 || a >= GUARD_ACTION_COUNT)
          throw new RangeError(`'guardPolicy' returned action ${String(a)} for guard g${i}`);
        actions[i] = a;
        if (arena.guards[i]?.alive) actionCounts[a] = (actionCounts[a] ?? 0) + 1;
      }
      return { tick, actions, model: 'policy', outcome: 'model', latencyMs: 0 };
    } catch (err) {
      failure = err;
      return { tick, actions: null, model: '', outcome: 'error', latencyMs: 0 };
    }
  };
  const game = new ArenaGame({
    decideGuards: decide,
    seed,
    arena: options.config ?? {},
    guardCount: options.config?.guardCount,
    bots,
    minPlayers: 0,
    maxDecisionsInFlight: 1,
    traceLength: 1,
  });
  created.game = game;
  const arena = game.arena;
  maxTicks = options.maxTicks ?? arena.config.episodeTicks;
  if (!Number.isInteger(maxTicks) || maxTicks < 1)
    throw new RangeError(`'maxTicks' must be an integer >= 1, got ${maxTicks}`);
  let hash = arena.stateHash();
  let wiped = false;
  let playerDowns = 0;
  let guardDowns = 0;
  try {
    while (arena.tick < maxTicks) {
      await game.settled();
      if (failure !== null) throw failure;
      for (const e of game.tick()) {
        if (e.type === 'player-down') playerDowns++;
        else if (e.type === 'guard-down') guardDowns++;
      }
      hash = fnvMix(hash, arena.stateHash());
      if (arena.allPlayersDown()) {
        wiped = true;
        if (endOnWipe) break;
      }
    }
    await game.settled();
  } finally {
    game.close();
  }
  const teamScore = arena.teamScore();
  return {
    return: episodeReturn(arena),
    guardReturns: Array.from(arena.guardReturns),
    win: wiped || teamScore < arena.config.winScore,
    wiped,
    ticks: arena.tick,
    teamScore,
    playerDowns,
    guardDowns,
    actionCounts,
    hash: hashHex(hash),
  };
}
