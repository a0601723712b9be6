/**
 * Running whole episodes: a guard policy against scripted player bots.
 *
 * **Win rule.** The guards win an episode when, at its end, the players' total
 * score (pickups + quest rewards + guard takedowns) is below
 * `config.winScore`, or as soon as every player is down at the same time (a
 * wipe, which ends the episode early unless `endOnWipe` is false).
 *
 * @module
 */
import { Arena } from './arena.js';
import type { ArenaConfigInput } from './config.js';
import { GUARD_HEURISTICS } from './expert-guard.js';
import { GUARD_ACTION_COUNT, guardActionMasks } from './guard-actions.js';
import { GUARD_FEATURE_COUNT, observeAll } from './guard-observation.js';
import { episodeReturn } from './guard-reward.js';
import { BOT_STYLES, type BotStyle, botInput, botQuestChoice } from './player-bots.js';
import { Rng } from './rng.js';
import { fnvMix, hashHex } from './state-hash.js';
import type { PlayerInput, StepResult } from './types.js';

/**
 * A guard policy: one batch in, one action index per guard out (sync or async).
 *
 * @param obsRows - `n` observation rows, concatenated (`n × GUARD_FEATURE_COUNT`)
 * @param n - the number of guards (rows)
 * @param masks - `n` action masks, concatenated (`n × GUARD_ACTION_COUNT`, 1 = allowed)
 * @param arena - the arena, for policies that read the state (e.g. the arena expert)
 */
export type GuardPolicy = (
  obsRows: Float32Array,
  n: number,
  masks: Float32Array,
  arena: Arena,
) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** What `onStep` receives each tick (buffers are reused: copy what you keep). */
export interface EpisodeStep {
  readonly tick: number;
  /** The observations the policy saw. */
  readonly obs: Float32Array;
  readonly masks: Float32Array;
  readonly actions: ArrayLike<number>;
  readonly result: StepResult;
  readonly arena: Arena;
}

/** Options of {@link runEpisode}. */
export interface EpisodeOptions {
  /** Episode seed (layout, spawns, bot noise). */
  seed: number;
  guardPolicy: GuardPolicy;
  /** One bot per style given; sets the number of players. @default ['fighter', 'collector', 'quester'] */
  bots?: readonly BotStyle[];
  /** @default config.episodeTicks (1200) */
  maxTicks?: number;
  /** Arena configuration overrides. @default {} */
  config?: ArenaConfigInput;
  /** End the episode when all players are down at once. @default true */
  endOnWipe?: boolean;
  /** Called after every step (for trajectories, behaviour cloning, rendering). */
  onStep?: (step: EpisodeStep) => void;
}

/** The outcome of an episode. */
export interface EpisodeResult {
  /** Mean guard return (see `episodeReturn`). */
  return: number;
  /** Each guard's return. */
  guardReturns: number[];
  /** Whether the guards won (see the win rule above). */
  win: boolean;
  /** Whether the players were wiped out. */
  wiped: boolean;
  /** Ticks simulated. */
  ticks: number;
  /** The players' total score. */
  teamScore: number;
  playerDowns: number;
  guardDowns: number;
  /** How often each action was chosen by living guards. */
  actionCounts: number[];
  /** Hex hash of every tick's state: equal seeds and policies give equal hashes. */
  hash: string;
}

/**
 * Runs one episode of a guard policy against scripted bots.
 *
 * @param options - see {@link EpisodeOptions}
 * @returns the outcome
 * @throws TypeError / RangeError for bad options or a policy returning a bad batch
 * @example
 * const r = await runEpisode({ seed: 1, guardPolicy: expertPolicy });
 * console.log(r.return, r.win);
 */
export async function runEpisode(options: EpisodeOptions): Promise<EpisodeResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`'options' must be an object`);
  const { seed, guardPolicy, onStep, endOnWipe = true } = options;
  if (typeof guardPolicy !== 'function') throw new TypeError(`'guardPolicy' must be a function`);
  const bots = options.bots ?? BOT_STYLES;
  for (const b of bots) {
    if (!(BOT_STYLES as readonly string[]).includes(b)) throw new RangeError(`unknown bot style '${String(b)}'`);
  }
  const arena = new Arena({ ...options.config, playerCount: bots.length }, seed);
  const maxTicks = options.maxTicks ?? arena.config.episodeTicks;
  if (!Number.isInteger(maxTicks) || maxTicks < 1)
    throw new RangeError(`'maxTicks' must be an integer >= 1, got ${maxTicks}`);
  const n = arena.guards.length;
  const obs = new Float32Array(n * GUARD_FEATURE_COUNT);
  const inputs = new Map<string, PlayerInput>();
  const actionCounts = new Array<number>(GUARD_ACTION_COUNT).fill(0);
  let hash = arena.stateHash();
  let wiped = false;
  let playerDowns = 0;
  let guardDowns = 0;
  while (arena.tick < maxTicks) {
    observeAll(arena, obs);
    const masks = guardActionMasks(arena);
    const out = guardPolicy(obs, n, masks, arena);
    const actions = out instanceof Promise ? await out : out;
    if (actions === null || typeof actions !== 'object' || actions.length !== n) {
      throw new RangeError(
        `'guardPolicy' must return ${n} actions, got ${actions === null ? 'null' : String((actions as ArrayLike<number>)?.length)}`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (arena.guards[i]?.alive) actionCounts[actions[i] as number] = (actionCounts[actions[i] as number] ?? 0) + 1;
    }
    for (let i = 0; i < arena.players.length; i++) {
      const p = arena.players[i];
      const style = bots[i];
      if (p === undefined || style === undefined) continue;
      const q = botQuestChoice(arena, p.id, style);
      if (q !== null) arena.takeQuest(p.id, q);
      inputs.set(p.id, botInput(arena, p.id, style));
    }
    const result = arena.step(actions, inputs);
    for (const e of result.events) {
      if (e.type === 'player-down') playerDowns++;
      else if (e.type === 'guard-down') guardDowns++;
    }
    hash = fnvMix(hash, arena.stateHash());
    onStep?.({ tick: result.tick, obs, masks, actions, result, arena });
    if (arena.allPlayersDown()) {
      wiped = true;
      if (endOnWipe) break;
    }
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

/**
 * The scripted expert as a batch policy (observation-only version, the one
 * the SDK's fallback runs).
 */
export const expertPolicy: GuardPolicy = heuristicPolicy('expert-guard');

/**
 * A batch policy from a named heuristic of `GUARD_HEURISTICS`.
 *
 * @param name - e.g. `'expert-guard'`
 * @returns the policy
 * @throws RangeError for an unknown name
 */
export function heuristicPolicy(name: string): GuardPolicy {
  const h = GUARD_HEURISTICS[name];
  if (h === undefined)
    throw new RangeError(`unknown heuristic '${name}'; known: ${Object.keys(GUARD_HEURISTICS).join(', ')}`);
  return (obs, n) => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = h(obs.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
    return out;
  };
}

/**
 * A seeded random policy: each guard picks uniformly among its allowed actions.
 *
 * @param seed - the policy's own seed
 * @returns the policy
 */
export function randomPolicy(seed: number): GuardPolicy {
  const rng = new Rng(seed);
  return (_obs, n, masks) => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let allowed = 0;
      for (let a = 0; a < GUARD_ACTION_COUNT; a++) if ((masks[i * GUARD_ACTION_COUNT + a] as number) > 0) allowed++;
      let k = rng.int(allowed);
      for (let a = 0; a < GUARD_ACTION_COUNT; a++) {
        if ((masks[i * GUARD_ACTION_COUNT + a] as number) > 0 && k-- === 0) {
          out[i] = a;
          break;
        }
      }
    }
    return out;
  };
}
